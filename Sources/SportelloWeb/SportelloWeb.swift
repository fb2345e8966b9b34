import SportelloStore

/// The HTTP layer (Hummingbird, templates, JSON API) arrives with the portal issue; this module
/// exists now so the layer order sportello → Web → Store → Core is fixed from the start.
public enum SportelloWeb {
    public static let engines: [DatabaseEngine] = [.sqlite, .postgres]
}
