import Foundation
import Hummingbird
import SportelloApplication
import SportelloCore
import SportelloStore

/// Fixed-line diagnosis from the portal: the network test asked of the lookup plugin bound to
/// `support.line_diagnosis` (operation `line_diagnosis`), next to checks computed from the store (line status and
/// block, open fault reports, recent traffic, overdue invoices), saved with their history, and a fault report
/// offered when a check on the line fails. The plugin's checks are stored as `network` checks; a plugin that does not
/// answer leaves one `network` check with detail `unavailable` (the page says so, and a rerun asks again at once);
/// with no plugin bound there is no `network` check and the page says only the portal's records were read.
extension TelcoSupportController {
    static let trafficDays = 7
    /// A second run of the same line within this many seconds shows the first (a double click).
    static let rerunSeconds: Int64 = 30

    struct DiagnosisJSON: Encodable {
        struct Check: Encodable { var id, outcome, message: String }
        var id, lineId: Int64
        var line: String
        var runAt: Int64
        var outcome: String
        var checks: [Check]
        var faultReportSuggested: Bool
        var faultReportUrl: String?
        var faultRequestId: Int64?
        /// No real network test answered: the checks read the portal's own records only (or the test was a sandbox).
        var simulated: Bool
        /// `answered`, `unavailable` (the line-test system did not answer) or `not_connected` (no plugin bound).
        var network: String
        /// The network test came from a sandbox plugin.
        var sandbox: Bool
        /// The provider's reference of the network test.
        var networkReference: String?
        /// What the page says about the network test (sandbox, unavailable, not connected); nil for a real answer.
        var simulatedLabel: String?
    }

    func addDiagnosisRoutes(to group: RouterGroup<UserContext>) {
        group.get(Routes.lineDiagnosis) { _, context in try await diagnosisPage(context: context) }
        group.post(Routes.lineDiagnosisRun) { request, context in
            _ = try await SubmittedForm.read(request, context: context)
            let record = try await diagnose(lineId: try context.pathId("line"), context: context)
            return Pages.redirect(Routes.lineDiagnosisResult.path(record.id ?? 0))
        }
        group.get(Routes.lineDiagnosisResult) { _, context in try await resultPage(context: context) }

        group.get(Routes.diagnosesResource.api) { _, context in
            struct Line: Encodable { var id: Int64; var identifier, status: String; var latest: DiagnosisJSON? }
            struct Overview: Encodable { var lines: [Line] }
            let (lines, history) = try await diagnosableLines(context: context)
            return API.json(Overview(lines: lines.map { line in
                Line(id: line.id ?? 0, identifier: line.identifier, status: line.status.rawValue,
                     latest: history.first { $0.lineId == line.id }.map { diagnosisJSON($0, line: line, context: context) })
            }))
        }
        group.post(Routes.diagnosesResource.api) { request, context in
            struct Body: Decodable { var lineId: Int64? }
            let body = try await API.decode(Body.self, from: request, context: context)
            guard let lineId = body.lineId else {
                throw PortalError.invalid([FieldProblem(field: "line_id", code: "required", message: localized("support.diagnosis.error.line", context))])
            }
            let record = try await diagnose(lineId: lineId, context: context)
            let line = try await visibleLine(lineId, context: context)
            return API.json(diagnosisJSON(record, line: line, context: context), status: .created)
        }
        group.get(Routes.diagnosisResource.api) { _, context in
            let (record, line, _) = try await loadDiagnosis(context: context)
            return API.json(diagnosisJSON(record, line: line, context: context))
        }
    }

    // MARK: Reading

    /// The customer's fixed lines the user may diagnose (their own only, when the role's scope says so)
    /// and the diagnoses of those lines, newest first.
    func diagnosableLines(context: UserContext) async throws -> ([LineRecord], [LineDiagnosisRecord]) {
        try context.require(page: Self.diagnosis)
        let customer = customerId(context)
        let (lines, history) = try await services.database.read(tenant: context.tenant.id, now: services.now) { transaction in
            (try await transaction.lines(customerId: customer), try await transaction.lineDiagnoses(customerId: customer, limit: 50))
        }
        let visible = lines.filter { $0.kind == "fixed_line" && inScope($0, feature: Feature.diagnosis, context) }
        let ids = Set(visible.compactMap(\.id))
        return (visible, history.filter { ids.contains($0.lineId) })
    }

    /// One of the customer's fixed lines the user may diagnose: 404 for another customer's line or one
    /// that is not fixed, 403 outside the user's scope.
    func visibleLine(_ id: Int64, context: UserContext) async throws -> LineRecord {
        try context.require(page: Self.diagnosis)
        let customer = customerId(context)
        guard let line = try await services.database.read(tenant: context.tenant.id, now: services.now, { transaction in
            try await transaction.line(id: id, customerId: customer)
        }), line.kind == "fixed_line" else { throw PortalError.notFound }
        guard inScope(line, feature: Feature.diagnosis, context) else { throw PortalError.forbidden(feature: Feature.diagnosis) }
        return line
    }

    func loadDiagnosis(context: UserContext) async throws -> (LineDiagnosisRecord, LineRecord, [LineDiagnosisRecord]) {
        try context.require(page: Self.diagnosis)
        let id = try context.pathId("id")
        let customer = customerId(context)
        guard let record = try await services.database.read(tenant: context.tenant.id, now: services.now, { transaction in
            try await transaction.lineDiagnosis(id: id, customerId: customer)
        }) else { throw PortalError.notFound }
        let line = try await visibleLine(record.lineId, context: context)
        let history = try await services.database.read(tenant: context.tenant.id, now: services.now) { transaction in
            try await transaction.lineDiagnoses(customerId: customer, lineId: line.id, limit: 10)
        }
        return (record, line, history)
    }

    // MARK: Running

    /// The open fault reports of the customer that name `line`.
    func openFaults(for line: LineRecord, context: UserContext, in transaction: TenantTransaction) async throws -> [RequestRecord] {
        let forms = RequestForms(tenant: context.tenant, context: context)
        let ids = forms.all.filter { $0.form.feature == Feature.faultReport }.map(\.id)
        let terminal = Set(ids.flatMap { forms.terminal(for: $0) })
        let digits = RequestForms.phoneDigits(line.identifier)
        return try await transaction.openRequests(customerId: customerId(context), forms: ids, terminal: terminal.sorted()).filter { request in
            guard let named = Self.payloadFields(request)["line"] as? String else { return false }
            return named == line.identifier || (digits != nil && RequestForms.phoneDigits(named) == digits)
        }
    }

    /// The network test of `line` by the lookup plugin bound to the diagnosis feature, as `network` checks (none when
    /// no plugin is bound; one `unavailable` check when the plugin did not answer). Asked outside any transaction.
    func networkChecks(_ line: LineRecord, context: UserContext) async -> [DiagnosisCheck] {
        let definition = context.tenant.definition
        let feature = definition.boundFeatureId(Feature.diagnosis) ?? Feature.diagnosis
        let client: LookupClient
        switch services.application.lookups.binding(for: feature, operation: .lineDiagnosis, in: definition) {
        case .unbound: return []
        case .notConnected(let plugin):
            return [DiagnosisCheck(id: "network", outcome: .warning, detail: "unavailable", values: ["error": LookupError.Code.notConfigured.rawValue, "plugin": plugin])]
        case .bound(let bound): client = bound
        }
        do {
            let answer = try await client.ask(LineDiagnosisRequest(line: line.identifier, customerCode: context.customer.customerCode,
                                                                   locale: context.locale), now: services.now)
            let sandbox = client.isSandbox || answer.sandbox == true
            return answer.checks.map { check in
                var values = ["code": check.code, "message": check.detail, "sandbox": sandbox ? "true" : "false", "plugin": client.id]
                values["name"] = check.name
                values["reference"] = answer.reference
                return DiagnosisCheck(id: "network", outcome: DiagnosisCheck.Outcome(rawValue: check.outcome) ?? .warning, detail: "answered", values: values)
            }
        } catch {
            let code = (error as? LookupError)?.code ?? .unavailable
            return [DiagnosisCheck(id: "network", outcome: .warning, detail: "unavailable", values: ["error": code.rawValue, "plugin": client.id])]
        }
    }

    /// Runs the checks on one line and saves the result with an audit entry.
    func diagnose(lineId: Int64, context: UserContext) async throws -> LineDiagnosisRecord {
        try context.require(Feature.diagnosis)
        let line = try await visibleLine(lineId, context: context)
        let customer = customerId(context)
        let userId = context.user.id
        let now = services.now
        let windows = context.tenant.windows
        let billingVisible = BillingFeatures.view.contains { context.may($0) }
        // A double click shows the first run, unless its network test did not answer (then the rerun asks again).
        if let last = try await services.database.read(tenant: context.tenant.id, now: now, { transaction in
            try await transaction.lineDiagnoses(customerId: customer, lineId: lineId, limit: 1).first
        }), now - last.runAt < Self.rerunSeconds, last.userId == userId,
           !DiagnosisCheck.decode(last.checks).contains(where: { $0.id == "network" && $0.detail == "unavailable" }) {
            return last
        }
        let network = await networkChecks(line, context: context)
        let realNetwork = network.contains { $0.detail == "answered" && $0.values["sandbox"] == "false" }
        return try await services.database.write(tenant: context.tenant.id, now: now) { transaction in
            let faults = try await openFaults(for: line, context: context, in: transaction)
            let traffic = try await transaction.recentTraffic(lineId: lineId, customerId: customer, since: now - Int64(Self.trafficDays) * 86_400)
            let today = CalendarDay(instant: now)
            let overdue = try await transaction.invoices(customerId: customer, windows: windows)
                .filter { [InvoiceStatus.unpaid, .overdue, .partiallyPaid].contains($0.status) && $0.dueOn < today.description }.map(\.dueOn)
            let checks = LineDiagnosis.run(LineDiagnosisInput(
                lineStatus: line.status, openFaultReports: faults.map { ($0.id ?? 0, $0.status) }, recentTrafficCount: traffic.count,
                lastTrafficAt: traffic.last, trafficDays: Self.trafficDays, overdueDueDays: overdue,
                billingVisible: billingVisible, today: today)) + network
            var record = LineDiagnosisRecord(customerId: customer, lineId: lineId, userId: userId, runAt: now,
                                             outcome: LineDiagnosis.outcome(of: checks).rawValue, checks: DiagnosisCheck.encode(checks),
                                             simulated: !realNetwork)
            record.id = try await transaction.insertLineDiagnosis(record)
            try await transaction.audit("line.diagnosed", actorUserId: userId, targetKind: "line", targetId: String(lineId),
                                        detail: "diagnosis \(record.id ?? 0): \(record.outcome) network=\(Self.networkState(checks))")
            return record
        }
    }

    // MARK: Showing

    /// `answered`, `unavailable` or `not_connected`: what the network test of a saved diagnosis did.
    static func networkState(_ checks: [DiagnosisCheck]) -> String {
        let network = checks.filter { $0.id == "network" }
        if network.contains(where: { $0.detail == "answered" }) { return "answered" }
        return network.isEmpty ? "not_connected" : "unavailable"
    }

    /// What the page says about the network test of `checks`: sandbox, unavailable or not connected (nil: a real test).
    func networkNotice(_ checks: [DiagnosisCheck], context: UserContext) -> String? {
        switch Self.networkState(checks) {
        case "answered":
            return checks.contains { $0.id == "network" && $0.values["sandbox"] == "true" } ? text("support.diagnosis.network_sandbox", context) : nil
        case "unavailable": return text("support.diagnosis.network_unavailable", context)
        default: return text("support.diagnosis.simulated", context)
        }
    }

    /// Whether a fault report makes sense: a check on the line (also the network test) failed and none is open yet.
    static func suggestsFault(_ checks: [DiagnosisCheck]) -> Bool {
        let alreadyOpen = checks.contains { $0.id == "open_fault" && $0.outcome != .ok }
        return LineDiagnosis.suggestsFaultReport(checks) || (!alreadyOpen && checks.contains { $0.id == "network" && $0.outcome == .fault })
    }

    /// A check's name in the user's language (the network test's own name, as the provider gave it).
    func checkName(_ check: DiagnosisCheck, context: UserContext) -> String {
        if check.id == "network", check.detail == "answered", let name = check.values["name"]?.nonEmpty { return name }
        return text("support.diagnosis.check.\(check.id).name", context)
    }

    /// A check's sentence in the user's language.
    func message(_ check: DiagnosisCheck, context: UserContext) -> String {
        if check.id == "network", check.detail == "answered" { return check.values["message"] ?? "" }
        var values = check.values
        let forms = RequestForms(tenant: context.tenant, context: context)
        if check.id == "open_fault", let status = values["status"] { values["status"] = forms.statusLabel(status) }
        if check.id == "line_status", let status = values["status"] { values["status"] = label("contracts.status", status, context) }
        if check.id == "traffic", let last = values["last"].flatMap(Int64.init) { values["last"] = Formatting.dateTime(last, locale: context.locale) }
        return text("support.diagnosis.check.\(check.id).\(check.detail)", context, values)
    }

    private func faultForm(_ context: UserContext) -> String? {
        guard context.may(Feature.faultReport) else { return nil }
        return requestForm(for: Feature.faultReport, context)?.id
    }

    func diagnosisJSON(_ record: LineDiagnosisRecord, line: LineRecord, context: UserContext) -> DiagnosisJSON {
        let checks = DiagnosisCheck.decode(record.checks)
        let suggested = Self.suggestsFault(checks) && faultForm(context) != nil && record.faultRequestId == nil
        let network = Self.networkState(checks)
        return DiagnosisJSON(id: record.id ?? 0, lineId: record.lineId, line: line.identifier, runAt: record.runAt, outcome: record.outcome,
                             checks: checks.map { .init(id: $0.id, outcome: $0.outcome.rawValue, message: message($0, context: context)) },
                             faultReportSuggested: suggested,
                             faultReportUrl: suggested ? Routes.lineDiagnosisFaultReport.path(record.id ?? 0) : nil,
                             faultRequestId: record.faultRequestId, simulated: record.simulated ?? true, network: network,
                             sandbox: checks.contains { $0.id == "network" && $0.values["sandbox"] == "true" },
                             networkReference: checks.first { $0.id == "network" && $0.detail == "answered" }?.values["reference"],
                             simulatedLabel: networkNotice(checks, context: context))
    }

    /// A saved diagnosis in a line's or the customer's history.
    struct DiagnosisHistoryItem: Encodable {
        var id: String
        var line: String?
        var when, outcome, outcomeLabel: String
    }

    private func historyItems(_ history: [LineDiagnosisRecord], lines: [LineRecord], context: UserContext) -> [DiagnosisHistoryItem] {
        history.map { record in
            DiagnosisHistoryItem(id: String(record.id ?? 0), line: lines.first { $0.id == record.lineId }?.identifier.nonEmpty,
                                 when: Formatting.dateTime(record.runAt, locale: context.locale), outcome: record.outcome,
                                 outcomeLabel: text("support.diagnosis.outcome.\(record.outcome)", context))
        }
    }

    struct DiagnosisModel: Encodable {
        struct Line: Encodable {
            var id, identifier: String
            var description: String?
            var status: String
            var last, lastId, lastOutcome: String?
        }
        var lines: [Line]
        var hasLines: Bool
        var history: [DiagnosisHistoryItem]
        var hasHistory: Bool
        /// What the page says about the network test before it is run (not connected), nil when a plugin is bound.
        var notice: String?
    }

    private func diagnosisPage(context: UserContext) async throws -> Response {
        let (lines, history) = try await diagnosableLines(context: context)
        let model = DiagnosisModel(
            lines: lines.map { line in
                var item = DiagnosisModel.Line(id: String(line.id ?? 0), identifier: line.identifier, description: line.description?.nonEmpty,
                                               status: label("contracts.status", line.status, context))
                if let last = history.first(where: { $0.lineId == line.id }) {
                    item.last = text("support.diagnosis.last", context, ["when": Formatting.dateTime(last.runAt, locale: context.locale),
                                                                         "outcome": text("support.diagnosis.outcome.\(last.outcome)", context)])
                    item.lastId = String(last.id ?? 0)
                    item.lastOutcome = last.outcome
                }
                return item
            },
            hasLines: !lines.isEmpty,
            history: historyItems(Array(history.prefix(10)), lines: lines, context: context), hasHistory: !history.isEmpty,
            notice: services.application.lookups.binding(for: context.tenant.definition.boundFeatureId(Feature.diagnosis) ?? Feature.diagnosis,
                                                         operation: .lineDiagnosis, in: context.tenant.definition).isBound
                ? nil : text("support.diagnosis.simulated", context))
        return Pages.render("support_diagnosis", model, title: text("support.diagnosis.title", context), context: context)
    }

    struct DiagnosisResultModel: Encodable {
        struct Check: Encodable { var name, message, outcome, outcomeLabel: String }
        var lineId, identifier, when, outcome, outcomeLabel, summary: String
        var notice, networkReference: String?
        var checks: [Check]
        var history: [DiagnosisHistoryItem]
        var listTitle: String
        var faultUrl, faultLinked, faultLinkedUrl, openFaultUrl, invoicesUrl: String?
    }

    private func resultPage(context: UserContext) async throws -> Response {
        let (record, line, history) = try await loadDiagnosis(context: context)
        let json = diagnosisJSON(record, line: line, context: context)
        let checks = DiagnosisCheck.decode(record.checks)
        var model = DiagnosisResultModel(
            lineId: String(line.id ?? 0), identifier: line.identifier, when: Formatting.dateTime(record.runAt, locale: context.locale),
            outcome: record.outcome, outcomeLabel: text("support.diagnosis.outcome.\(record.outcome)", context),
            summary: text("support.diagnosis.summary.\(record.outcome)", context),
            notice: json.simulatedLabel,
            networkReference: json.networkReference.map { text("support.diagnosis.check.network.reference", context, ["reference": $0]) },
            checks: checks.map { check in
                .init(name: checkName(check, context: context), message: message(check, context: context),
                      outcome: check.outcome.rawValue, outcomeLabel: text("support.diagnosis.outcome.\(check.outcome.rawValue)", context))
            },
            history: historyItems(history, lines: [line], context: context), listTitle: text("support.diagnosis.title", context),
            faultUrl: json.faultReportUrl)
        if let linked = record.faultRequestId {
            model.faultLinked = text("support.diagnosis.fault_linked", context, ["id": String(linked)])
            model.faultLinkedUrl = Routes.request.path(linked)
        }
        if let open = checks.first(where: { $0.id == "open_fault" && $0.outcome != .ok }), let id = open.values["id"] {
            let canTrack = RequestsController.pages[0].definedFeatures(in: context.tenant.definition).contains { context.may($0) }
            if canTrack { model.openFaultUrl = Routes.request.path(id) }
        }
        if checks.contains(where: { $0.id == "billing" && $0.outcome != .ok }) && context.may("invoices.view") {
            model.invoicesUrl = Routes.invoices.path()
        }
        return Pages.render("support_diagnosis_result", model,
                            title: text("support.diagnosis.result_title", context, ["line": line.identifier]), context: context)
    }
}
