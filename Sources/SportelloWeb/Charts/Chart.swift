import Foundation
import SportelloApplication

/// A chart to draw on a page: categories along the horizontal axis (months, days…), one or more series of
/// numbers, and one value axis per unit. Every text is already in the reader's language; the renderer escapes it.
/// Series on the same axis share a panel; series on different axes (traffic in GB, cost in €) get panels of
/// their own, stacked over the same categories, so no reader has to match a bar to one of two scales.
struct Chart: Sendable {
    enum Kind: Sendable { case bar, line }

    /// One position along the horizontal axis.
    struct Category: Sendable {
        /// The full name (the data table, the tooltips): "gennaio 2025".
        var label: String
        /// What the axis prints under the position, one or two short lines: ["gen", "2025"].
        var axisLines: [String]

        init(_ label: String, axisLines: [String]? = nil) {
            self.label = label
            self.axisLines = axisLines ?? [label]
        }
    }

    /// A value axis: its unit and how its numbers read.
    struct Axis: Sendable {
        var format: ChartValueFormat
    }

    /// A named row of numbers, one per category (nil: no value for that category).
    struct Series: Sendable {
        var label: String
        var kind: Kind
        /// Index into `axes`.
        var axis: Int
        var values: [Double?]

        init(_ label: String, kind: Kind = .bar, axis: Int = 0, values: [Double?]) {
            self.label = label
            self.kind = kind
            self.axis = axis
            self.values = values
        }
    }

    /// The chart's own words besides its data.
    struct Texts: Sendable {
        /// Shown instead of the chart when there is nothing to draw.
        var noData: String
        /// The summary of the `<details>` holding the data table.
        var table: String
        /// The header of the table's first column ("Mese").
        var categoryHeader: String
    }

    /// The prefix of every id in the markup; unique on the page.
    var id: String
    var title: String
    /// What the chart shows, for assistive technology (`<desc>`).
    var description: String
    var categories: [Category]
    var axes: [Axis]
    var series: [Series]
    var texts: Texts

    /// Nothing to draw: no categories, no series, or no value at all.
    var isEmpty: Bool {
        categories.isEmpty || !series.contains { $0.values.prefix(categories.count).contains { $0 != nil } }
    }
}

/// How the numbers of one axis read, in one locale (the platform's `Formatting`: `1.234,50 €` in Italian).
struct ChartValueFormat: Sendable {
    enum Style: Sendable {
        /// Euros; values are in euros (not cents).
        case money
        /// A plain number with a unit (`GB`, `min`, or none) and a fixed number of decimals.
        case number(unit: String, fractionDigits: Int)
    }

    var style: Style
    var locale: String

    static func money(locale: String) -> ChartValueFormat { .init(style: .money, locale: locale) }

    static func number(unit: String, fractionDigits: Int, locale: String) -> ChartValueFormat {
        .init(style: .number(unit: unit, fractionDigits: fractionDigits), locale: locale)
    }

    /// The unit the axis names (`€`, `GB`; empty for a count).
    var unit: String {
        switch style {
        case .money: "€"
        case .number(let unit, _): unit
        }
    }

    /// A value in full, unit included (table cells, tooltips).
    func value(_ value: Double) -> String {
        switch style {
        case .money:
            return Formatting.money(Int64((value * 100).rounded()), locale: locale)
        case .number(let unit, let digits):
            let number = Formatting.decimal(value, fractionDigits: digits, locale: locale)
            return unit.isEmpty ? number : "\(number) \(unit)"
        }
    }

    /// The finest step between ticks: one unit of the last decimal shown.
    var minimumStep: Double {
        switch style {
        case .money: 0.01
        case .number(_, let digits): pow(10, -Double(min(max(digits, 0), 9)))
        }
    }

    /// A tick label: just the number, with as many decimals as the step between ticks needs.
    func tick(_ value: Double, step: Double) -> String {
        Formatting.decimal(value, fractionDigits: ChartScale.fractionDigits(for: step), locale: locale)
    }
}
