import Foundation
import Testing
import SportelloApplication
import SportelloCore
@testable import SportelloStore
@testable import SportelloWeb

/// Every match of `pattern`'s first group in `text`.
private func captures(_ pattern: String, in text: String) throws -> [String] {
    let regex = try NSRegularExpression(pattern: pattern, options: [.dotMatchesLineSeparators])
    return regex.matches(in: text, range: NSRange(text.startIndex..., in: text)).compactMap { match in
        Range(match.range(at: 1), in: text).map { String(text[$0]) }
    }
}

/// The `<svg>…</svg>` part and the chart's `<table>…</table>` part of a chart's markup (or of a page holding one).
private func parts(_ html: String) throws -> (svg: String, table: String) {
    func element(_ opening: String, _ closing: String) -> String? {
        guard let start = html.range(of: opening), let end = html.range(of: closing, range: start.upperBound..<html.endIndex) else { return nil }
        return String(html[start.lowerBound..<end.upperBound])
    }
    return (try #require(element("<svg", "</svg>")), try #require(element("<table class=\"chart-table\"", "</table>")))
}

private func sample(locale: String = "it", label: String = "Traffico dati", traffic: [Double?] = [1.5, 0, 12.25],
                    cost: [Double?] = [1234.5, 3, -2]) -> Chart {
    Chart(id: "test-chart", title: "Traffico e costi per mese", description: "Traffico e costo per mese.",
          categories: [.init("gennaio 2026", axisLines: ["gen", "2026"]), .init("febbraio 2026", axisLines: ["feb"]), .init("marzo 2026", axisLines: ["mar"])],
          axes: [.init(format: .number(unit: "GB", fractionDigits: 2, locale: locale)), .init(format: .money(locale: locale))],
          series: [.init(label, kind: .bar, axis: 0, values: traffic), .init("Costo", kind: .line, axis: 1, values: cost)],
          texts: .init(noData: "Nessun dato da mostrare.", table: "Dati in tabella", categoryHeader: "Mese"))
}

@Suite("Charts: server-rendered SVG with a data table")
struct ChartTests {
    @Test("ticks are round (1, 2 or 5 × 10ⁿ apart), include zero and cover every value",
          arguments: [[0, 0], [0, 7.3], [0, 1], [0.003, 0.0081], [-42, 118], [-5, -0.5], [12_345, 98_765], [1, 1], [0, 0.1 + 0.2]] as [[Double]])
    func ticks(range: [Double]) throws {
        let (low, high) = (range[0], range[1])
        let ticks = ChartScale.ticks(minimum: low, maximum: high)
        #expect(ticks.count >= 2 && ticks.count <= 11, "\(ticks)")
        #expect(try #require(ticks.first) <= min(low, 0) && (try #require(ticks.last)) >= max(high, 0), "covers \(low)…\(high): \(ticks)")
        #expect(ticks.contains(0))
        let step = ticks[1] - ticks[0]
        let magnitude = pow(10, floor(log10(step)))
        let significand = step / magnitude
        #expect([1.0, 2, 5, 10].contains { abs($0 - significand) < 1e-6 }, "step \(step) of \(ticks)")
        for (index, tick) in ticks.enumerated() {
            #expect(abs(tick - (ticks[0] + Double(index) * step)) < step * 1e-6, "evenly spaced")
            #expect(abs(tick / step - (tick / step).rounded()) < 1e-6, "\(tick) is a multiple of the step")
        }
        #expect(ChartScale.ticks(minimum: 0, maximum: 3, minimumStep: 1) == [0, 1, 2, 3], "counts never get fractional ticks")
        #expect(ChartScale.ticks(minimum: 0, maximum: 0.3) == [0, 0.1, 0.2, 0.3], "no floating-point residue")
    }

    @Test("the SVG is an image named by its title and described by its desc, with unique ids and no script")
    func svgSemantics() throws {
        let html = sample().html(palette: ChartPalette(primary: "#1f4e79"))
        let (svg, _) = try parts(html)
        #expect(svg.contains("role=\"img\"") && svg.contains("aria-labelledby=\"test-chart-title\"") && svg.contains("aria-describedby=\"test-chart-desc\""))
        #expect(svg.contains("<title id=\"test-chart-title\">Traffico e costi per mese</title>"))
        #expect(svg.contains("<desc id=\"test-chart-desc\">Traffico e costo per mese.</desc>"))
        let ids = try captures(#"\sid="([^"]+)""#, in: html)
        #expect(Set(ids).count == ids.count, "ids are unique: \(ids)")
        #expect(!html.contains("<script") && !html.contains("style=") && html.range(of: #"\son[a-z]+="#, options: .regularExpression) == nil,
                "no script, no inline style (CSP)")
        #expect(html.contains("<details class=\"chart-data\" open>"), "the table is open to everyone, no JavaScript needed")
        #expect(svg.contains(">gen</text>") && svg.contains(">2026</text>"), "category labels under the axis")
        #expect(ZipCheck.wellFormed(Data(svg.utf8)), "the SVG is well-formed XML")
    }

    @Test("the table has the same figures as the SVG, formatted the Italian way (1.234,50 €) or the English way")
    func tableMatchesSVG() throws {
        let (svg, table) = try parts(sample().html(palette: ChartPalette(primary: "#1f4e79")))
        #expect(table.contains("<caption>Traffico e costi per mese</caption>"))
        #expect(table.contains("<th scope=\"col\">Mese</th>") && table.contains("<th scope=\"col\" class=\"amount\">Costo</th>"))
        let rows = try captures(#"<th scope="row">([^<]+)</th>"#, in: table)
        #expect(rows == ["gennaio 2026", "febbraio 2026", "marzo 2026"])
        let cells = try captures(#"<td class="amount">([^<]+)</td>"#, in: table)
        #expect(cells == ["1,50 GB", "1.234,50 €", "0,00 GB", "3,00 €", "12,25 GB", "-2,00 €"])
        let marks = try captures(#"<title>([^<]+)</title>"#, in: svg)
        for (index, month) in rows.enumerated() {
            #expect(marks.contains("\(month) – Traffico dati: \(cells[2 * index])"), "bar of \(month)")
            #expect(marks.contains("\(month) – Costo: \(cells[2 * index + 1])"), "point of \(month)")
        }
        let english = try parts(sample(locale: "en").html(palette: ChartPalette(primary: "#1f4e79"))).table
        #expect(english.contains(">€1,234.50<") && english.contains(">12.25 GB<"))
    }

    @Test("negative values: the axis goes below zero and the bar hangs from the zero line")
    func negatives() throws {
        let chart = sample(traffic: [-3, 5, nil], cost: [nil, nil, nil])
        let (svg, table) = try parts(chart.html(palette: ChartPalette(primary: "#1f4e79")))
        #expect(svg.contains(">-4</text>") || svg.contains(">-3</text>") || svg.contains(">-5</text>") || svg.contains(">-2</text>"))
        #expect(table.contains(">-3,00 GB<") && table.contains(">–<"), "a missing value reads as a dash")
        let zero = try #require(try captures(##"y1="([^"]+)"[^>]*stroke="#6b7280""##, in: svg).first.flatMap(Double.init))
        let bars = try NSRegularExpression(pattern: #"<rect x="[^"]+" y="([^"]+)" width="[^"]+" height="([^"]+)"[^>]*><title>([^<]+)</title>"#)
        var seen = 0
        for match in bars.matches(in: svg, range: NSRange(svg.startIndex..., in: svg)) {
            let y = Double((svg as NSString).substring(with: match.range(at: 1)))!, height = Double((svg as NSString).substring(with: match.range(at: 2)))!
            let title = (svg as NSString).substring(with: match.range(at: 3))
            if title.hasPrefix("gennaio") { #expect(abs(y - zero) < 0.2 && height > 0, "the negative bar starts at zero and goes down") }
            if title.hasPrefix("febbraio") { #expect(abs(y + height - zero) < 0.2, "the positive bar ends at zero") }
            seen += 1
        }
        #expect(seen == 2)
    }

    @Test("a brand colour too light for graphics (#ffff00) is darkened to 3:1 on white, hue kept; the second series differs by hatch, dash and marker")
    func contrast() throws {
        let palette = ChartPalette(primary: "#ffff00")
        let first = palette.colour(0)
        #expect(first != "#ffff00" && ChartPalette.contrast(first) >= 3)
        let rgb = try #require(ReadableColour.components(first))
        #expect(rgb.0 == rgb.1 && rgb.2 == 0, "still a yellow: \(first)")
        #expect(ChartPalette.contrast(palette.colour(1)) >= 3 && palette.colour(1) != first)
        #expect(ChartPalette(primary: "#003c7e").colour(0) == "#003c7e", "a dark brand colour is kept as it is")
        #expect(ChartPalette(primary: "rgb(1,2,3)").colour(0) == "#1f4e79", "not a hex colour: the platform's blue")
        for text in [ChartPalette.text, ChartPalette.mutedText] { #expect(ChartPalette.contrast(text) >= 4.5, "\(text) is readable text") }
        #expect(ChartPalette.contrast(ChartPalette.axis) >= 3)

        let html = sample().html(palette: palette)
        #expect(html.contains("fill=\"\(first)\"") && !html.contains("#ffff00"))
        let bars = sample(traffic: [1, 2, 3], cost: [1, 2, 3])
        var twoBars = bars
        twoBars.series[1].kind = .bar
        twoBars.series[1].axis = 0
        let svg = try parts(twoBars.html(palette: palette)).svg
        #expect(svg.contains("<pattern id=\"test-chart-hatch-1\"") && svg.contains("fill=\"url(#test-chart-hatch-1)\""), "hatched second series")
        var twoLines = bars
        twoLines.series[0].kind = .line
        twoLines.series[0].axis = 1
        let lines = try parts(twoLines.html(palette: palette)).svg
        #expect(lines.contains("stroke-dasharray") && lines.contains("<circle") && lines.contains("<rect x="), "dashed line, square markers")
    }

    @Test("every text is escaped by the one HTML escaper")
    func escaping() throws {
        var chart = sample(label: "<script>alert(\"x\")</script>")
        chart.title = "Tom & Jerry's"
        chart.categories[0].label = "<b>gen</b>"
        chart.categories[0].axisLines = ["<i>"]
        let html = chart.html(palette: ChartPalette(primary: "#1f4e79"))
        #expect(!html.contains("<script") && !html.contains("<b>") && !html.contains("<i>"))
        #expect(html.contains(HTMLEscaping.escape("<script>alert(\"x\")</script>")) && html.contains("Tom &amp; Jerry&#39;s"))
        #expect(Chart.safeId("1 \"><x") == "chart-1x")
    }

    @Test("no data: a clear sentence instead of an empty chart")
    func empty() throws {
        for chart in [sample(traffic: [nil, nil, nil], cost: [nil, nil, nil]),
                      Chart(id: "c", title: "T", description: "D", categories: [], axes: [.init(format: .money(locale: "it"))],
                            series: [.init("Costo", values: [])], texts: .init(noData: "Nessun dato da mostrare.", table: "Tabella", categoryHeader: "Mese"))] {
            let html = chart.html(palette: ChartPalette(primary: "#1f4e79"))
            #expect(html.contains("Nessun dato da mostrare.") && !html.contains("<svg") && !html.contains("<table"))
        }
    }

    @Test("numbers per locale")
    func decimals() {
        #expect(Formatting.decimal(1234.5, fractionDigits: 2, locale: "it") == "1.234,50")
        #expect(Formatting.decimal(1234.5, fractionDigits: 2, locale: "en") == "1,234.50")
        #expect(Formatting.decimal(-0.004, fractionDigits: 2, locale: "it") == "0,00")
        #expect(Formatting.decimal(-1_000_000, fractionDigits: 0, locale: "it") == "-1.000.000")
        #expect(Formatting.decimal(0.05, fractionDigits: 1, locale: "en") == "0.1")
        #expect(Formatting.money(123_450, locale: "it") == "1.234,50 €" && Formatting.money(-5, locale: "en") == "-€0.05")
    }

    @Test("monthly sums split exactly at local midnight of the first of the month", arguments: TestEngine.available)
    func monthlySums(engine: TestEngine) async throws {
        try await PortalHarness.with(engine: engine, tenant: "windtre") { portal in
            let admin = try await portal.billingCustomer(role: "user_admin")
            let line = try await portal.usageLine(customerId: admin.customerId, identifier: "3470001234")
            let today = portal.billingToday
            let boundary = CalendarDay(year: today.year, month: today.month, day: 1)
            let previous = boundary.adding(months: -1)
            let records = [(boundary.startInstant - 1, Int64(100)), (boundary.startInstant, 200), (previous.startInstant, 400)].map { instant, cost in
                UsageRecord(customerId: admin.customerId, lineId: line, startedAt: instant, kind: "data", durationSeconds: 60,
                            volumeBytes: 1_000_000, costCents: cost)
            }
            try await portal.database.write(tenant: portal.definition.id, now: portal.billingNow) { try await $0.insertUsage(records) }
            let windows = portal.tenant.windows
            let period = TimeRange(from: previous.adding(months: -1).startInstant, to: today.adding(days: 1).startInstant)
            let months = try await portal.database.read(tenant: portal.definition.id, now: portal.billingNow) {
                try await $0.usageByMonth(lineId: line, period: period, windows: windows)
            }
            #expect(months.map(\.month) == [previous.adding(months: -1).month, previous.month, boundary.month])
            #expect(months.map(\.costCents) == [0, 500, 200] && months.map(\.count) == [0, 2, 1] && months[1].volumeBytes == 2_000_000)
            let calls = try await portal.database.read(tenant: portal.definition.id, now: portal.billingNow) {
                try await $0.usageByMonth(lineId: line, period: period, kinds: ["call"], windows: windows)
            }
            #expect(calls.allSatisfy { $0.count == 0 }, "the type filter applies")
            let last = try await portal.database.read(tenant: portal.definition.id, now: portal.billingNow) {
                try await $0.usageByMonth(lineId: line, period: period, windows: windows, maximumMonths: 1)
            }
            #expect(last.map(\.costCents) == [200])
            await #expect(throws: VisibilityError.self) {
                try await portal.database.read(tenant: portal.definition.id, now: portal.billingNow) {
                    try await $0.usageByMonth(lineId: line, period: TimeRange(from: today.adding(months: -5).startInstant, to: period.to), windows: windows)
                }
            }
        }
    }

    @Test("TIM demo: the usage page charts traffic and cost for every month with traffic, in the brand colour, with its table",
          arguments: TestEngine.available)
    func usagePage(engine: TestEngine) async throws {
        try await PortalHarness.with(engine: engine, tenant: "tim") { portal in
            let summary = try await DemoDataGenerator(tenant: portal.definition, now: portal.billingNow, hasher: BcryptPasswordHasher(cost: 4))
                .generate(into: portal.database)
            let login = try #require(summary.logins.first { $0.role == "utilizzatore" })
            let today = portal.billingToday
            let firstDay = today.adding(months: -3)
            let period = TimeRange(from: firstDay.startInstant, to: today.adding(days: 1).startInstant)
            let windows = portal.tenant.windows
            let key = UsernameRules.key(for: login.username, caseSensitive: portal.definition.login.caseSensitive)
            let records = try await portal.database.read(tenant: portal.definition.id, now: portal.billingNow) { transaction in
                let user = try #require(try await transaction.user(usernameKey: key))
                let lines = try await transaction.lines(customerId: user.customerId)
                let line = try #require(lines.first { $0.assignedUserId == user.id && $0.kind != "hosting" && $0.kind != "supply_point" })
                return try await transaction.usage(UsageQuery(lineId: line.id ?? 0, period: period, limit: 100_000), windows: windows).items
            }
            var costs: [String: Int64] = [:]
            for record in records {
                let day = CalendarDay(instant: record.startedAt)
                let name = "\(portal.tenant.theme.text("chart.month.\(day.month)", locale: "it")) \(day.year)"
                costs[name, default: 0] += record.costCents
            }
            #expect(costs.count >= 3, "the demo has traffic in most of the last three months")
            let monthlyCosts = costs
            try await portal.test { browser in
                let answer = try await browser.post("/login", ["identifier": login.username, "password": login.password])
                #expect(answer.location == "/")
                let page = try await browser.get("/usage?period=3months")
                #expect(page.status == .ok)
                #expect(page.body.contains("<h2 id=\"usage-monthly-title\">Traffico e costi per mese"))
                let (svg, table) = try parts(page.body)
                #expect(svg.contains("role=\"img\"") && svg.contains("<title id=\"usage-chart-title\">Traffico e costi per mese</title>"))
                #expect(svg.contains("fill=\"#003c7e\""), "TIM's blue, dark enough to be kept")
                for (month, cents) in monthlyCosts {
                    let cost = Formatting.money(cents, locale: "it")
                    #expect(table.range(of: "<th scope=\"row\">\(month)</th><td class=\"amount\">[^<]+</td><td class=\"amount\">\(NSRegularExpression.escapedPattern(for: cost))</td>",
                                        options: .regularExpression) != nil, "\(month): \(cost) in the table")
                    #expect(svg.contains("<title>\(month) – Costo: \(cost)</title>"), "\(month): \(cost) in the chart")
                }
                let ids = try captures(#"\sid="([^"]+)""#, in: page.body)
                #expect(Set(ids).count == ids.count, "ids are unique on the page")

                let calls = try await browser.get("/usage?period=3months&type=calls")
                #expect(calls.body.contains("Durata delle chiamate (min)"), "calls: the traffic is their time")
                let english = try await browser.get("/usage?period=3months&lang=en")
                #expect(english.body.contains("Traffic and cost per month") && english.body.contains("<th scope=\"col\">Month</th>"))
            }
        }
    }
}
