import Foundation
import SportelloApplication
import SportelloCore

/// The chart a record kind's `chart:` asks for: one series per numeric field, summed per month (or day) of the date
/// along the x axis, over the records the list selects. Periods between the first and the last with no record are
/// shown empty, so a gap reads as a gap.
enum RecordCharts {
    /// The most periods drawn; a longer span keeps only the periods that have records.
    static let maximumPeriods = 400

    static func chart(_ chart: RecordChart, of kind: RecordKindDefinition, kind id: String, sums: [RecordSums],
                      context: UserContext) -> Chart {
        let locale = context.locale
        let tenant = context.tenant
        func text(_ key: String, _ values: [String: String] = [:]) -> String { tenant.theme.text(key, locale: locale, values) }
        let period = chart.resolvedPeriod
        let periods = filledPeriods(sums.map(\.period), period: period)
        let byPeriod = Dictionary(sums.map { ($0.period, $0) }, uniquingKeysWith: { first, _ in first })
        let categories = periods.enumerated().map { index, name -> Chart.Category in
            guard let day = CalendarDay(period == .month ? "\(name)-01" : name) else { return Chart.Category(name) }
            switch period {
            case .month:
                let short = text("chart.month_short.\(day.month)")
                return Chart.Category(text("chart.month_year", ["month": text("chart.month.\(day.month)"), "year": String(day.year)]),
                                      axisLines: index == 0 || day.month == 1 ? [short, String(day.year)] : [short])
            case .day:
                return Chart.Category(Formatting.day(day.description), axisLines: [LocalTime.pad(day.day) + "/" + LocalTime.pad(day.month)])
            }
        }
        // One axis per kind of number: integers, and decimals of each scale.
        var axes: [Chart.Axis] = []
        var axisOfScale: [Int: Int] = [:]
        var series: [Chart.Series] = []
        for entry in chart.series {
            guard let field = kind.fields[entry.field], field.type == .integer || field.type == .decimal else { continue }
            let scale = field.type == .decimal ? field.decimalScale : -1
            let axis = axisOfScale[scale] ?? {
                axes.append(.init(format: .number(unit: "", fractionDigits: max(0, scale), locale: locale)))
                axisOfScale[scale] = axes.count - 1
                return axes.count - 1
            }()
            let values = periods.map { name -> Double? in
                switch byPeriod[name]?.sums[entry.field] {
                case .integer(let number)?: Double(number)
                case .decimal(let number)?: Double(number.units) / pow(10, Double(number.scale))
                default: nil
                }
            }
            series.append(.init((entry.label ?? field.label).resolve(locale), kind: chart.kind == .line ? .line : .bar, axis: axis, values: values))
        }
        let names = series.map(\.label).joined(separator: ", ")
        return Chart(
            id: "records-\(id)-chart",
            title: text("records.chart.title.\(period.rawValue)", ["series": names]),
            description: text("records.chart.description.\(period.rawValue)", ["series": names, "kind": kind.labelPlural.resolve(locale)]),
            categories: categories, axes: axes.isEmpty ? [.init(format: .number(unit: "", fractionDigits: 0, locale: locale))] : axes,
            series: series,
            texts: .init(noData: text("chart.no_data"), table: text("chart.table"),
                         categoryHeader: text(period == .month ? "chart.month_header" : "records.chart.day_header")))
    }

    /// Every period from the first to the last of `present` (`yyyy-MM` or `yyyy-MM-dd`), or `present` alone when
    /// that would be more than `maximumPeriods`.
    static func filledPeriods(_ present: [String], period: RecordChartPeriod) -> [String] {
        let sorted = present.sorted()
        guard let first = sorted.first, let last = sorted.last,
              var day = CalendarDay(period == .month ? "\(first)-01" : first),
              let end = CalendarDay(period == .month ? "\(last)-01" : last) else { return sorted }
        var result: [String] = []
        while day <= end {
            result.append(String(day.description.prefix(period.prefixLength)))
            if result.count > maximumPeriods { return sorted }
            day = period == .month ? day.adding(months: 1) : day.adding(days: 1)
        }
        return result
    }
}
