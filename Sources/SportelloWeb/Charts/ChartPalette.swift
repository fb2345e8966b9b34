import Foundation
import SportelloCore

/// The colours of a chart on its white ground: the tenant's brand colour first, darkened (hue kept) until it
/// reaches 3:1 against white (WCAG 1.4.11, graphical objects); then the tenant's secondary colour or a neutral
/// slate, distinct from the first. Text uses fixed greys of at least 4.5:1. Series never differ by colour
/// alone: the renderer adds a hatch, a dash and a marker shape per series (WCAG 1.4.1).
struct ChartPalette: Sendable {
    static let background = "#ffffff"
    /// Titles, values (16:1 on white).
    static let text = "#1b1b1b"
    /// Tick and category labels (7.5:1 on white).
    static let mutedText = "#4b5563"
    /// Gridlines: a guide only, the ticks carry the values.
    static let grid = "#d0d4da"
    /// The zero line and the axis baseline (4.8:1 on white).
    static let axis = "#6b7280"
    /// The least contrast a series colour has against the background.
    static let minimumContrast = 3.0

    private static let fallbackPrimary = "#1f4e79"
    private static let neutrals = ["#374151", "#6b21a8", "#0f766e"]

    /// Series colours in order (`#rrggbb`), each at least 3:1 against white.
    let colours: [String]

    init(primary: String?, secondary: String? = nil) {
        let first = Self.readable(primary) ?? Self.fallbackPrimary
        var colours = [first]
        for candidate in [secondary] + Self.neutrals.map(Optional.some) {
            guard let colour = Self.readable(candidate), colours.allSatisfy({ Self.distinct(colour, $0) }) else { continue }
            colours.append(colour)
        }
        self.colours = colours
    }

    /// The tenant's brand colours (`primary_color`, then `secondary_color`).
    init(branding: Branding) {
        self.init(primary: branding.primaryColor, secondary: branding.secondaryColor)
    }

    /// The colour of the series at `index`.
    func colour(_ index: Int) -> String { colours[index % colours.count] }

    /// `colour` as `#rrggbb`, darkened to 3:1 against white when it is lighter; nil when it is not a hex colour.
    static func readable(_ colour: String?) -> String? {
        guard let colour = colour?.trimmingCharacters(in: .whitespaces), let rgb = ReadableColour.components(colour) else { return nil }
        if let darker = ReadableColour.darkened(colour, against: [background], minimum: minimumContrast + 0.05) { return darker }
        return String(format: "#%02x%02x%02x", Int(rgb.0), Int(rgb.1), Int(rgb.2))
    }

    /// The contrast of `colour` against the chart's background.
    static func contrast(_ colour: String) -> Double {
        guard let rgb = ReadableColour.components(colour), let ground = ReadableColour.components(background) else { return 0 }
        return ReadableColour.contrast(rgb, ground)
    }

    /// Two colours a reader tells apart: far enough in RGB or in lightness.
    private static func distinct(_ first: String, _ second: String) -> Bool {
        guard let a = ReadableColour.components(first), let b = ReadableColour.components(second) else { return false }
        let distance = ((a.0 - b.0) * (a.0 - b.0) + (a.1 - b.1) * (a.1 - b.1) + (a.2 - b.2) * (a.2 - b.2)).squareRoot()
        return distance >= 120 || ReadableColour.contrast(a, b) >= 1.8
    }
}
