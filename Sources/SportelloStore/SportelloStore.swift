import SportelloCore

/// Storage for tenants' data (SQLKit over SQLite and PostgreSQL) arrives with the storage issue;
/// this module exists now so the layer order sportello → Web → Store → Core is fixed from the start.
public enum SportelloStore {
    public static let coreVersion = SportelloCoreInfo.version
}
