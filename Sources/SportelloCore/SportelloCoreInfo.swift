/// Version information shared by every layer.
public enum SportelloCoreInfo {
    public static let version = "0.1.0"
}
