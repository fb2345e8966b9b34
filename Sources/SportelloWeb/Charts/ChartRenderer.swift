import Foundation
import SportelloCore

extension Chart {
    /// The chart as HTML with no script: an inline `<svg role="img">` named by its `<title>` and described by
    /// its `<desc>`, followed by the same figures in a `<table>` (caption, header cells with scope) inside a
    /// `<details>` that starts open; or, when there is nothing to draw, the no-data text alone. Every text goes
    /// through `HTMLEscaping`; colours are presentation attributes (the portal's CSP forbids inline styles).
    func html(palette: ChartPalette) -> String {
        let prefix = Self.safeId(id)
        guard !isEmpty else {
            return "<div class=\"chart chart-empty\" id=\"\(prefix)\"><p class=\"empty\">\(HTMLEscaping.escape(texts.noData))</p></div>"
        }
        // On a narrow screen the drawing scrolls sideways rather than shrinking its text; the scroller takes the
        // keyboard focus so it can be scrolled without a mouse.
        return "<div class=\"chart\" id=\"\(prefix)\">\n<div class=\"chart-scroll\" role=\"group\" aria-labelledby=\"\(prefix)-title\" tabindex=\"0\">"
            + svg(prefix: prefix, palette: palette) + "</div>\n"
            + table() + "\n</div>"
    }

    /// `text` reduced to the characters an id may carry, starting with a letter.
    static func safeId(_ text: String) -> String {
        let kept = String(text.filter { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") })
        guard let first = kept.first else { return "chart" }
        return first.isLetter ? kept : "chart-\(kept)"
    }

    // MARK: Table

    private func table() -> String {
        let shown = series.filter { !$0.values.isEmpty }
        var html = "<details class=\"chart-data\" open>\n<summary>\(HTMLEscaping.escape(texts.table))</summary>\n"
        html += "<div class=\"table-scroll\"><table class=\"chart-table\">\n<caption>\(HTMLEscaping.escape(title))</caption>\n"
        html += "<thead><tr><th scope=\"col\">\(HTMLEscaping.escape(texts.categoryHeader))</th>"
        for entry in shown { html += "<th scope=\"col\" class=\"amount\">\(HTMLEscaping.escape(entry.label))</th>" }
        html += "</tr></thead>\n<tbody>\n"
        for (index, category) in categories.enumerated() {
            html += "<tr><th scope=\"row\">\(HTMLEscaping.escape(category.label))</th>"
            for entry in shown {
                let value = index < entry.values.count ? entry.values[index] : nil
                html += "<td class=\"amount\">\(HTMLEscaping.escape(value.map { formatted($0, entry) } ?? "–"))</td>"
            }
            html += "</tr>\n"
        }
        return html + "</tbody>\n</table></div>\n</details>"
    }

    private func format(of entry: Series) -> ChartValueFormat {
        axes.indices.contains(entry.axis) ? axes[entry.axis].format : .number(unit: "", fractionDigits: 2, locale: "it")
    }

    private func formatted(_ value: Double, _ entry: Series) -> String { format(of: entry).value(value) }

    // MARK: SVG

    private enum Layout {
        static let width = 640.0
        static let right = 16.0
        static let top = 8.0
        static let headingLine = 22.0
        static let plotHeight = 150.0
        static let labelLine = 15.0
        static let panelGap = 20.0
        static let fontSize = 13.0
        static let tickFontSize = 12.0
        /// A generous average glyph width, as a share of the font size (labels are measured, not rendered, here).
        static let glyph = 0.62
    }

    private struct Panel {
        var format: ChartValueFormat
        var members: [Int]
        var ticks: [Double]
        var step: Double
        var headingLines: [[(member: Int, x: Double)]]
    }

    private func textWidth(_ text: String, size: Double) -> Double { Double(text.count) * size * Layout.glyph }

    private func heading(_ entry: Series, format: ChartValueFormat) -> String {
        format.unit.isEmpty ? entry.label : "\(entry.label) (\(format.unit))"
    }

    private func panels() -> [Panel] {
        var result: [Panel] = []
        let count = categories.count
        let axisIds = axes.indices.filter { axis in series.contains { $0.axis == axis } }
        for axis in axisIds {
            let members = series.indices.filter { series[$0].axis == axis }
            let values = members.flatMap { series[$0].values.prefix(count).compactMap { $0 } }.filter(\.isFinite)
            let ticks = ChartScale.ticks(minimum: values.min() ?? 0, maximum: values.max() ?? 0, minimumStep: axes[axis].format.minimumStep)
            let step = ticks.count > 1 ? ticks[1] - ticks[0] : 1
            // The heading doubles as the legend: a swatch and the series' name with its unit, wrapping when long.
            var lines: [[(member: Int, x: Double)]] = [[]]
            var x = 8.0
            for member in members {
                let width = 22 + textWidth(heading(series[member], format: axes[axis].format), size: Layout.fontSize)
                if x + width > Layout.width - Layout.right, !(lines.last?.isEmpty ?? true) {
                    lines.append([])
                    x = 8
                }
                lines[lines.count - 1].append((member, x))
                x += width + 18
            }
            result.append(Panel(format: axes[axis].format, members: members, ticks: ticks, step: step, headingLines: lines))
        }
        return result
    }

    private func svg(prefix: String, palette: ChartPalette) -> String {
        let panels = panels()
        let count = categories.count
        let tickWidth = panels.flatMap { panel in panel.ticks.map { textWidth(panel.format.tick($0, step: panel.step), size: Layout.tickFontSize) } }.max() ?? 0
        let left = max(40, (tickWidth + 14).rounded(.up))
        let plotWidth = Layout.width - Layout.right - left
        let slot = plotWidth / Double(count)
        let labelLines = Double(categories.map { $0.axisLines.count }.max() ?? 1)
        let widestLabel = categories.flatMap { $0.axisLines.map { textWidth($0, size: Layout.tickFontSize) } }.max() ?? 0
        let labelEvery = max(1, Int(((widestLabel + 8) / slot).rounded(.up)))

        var body = ""
        var y = Layout.top
        for panel in panels {
            // Heading and legend.
            for line in panel.headingLines {
                let baseline = y + 16
                for (member, x) in line {
                    body += swatch(member, x: x, baseline: baseline, prefix: prefix, palette: palette)
                    body += "<text x=\"\(n(x + 22))\" y=\"\(n(baseline))\" font-size=\"\(n(Layout.fontSize))\" font-weight=\"600\" fill=\"\(ChartPalette.text)\">"
                        + HTMLEscaping.escape(heading(series[member], format: panel.format)) + "</text>"
                }
                y += Layout.headingLine
            }
            y += 8
            let plotTop = y, plotBottom = y + Layout.plotHeight
            let low = panel.ticks.first ?? 0, high = panel.ticks.last ?? 1
            func position(_ value: Double) -> Double { plotTop + (high - value) / (high - low) * (plotBottom - plotTop) }
            // Gridlines and ticks.
            for tick in panel.ticks {
                let ty = position(tick)
                let colour = tick == 0 ? ChartPalette.axis : ChartPalette.grid
                body += "<line x1=\"\(n(left))\" x2=\"\(n(left + plotWidth))\" y1=\"\(n(ty))\" y2=\"\(n(ty))\" stroke=\"\(colour)\" stroke-width=\"1\"/>"
                body += "<text x=\"\(n(left - 8))\" y=\"\(n(ty))\" dy=\"0.35em\" text-anchor=\"end\" font-size=\"\(n(Layout.tickFontSize))\" fill=\"\(ChartPalette.mutedText)\">"
                    + HTMLEscaping.escape(panel.format.tick(tick, step: panel.step)) + "</text>"
            }
            // Bars, grouped side by side within a category's slot.
            let bars = panel.members.filter { series[$0].kind == .bar }
            let group = slot * 0.72
            let barWidth = bars.isEmpty ? 0 : group / Double(bars.count)
            let zero = position(0)
            for (place, member) in bars.enumerated() {
                let entry = series[member]
                let fill = member == 0 ? palette.colour(member) : "url(#\(prefix)-hatch-\(member))"
                for index in 0..<count {
                    guard index < entry.values.count, let value = entry.values[index], value.isFinite else { continue }
                    let x = left + Double(index) * slot + (slot - group) / 2 + Double(place) * barWidth
                    var top = min(position(value), zero), height = abs(position(value) - zero)
                    if value != 0 && height < 1 {
                        height = 1
                        if value > 0 { top = zero - 1 }
                    }
                    let gap = bars.count > 1 ? 1.0 : 0
                    body += "<rect x=\"\(n(x + gap))\" y=\"\(n(top))\" width=\"\(n(max(barWidth - 2 * gap, 1)))\" height=\"\(n(height))\" fill=\"\(fill)\" stroke=\"\(palette.colour(member))\" stroke-width=\"1.5\">"
                        + "<title>\(HTMLEscaping.escape(markTitle(index, entry)))</title></rect>"
                }
            }
            // Lines with a marker on every value; a missing value breaks the line.
            for member in panel.members where series[member].kind == .line {
                let entry = series[member]
                let colour = palette.colour(member)
                var runs: [[(Double, Double)]] = [[]]
                for index in 0..<count {
                    guard index < entry.values.count, let value = entry.values[index], value.isFinite else {
                        if !(runs.last?.isEmpty ?? true) { runs.append([]) }
                        continue
                    }
                    runs[runs.count - 1].append((left + (Double(index) + 0.5) * slot, position(value)))
                }
                for run in runs where run.count > 1 {
                    let points = run.map { "\(n($0.0)),\(n($0.1))" }.joined(separator: " ")
                    body += "<polyline points=\"\(points)\" fill=\"none\" stroke=\"\(colour)\" stroke-width=\"2.5\"\(dash(member))/>"
                }
                for index in 0..<count {
                    guard index < entry.values.count, let value = entry.values[index], value.isFinite else { continue }
                    body += marker(member, x: left + (Double(index) + 0.5) * slot, y: position(value), colour: colour,
                                   title: markTitle(index, entry))
                }
            }
            // Category labels under the plot, thinned out when they would overlap.
            for (index, category) in categories.enumerated() where index % labelEvery == 0 {
                let x = left + (Double(index) + 0.5) * slot
                for (line, text) in category.axisLines.enumerated() {
                    body += "<text x=\"\(n(x))\" y=\"\(n(plotBottom + 16 + Double(line) * Layout.labelLine))\" text-anchor=\"middle\" font-size=\"\(n(Layout.tickFontSize))\" fill=\"\(ChartPalette.mutedText)\">"
                        + HTMLEscaping.escape(text) + "</text>"
                }
            }
            y = plotBottom + 8 + labelLines * Layout.labelLine + Layout.panelGap
        }
        let height = (y - Layout.panelGap + 8).rounded(.up)
        var defs = ""
        for member in series.indices where member > 0 && series[member].kind == .bar {
            let angle = [45, -45, 90][(member - 1) % 3]
            defs += "<pattern id=\"\(prefix)-hatch-\(member)\" width=\"6\" height=\"6\" patternUnits=\"userSpaceOnUse\" patternTransform=\"rotate(\(angle))\">"
                + "<rect width=\"6\" height=\"6\" fill=\"\(ChartPalette.background)\"/><rect width=\"3\" height=\"6\" fill=\"\(palette.colour(member))\"/></pattern>"
        }
        return "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart-svg\" viewBox=\"0 0 \(n(Layout.width)) \(n(height))\" width=\"\(n(Layout.width))\" height=\"\(n(height))\" role=\"img\" aria-labelledby=\"\(prefix)-title\" aria-describedby=\"\(prefix)-desc\">"
            + "<title id=\"\(prefix)-title\">\(HTMLEscaping.escape(title))</title><desc id=\"\(prefix)-desc\">\(HTMLEscaping.escape(description))</desc>"
            + (defs.isEmpty ? "" : "<defs>\(defs)</defs>")
            + "<rect width=\"\(n(Layout.width))\" height=\"\(n(height))\" fill=\"\(ChartPalette.background)\"/>"
            + body + "</svg>"
    }

    private func markTitle(_ index: Int, _ entry: Series) -> String {
        guard index < entry.values.count, let value = entry.values[index] else { return categories[index].label }
        return "\(categories[index].label) – \(entry.label): \(formatted(value, entry))"
    }

    /// Dash patterns by series: solid, dashed, dotted, dash-dot.
    private func dash(_ member: Int) -> String {
        let patterns = ["", "6 4", "2 3", "10 3 2 3"]
        let pattern = patterns[member % patterns.count]
        return pattern.isEmpty ? "" : " stroke-dasharray=\"\(pattern)\""
    }

    /// Marker shapes by series: circle, square, diamond, triangle.
    private func marker(_ member: Int, x: Double, y: Double, colour: String, title: String? = nil) -> String {
        let inner = title.map { "<title>\(HTMLEscaping.escape($0))</title>" } ?? ""
        let attributes = "fill=\"\(colour)\" stroke=\"\(ChartPalette.background)\" stroke-width=\"1.5\""
        switch member % 4 {
        case 0:
            return "<circle cx=\"\(n(x))\" cy=\"\(n(y))\" r=\"4.5\" \(attributes)>\(inner)</circle>"
        case 1:
            return "<rect x=\"\(n(x - 4.5))\" y=\"\(n(y - 4.5))\" width=\"9\" height=\"9\" \(attributes)>\(inner)</rect>"
        case 2:
            return "<polygon points=\"\(n(x)),\(n(y - 6)) \(n(x + 6)),\(n(y)) \(n(x)),\(n(y + 6)) \(n(x - 6)),\(n(y))\" \(attributes)>\(inner)</polygon>"
        default:
            return "<polygon points=\"\(n(x)),\(n(y - 6)) \(n(x + 6)),\(n(y + 4.5)) \(n(x - 6)),\(n(y + 4.5))\" \(attributes)>\(inner)</polygon>"
        }
    }

    /// The legend's sample of a series, drawn as the series is (solid or hatched bar; line with dash and marker).
    private func swatch(_ member: Int, x: Double, baseline: Double, prefix: String, palette: ChartPalette) -> String {
        let colour = palette.colour(member)
        switch series[member].kind {
        case .bar:
            let fill = member == 0 ? colour : "url(#\(prefix)-hatch-\(member))"
            return "<rect x=\"\(n(x))\" y=\"\(n(baseline - 12))\" width=\"14\" height=\"14\" fill=\"\(fill)\" stroke=\"\(colour)\" stroke-width=\"1.5\"/>"
        case .line:
            let middle = baseline - 5
            return "<line x1=\"\(n(x - 2))\" x2=\"\(n(x + 16))\" y1=\"\(n(middle))\" y2=\"\(n(middle))\" stroke=\"\(colour)\" stroke-width=\"2.5\"\(dash(member))/>"
                + marker(member, x: x + 7, y: middle, colour: colour)
        }
    }

    /// A coordinate with at most one decimal, `.` as separator whatever the locale.
    private func n(_ value: Double) -> String {
        let rounded = (value * 10).rounded() / 10
        return rounded == rounded.rounded() ? String(Int(rounded)) : String(format: "%.1f", rounded)
    }
}
