import Foundation
import SportelloApplication
import SportelloCore
import SportelloStore

/// The tenant's request forms (YAML `requests:`) as one user sees them: which forms they may fill in,
/// which requests they may read, when a request counts as open, and how a submission is checked
/// against the form's limits (lengths, choices, at most N lines, attachment types and sizes).
struct RequestForms {
    let tenant: PortalTenant
    let context: UserContext

    var definition: TenantDefinition { tenant.definition }
    var locale: String { context.locale }

    /// Features that show every request of the customer, whatever form it came from (WINDTRE's request
    /// status, TIM's request tracking — requests made through any channel).
    static let viewAllFeatures = ["requests.view", "tracking.view"]

    /// Statuses after which a request is no longer open, besides the last step of the form's lifecycle.
    static var terminalStatuses: [String] { RequestLifecycle.terminalStatuses }

    var all: [(id: String, form: RequestForm)] { (definition.requests ?? OrderedMap()).map { (id: $0.key, form: $0.value) } }

    func form(_ id: String) -> RequestForm? { definition.requests?[id] }

    /// The forms the user's role (and toggles) may submit here (not those a page of their own fills in).
    var available: [(id: String, form: RequestForm)] {
        all.filter { context.may($0.form.feature) && context.tenant.catalog.pageFilling(formOf: $0.form.feature) == nil }
    }

    var viewsAll: Bool { Self.viewAllFeatures.contains { context.may($0) } }

    /// Whether the user may read a request of their customer: every request with a view-all feature,
    /// otherwise those made through a form whose feature they hold.
    func canView(_ request: RequestRecord) -> Bool {
        if viewsAll { return true }
        guard let form = form(request.form) else { return false }
        return context.may(form.feature)
    }

    func label(ofForm id: String) -> String { form(id)?.label.resolve(locale) ?? text("requests.generic_form") }

    func text(_ key: String, _ values: [String: String] = [:]) -> String { tenant.theme.text(key, locale: locale, values) }

    func localized(_ key: String, _ values: [String: String] = [:]) -> LocalizedText { tenant.localized(key, values) }

    /// A status as people read it: the form's `status_labels` (else any form's), then the platform's
    /// `requests.status.<status>`, the raw word only when neither knows it (which `validate` reports).
    func statusLabel(_ status: String, form formId: String? = nil) -> String {
        if let formId, let label = form(formId)?.statusLabels?[status] { return label.resolve(locale) }
        if let label = all.lazy.compactMap({ $0.form.statusLabels?[status] }).first { return label.resolve(locale) }
        let key = "requests.status.\(status)"
        let label = text(key)
        return label == key ? status.replacingOccurrences(of: "_", with: " ") : label
    }

    /// The rules (conditions, typed fields, windows, deadlines) of `form`.
    func rules(_ form: RequestForm) -> RequestFormRules { RequestFormRules(form: form, definition: definition) }

    /// The statuses that end a request of the forms sharing `form`'s group (or of the form itself).
    func terminal(for formId: String) -> [String] {
        guard let form = form(formId) else { return Self.terminalStatuses }
        let siblings = all.filter { $0.id == formId || (form.group != nil && $0.form.group == form.group) }
        var result = Set(Self.terminalStatuses)
        for sibling in siblings { if let last = sibling.form.lifecycle?.last { result.insert(last) } }
        return result.sorted()
    }

    func isOpen(_ request: RequestRecord) -> Bool { !terminal(for: request.form).contains(request.status) }

    /// The first status of a new request: the first step of the form's lifecycle.
    func initialStatus(_ form: RequestForm) -> String { form.lifecycle?.first ?? "open" }

    /// The largest body a submission of the form may have (its attachments, as base64 in JSON, plus text).
    func bodyLimit(_ form: RequestForm) -> Int {
        let files = form.fields.filter { $0.type == .attachment }.reduce(0) { $0 + (($1.maxSizeMb ?? 10) << 20) }
        return files * 4 / 3 + (1 << 20)
    }

    // MARK: Checking a submission

    /// The submitted values after checking: the JSON payload to store and the files to attach.
    struct Checked {
        var fields: [String: Any] = [:]
        var files: [(field: String, file: UploadedFile)] = []
        var notify: String?
        var problems: [FieldProblem] = []
        /// What conditions and windows read (see `conditionValues`).
        var conditionValues: [String: String] = [:]
    }

    static func defaultMaxLength(_ type: FormFieldType) -> Int {
        switch type {
        case .textarea: 4000
        case .address: 300
        case .invoice: 50
        default: 200
        }
    }

    static let contentTypes = ["pdf": "application/pdf", "png": "image/png", "jpg": "image/jpeg", "jpeg": "image/jpeg",
                               "gif": "image/gif", "txt": "text/plain; charset=utf-8", "log": "text/plain; charset=utf-8",
                               "csv": "text/csv; charset=utf-8", "zip": "application/zip"]

    /// `not_your_record`, naming the kind's records in each language of the tenant.
    private func notYourRecord(_ field: String, kind: RecordKindDefinition?) -> FieldProblem {
        var translations: [String: String] = [:]
        for code in definition.locales.available {
            translations[code] = tenant.theme.text("requests.error.not_your_record", locale: code, ["kind": kind?.labelPlural.resolve(code) ?? ""])
        }
        return FieldProblem(field: field, code: "not_your_record", message: LocalizedText(translations: translations))
    }

    private func problem(_ field: String, _ code: String, _ values: [String: String] = [:]) -> FieldProblem {
        FieldProblem(field: field, code: code, message: localized("requests.error.\(code)", values))
    }

    /// Text as stored: trimmed, Windows line ends made Unix ones (so a 300-character note is 300 characters).
    static func clean(_ text: String) -> String {
        text.replacingOccurrences(of: "\r\n", with: "\n").trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// A phone number's digits (an Italian `+39`/`0039` prefix dropped), nil when it is not one.
    static func phoneDigits(_ text: String) -> String? {
        var number = text.filter { !$0.isWhitespace && $0 != "-" && $0 != "." && $0 != "/" }
        if number.hasPrefix("+39") { number.removeFirst(3) } else if number.hasPrefix("0039") { number.removeFirst(4) }
        guard (6...13).contains(number.count), number.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
        return number
    }

    /// The customer's line `text` names: the same identifier, or the same phone number however it is written.
    /// Identifiers that are not phone numbers (an access code, an ICCID) must match exactly.
    static func line(_ text: String, in lines: [LineRecord]) -> LineRecord? {
        if let exact = lines.first(where: { $0.identifier == text }) { return exact }
        guard let digits = phoneDigits(text) else { return nil }
        return lines.first { phoneDigits($0.identifier) == digits }
    }

    /// A number as people type it: `12,5` or `12.5`, `1.234,5` or `1,234.5`, `-3`; nil when it is not one.
    /// A single separator is the decimal mark; repeated ones, or the first of two kinds, group thousands.
    static func number(_ text: String) -> Decimal? {
        var digits = text.filter { !$0.isWhitespace && $0 != "'" }
        var sign = ""
        if let first = digits.first, first == "-" || first == "+" {
            sign = first == "-" ? "-" : ""
            digits.removeFirst()
        }
        guard !digits.isEmpty, digits.allSatisfy({ $0.isASCII && ($0.isNumber || $0 == "." || $0 == ",") }) else { return nil }
        let dots = digits.filter { $0 == "." }.count, commas = digits.filter { $0 == "," }.count
        let decimalMark: Character?
        if dots > 0 && commas > 0 {
            decimalMark = digits.lastIndex(of: ".")! > digits.lastIndex(of: ",")! ? "." : ","
        } else if dots == 1 {
            decimalMark = "."
        } else if commas == 1 {
            decimalMark = ","
        } else {
            decimalMark = nil
        }
        let parts = decimalMark.map { mark in digits.split(separator: mark, omittingEmptySubsequences: false).map(String.init) } ?? [digits]
        guard parts.count <= 2, let whole = parts.first else { return nil }
        let fraction = parts.count == 2 ? parts[1] : ""
        guard parts.count == 1 || !fraction.isEmpty, fraction.allSatisfy(\.isNumber) else { return nil }
        let groups = whole.split(whereSeparator: { $0 == "." || $0 == "," }).map(String.init)
        if groups.count > 1 {
            guard whole.filter({ $0 == "." || $0 == "," }).count == groups.count - 1,
                  (1...3).contains(groups[0].count), groups.dropFirst().allSatisfy({ $0.count == 3 }) else { return nil }
        }
        let integer = groups.joined()
        guard !integer.isEmpty || !fraction.isEmpty else { return nil }
        return Decimal(string: sign + (integer.isEmpty ? "0" : integer) + (fraction.isEmpty ? "" : "." + fraction),
                       locale: Locale(identifier: "en_US_POSIX"))
    }

    /// A valid IMEI: 15 digits with the Luhn check digit.
    static func isIMEI(_ text: String) -> Bool {
        let digits = text.filter { !$0.isWhitespace && $0 != "-" }
        guard digits.count == 15, digits.allSatisfy({ $0.isASCII && $0.isNumber }) else { return false }
        var sum = 0
        for (index, character) in digits.reversed().enumerated() {
            var value = Int(String(character))!
            if index % 2 == 1 { value *= 2; if value > 9 { value -= 9 } }
            sum += value
        }
        return sum % 10 == 0
    }

    /// Whether the bytes look like the extension says (PDF, PNG, JPEG, GIF, ZIP signatures; text is UTF-8 without NULs).
    static func contentMatches(_ data: Data, extension ext: String) -> Bool {
        let bytes = [UInt8](data.prefix(8))
        switch ext {
        case "pdf": return bytes.starts(with: Array("%PDF".utf8))
        case "png": return bytes.starts(with: [0x89, 0x50, 0x4E, 0x47])
        case "jpg", "jpeg": return bytes.starts(with: [0xFF, 0xD8, 0xFF])
        case "gif": return bytes.starts(with: Array("GIF8".utf8))
        case "zip": return bytes.starts(with: [0x50, 0x4B])
        case "txt", "log", "csv": return !data.contains(0) && String(data: data, encoding: .utf8) != nil
        default: return true
        }
    }

    // MARK: Record fields

    /// The record kind a `record` field picks from (nil when the tenant defines no such kind).
    func recordKind(of field: FormField) -> RecordKindDefinition? {
        guard field.type == .record, let kind = field.kind else { return nil }
        return definition.recordKinds[kind]
    }

    /// The records the user may pick in a `record` field: the kind's records of `customerId` that the user's role
    /// sees (only those assigned to the user with the `own` scope), matching the field's `filter` and inside the
    /// kind's visibility window. Nil when there are none to pick: the role does not see the kind, the kind is
    /// unknown or the filter cannot be applied.
    func recordQuery(for field: FormField, customerId: Int64, today: CalendarDay, limit: Int = RequestForms.recordChoiceLimit) -> RecordQuery? {
        guard let kindId = field.kind, let kind = recordKind(of: field),
              let scope = kind.scope(for: context.session.principal, in: tenant.authorization),
              let filters = field.recordFilters(of: kind, in: FieldContext(locale: locale, tenant: definition, today: today)) else { return nil }
        return RecordQuery(kind: kindId, customerId: customerId, userId: scope == .own ? context.user.id : nil, filters: filters,
                           visibleFrom: kind.visibleFrom(today: today), limit: limit)
    }

    /// The most records a `record` field lists (newest first); one further down may still be chosen by its id.
    static let recordChoiceLimit = 500

    /// Whether `record`, already found among `query`'s customer, kind and user, also meets its filters and window.
    static func matches(_ record: TenantRecord, _ query: RecordQuery) -> Bool {
        guard record.kind == query.kind, record.customerId == query.customerId,
              query.userId == nil || record.userId == query.userId else { return false }
        if let from = query.visibleFrom, let date = record.date, date < from.description { return false }
        return query.filters.allSatisfy { filter in
            guard case .equals(let field, let value) = filter else { return false }
            return record.values[field] == value
        }
    }

    /// How a record is named in a form's list and on the request: its external id, then the values of the first
    /// columns of the kind's list (empty ones left out).
    func recordLabel(_ record: TenantRecord, kind: RecordKindDefinition, locale: String) -> String {
        let identifier = kind.display(kind.externalId, of: record, locale: locale).nonEmpty ?? record.externalId
        let columns = kind.listColumns.filter { $0 != kind.externalId }.map { kind.display($0, of: record, locale: locale) }.filter { !$0.isEmpty }
        return ([identifier] + columns.prefix(2)).joined(separator: " · ")
    }

    /// The value a `record` field stores: the record's id (what the request points at), its kind and external id,
    /// and its label at the time, in the tenant's language (shown if the record is later deleted).
    func storedValue(of record: TenantRecord, kind: RecordKindDefinition) -> [String: Any] {
        ["record_id": record.id, "kind": record.kind, "external_id": record.externalId,
         "label": recordLabel(record, kind: kind, locale: definition.locales.default)]
    }

    /// The record a stored `record` value points at, read back from a request's payload.
    struct RecordReference {
        var id: Int64
        var kind: String
        var externalId: String
        var label: String

        init?(_ value: Any) {
            guard let entry = value as? [String: Any], let id = (entry["record_id"] as? NSNumber)?.int64Value,
                  let kind = entry["kind"] as? String else { return nil }
            self.id = id
            self.kind = kind
            externalId = entry["external_id"] as? String ?? ""
            label = entry["label"] as? String ?? ""
        }

        /// Whether `record` is still the one the request chose: the same id, kind and external id (a record
        /// deleted and imported again under the same external id is another record).
        func isStill(_ record: TenantRecord?) -> Bool {
            guard let record else { return false }
            return record.id == id && record.kind == kind && record.externalId == externalId
        }
    }

    /// The values a submission's conditions, windows and deadlines read: each field's value as it would be stored
    /// (typed fields normalised; nothing for a value they refuse), and for a picked record its id plus its fields as
    /// `<form field>.<record field>`.
    func conditionValues(_ form: RequestForm, values: [String: [String]], records: [String: TenantRecord], today: CalendarDay) -> [String: String] {
        let rules = rules(form)
        let context = FieldContext(locale: locale, tenant: definition, today: today)
        var result: [String: String] = [:]
        for field in form.fields {
            let raw = Self.clean(values[field.name]?.first ?? "")
            if field.type == .record {
                guard let record = records[field.name] else { continue }
                result[field.name] = String(record.id)
                for (key, value) in record.values { result["\(field.name).\(key)"] = value }
            } else if var typed = rules.typedDefinition(of: field) {
                typed.required = false
                typed.validators = nil
                if case .success(let value?) = typed.validate(raw, field: field.name, in: context) { result[field.name] = value.canonical }
            } else if field.type == .date {
                if let day = Self.isoDay(raw) { result[field.name] = day }
            } else if !raw.isEmpty {
                result[field.name] = raw
            }
        }
        return result
    }

    /// A typed value as the request's JSON keeps it: integers and booleans as JSON numbers and booleans, decimals
    /// as exact text (`12.50`), dates as `yyyy-mm-dd`, options by id.
    static func stored(_ value: FieldValue) -> Any {
        switch value {
        case .integer(let number): NSNumber(value: number)
        case .boolean(let flag): NSNumber(value: flag)
        default: value.canonical
        }
    }

    /// `deadline_passed`: the form's message, else the platform's naming the last day it could be sent.
    private func deadlineProblem(_ missed: RequestFormRules.MissedDeadline, form: RequestForm) -> FieldProblem {
        let label = form.fields.first { $0.name == missed.field }?.label
        var translations: [String: String] = [:]
        for code in definition.locales.available {
            translations[code] = missed.message?.resolve(code).nonEmpty
                ?? tenant.theme.text("requests.error.deadline_passed", locale: code,
                                     ["field": label?.resolve(code) ?? missed.field, "last_day": Formatting.day(missed.lastDay.description)])
        }
        return FieldProblem(field: missed.field, code: "deadline_passed", message: LocalizedText(translations: translations))
    }

    /// Checks every field of `form` in `input` and reports every problem at once. `records` holds, by field name,
    /// the record a `record` field's submitted id names when the user may choose it there (see `recordQuery`).
    /// Fields whose `when` does not hold are neither required nor stored; deadlines are checked on `today`.
    func check(_ form: RequestForm, values: [String: [String]], files: [String: UploadedFile], lines: [LineRecord],
               invoices: [InvoiceRecord], records: [String: TenantRecord] = [:], today: CalendarDay) -> Checked {
        var checked = Checked()
        let rules = rules(form)
        checked.conditionValues = conditionValues(form, values: values, records: records, today: today)
        let shown = rules.shownFields(checked.conditionValues)
        let fieldContext = FieldContext(locale: locale, tenant: definition, today: today)
        func first(_ name: String) -> String { Self.clean(values[name]?.first ?? "") }
        for field in form.fields where shown.contains(field.name) {
            let name = field.name
            let required = field.required ?? false
            if let typed = rules.typedDefinition(of: field) {
                switch typed.validate(first(name), field: name, in: fieldContext) {
                case .success(let value?): checked.fields[name] = Self.stored(value)
                case .success(nil): break
                case .failure(let problems): checked.problems += problems.problems
                }
                continue
            }
            switch field.type {
            case .attachment:
                guard let file = files[name] else {
                    if required { checked.problems.append(problem(name, "file_required")) }
                    continue
                }
                let ext = (file.fileName as NSString).pathExtension.lowercased()
                let accepted = (field.accept ?? []).map { $0.lowercased() }
                let acceptedWithAliases = accepted + (accepted.contains("jpg") ? ["jpeg"] : [])
                let maxBytes = (field.maxSizeMb ?? 10) << 20
                if file.data.isEmpty {
                    checked.problems.append(problem(name, "file_empty"))
                } else if !accepted.isEmpty && !acceptedWithAliases.contains(ext) {
                    checked.problems.append(problem(name, "file_type", ["types": accepted.joined(separator: ", ").uppercased()]))
                } else if file.data.count > maxBytes {
                    checked.problems.append(problem(name, "file_too_large", ["max": String(field.maxSizeMb ?? 10)]))
                } else if !Self.contentMatches(file.data, extension: ext) {
                    checked.problems.append(problem(name, "file_content", ["type": ext.uppercased()]))
                } else {
                    var stored = file
                    stored.contentType = Self.contentTypes[ext] ?? "application/octet-stream"
                    checked.files.append((name, stored))
                }
            case .lines:
                let maximum = field.maxItems ?? 10
                var chosen: [String] = []
                for raw in values[name] ?? [] {
                    for piece in raw.split(whereSeparator: { $0 == "\n" || $0 == "," || $0 == ";" || $0 == "\r" }) {
                        let text = piece.trimmingCharacters(in: .whitespaces)
                        if !text.isEmpty && !chosen.contains(text) { chosen.append(text) }
                    }
                }
                if chosen.isEmpty {
                    if required { checked.problems.append(problem(name, "lines_required")) }
                    continue
                }
                if chosen.count > maximum {
                    checked.problems.append(problem(name, "too_many_lines", ["max": String(maximum), "count": String(chosen.count)]))
                    continue
                }
                var normalised: [String] = []
                var unknown: [String] = []
                for line in chosen {
                    if lines.isEmpty {
                        if let digits = Self.phoneDigits(line) { normalised.append(digits) } else { unknown.append(line) }
                    } else if let match = Self.line(line, in: lines) {
                        normalised.append(match.identifier)
                    } else {
                        unknown.append(line)
                    }
                }
                if !unknown.isEmpty {
                    checked.problems.append(problem(name, lines.isEmpty ? "invalid_phone" : "not_your_line", ["lines": unknown.joined(separator: ", ")]))
                } else {
                    checked.fields[name] = normalised
                }
            case .person:
                let person = first("\(name)_name"), phone = first("\(name)_phone"), email = first("\(name)_email")
                var entry: [String: String] = [:]
                if person.isEmpty {
                    if required { checked.problems.append(problem("\(name)_name", "required")) }
                } else if person.count > 100 {
                    checked.problems.append(problem("\(name)_name", "too_long", ["max": "100", "count": String(person.count)]))
                } else {
                    entry["name"] = person
                }
                if !phone.isEmpty {
                    if let digits = Self.phoneDigits(phone) { entry["phone"] = digits } else { checked.problems.append(problem("\(name)_phone", "invalid_phone", ["lines": phone])) }
                }
                if !email.isEmpty {
                    if UsernameRules.validateEmail(email, field: "\(name)_email").isEmpty { entry["email"] = email } else {
                        checked.problems.append(problem("\(name)_email", "invalid_email"))
                    }
                }
                if !entry.isEmpty { checked.fields[name] = entry }
            default:
                let value = first(name)
                if value.isEmpty {
                    if required { checked.problems.append(problem(name, [.choice, .record].contains(field.type) ? "choice_required" : "required")) }
                    continue
                }
                let maximum = field.maxLength ?? Self.defaultMaxLength(field.type)
                if value.count > maximum {
                    checked.problems.append(problem(name, "too_long", ["max": String(maximum), "count": String(value.count)]))
                    continue
                }
                switch field.type {
                case .choice:
                    if let options = field.options, !options.contains(value) {
                        checked.problems.append(problem(name, "not_an_option"))
                    } else { checked.fields[name] = value }
                case .email:
                    if UsernameRules.validateEmail(value, field: name).isEmpty { checked.fields[name] = value } else {
                        checked.problems.append(problem(name, "invalid_email"))
                    }
                case .phone:
                    if let digits = Self.phoneDigits(value) { checked.fields[name] = digits } else {
                        checked.problems.append(problem(name, "invalid_phone", ["lines": value]))
                    }
                case .line:
                    if lines.isEmpty {
                        if let digits = Self.phoneDigits(value) { checked.fields[name] = digits } else {
                            checked.problems.append(problem(name, "invalid_phone", ["lines": value]))
                        }
                    } else if let match = Self.line(value, in: lines) {
                        checked.fields[name] = match.identifier
                    } else {
                        checked.problems.append(problem(name, "not_your_line", ["lines": value]))
                    }
                case .imei:
                    if Self.isIMEI(value) { checked.fields[name] = value.filter { $0.isNumber } } else {
                        checked.problems.append(problem(name, "invalid_imei"))
                    }
                case .number:
                    if let number = Self.number(value) { checked.fields[name] = NSDecimalNumber(decimal: number) } else {
                        checked.problems.append(problem(name, "not_a_number"))
                    }
                case .date:
                    if let day = Self.isoDay(value) { checked.fields[name] = day } else {
                        checked.problems.append(problem(name, "invalid_date"))
                    }
                case .invoice:
                    if invoices.isEmpty || invoices.contains(where: { $0.number == value }) { checked.fields[name] = value } else {
                        checked.problems.append(problem(name, "not_your_invoice"))
                    }
                case .record:
                    // Only the very record named, and only one the user may pick here: never another in its place.
                    if let record = records[name], Int64(value) == record.id, let kind = recordKind(of: field) {
                        checked.fields[name] = storedValue(of: record, kind: kind)
                    } else {
                        checked.problems.append(notYourRecord(name, kind: recordKind(of: field)))
                    }
                default:
                    checked.fields[name] = value
                }
            }
        }
        let failed = Set(checked.problems.map(\.field))
        for missed in rules.missedDeadlines(checked.conditionValues, today: today) where !failed.contains(missed.field) {
            checked.problems.append(deadlineProblem(missed, form: form))
        }
        let channels = (form.notify ?? []).map(\.rawValue)
        let notify = Self.clean(values["notify"]?.first ?? "")
        if channels.count > 1 {
            if notify.isEmpty {
                checked.problems.append(problem("notify", "choice_required"))
            } else if !channels.contains(notify) {
                checked.problems.append(problem("notify", "not_an_option"))
            } else {
                checked.notify = notify
                // SMS needs a mobile number and e-mail an address of the person to notify (the referent).
                if let person = form.fields.first(where: { $0.type == .person }), checked.problems.allSatisfy({ !$0.field.hasPrefix(person.name) }) {
                    let entry = checked.fields[person.name] as? [String: String] ?? [:]
                    if notify == "sms" && entry["phone"] == nil { checked.problems.append(problem("\(person.name)_phone", "needed_for_sms")) }
                    if notify == "email" && entry["email"] == nil { checked.problems.append(problem("\(person.name)_email", "needed_for_email")) }
                }
            }
        } else {
            checked.notify = channels.first
        }
        return checked
    }

    /// `YYYY-MM-DD` from `YYYY-MM-DD` or `DD/MM/YYYY`, nil unless a real day.
    static func isoDay(_ text: String) -> String? {
        let parts = text.split(whereSeparator: { $0 == "-" || $0 == "/" || $0 == "." }).map(String.init)
        guard parts.count == 3 else { return nil }
        let (y, m, d) = parts[0].count == 4 ? (parts[0], parts[1], parts[2]) : (parts[2], parts[1], parts[0])
        guard let year = Int(y), let month = Int(m), let day = Int(d), (1900...2200).contains(year), (1...12).contains(month), day >= 1 else { return nil }
        let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
        let lengths = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
        guard day <= lengths[month - 1] else { return nil }
        return String(format: "%04d-%02d-%02d", year, month, day)
    }

    /// The request's subject: the form's label, with its subject, topic or option when it has one.
    func subject(_ form: RequestForm, fields: [String: Any]) -> String {
        let label = form.label.resolve(definition.locales.default)
        for key in ["subject", "topic", "option"] {
            if let value = fields[key] as? String, !value.isEmpty { return String("\(label): \(value)".prefix(200)) }
        }
        return label
    }
}
