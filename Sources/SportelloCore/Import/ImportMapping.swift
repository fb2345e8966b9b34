import Foundation

/// An imported record waiting for its references (other records' external ids) to be resolved to ids.
public struct PendingRecord<Record: Sendable>: Sendable {
    public var line: Int
    public var record: Record
    /// The external id of the parent record (customer, contract or line), by kind.
    public var references: [ImportKind: String]
}

/// The records of one import file, typed and checked, grouped by kind in application order.
public struct ImportBatch: Sendable {
    public var customers: [PendingRecord<CustomerRecord>] = []
    public var contracts: [PendingRecord<ContractRecord>] = []
    public var lines: [PendingRecord<LineRecord>] = []
    public var invoices: [PendingRecord<InvoiceRecord>] = []
    public var payments: [PendingRecord<PaymentRecord>] = []
    public var usage: [PendingRecord<UsageRecord>] = []
    public var recharges: [PendingRecord<RechargeRecord>] = []
    /// The values of the tenant's own customer fields (`customer_fields:`) of each customer row, canonical, nil for
    /// a field the row leaves empty (the row is the customer: an empty field is cleared); the reference is the
    /// customer's external id.
    public var customerFieldValues: [PendingRecord<[String: String?]>] = []
    /// Rows of the tenant's own record kinds, in file order; the reference is the customer's external id (`.customer`)
    /// or the owner record's (`.record(<owner kind>)`).
    public var records: [PendingRecord<ImportedRecord>] = []

    public var count: Int {
        customers.count + contracts.count + lines.count + invoices.count + payments.count + usage.count + recharges.count + records.count
    }
}

/// A row of one of the tenant's record kinds, its values validated against the kind's fields.
public struct ImportedRecord: Sendable {
    public var kind: String
    /// The value of the kind's `external_id` field (canonical).
    public var externalId: String
    /// The value of the kind's `date` field (`yyyy-MM-dd`).
    public var date: String?
    /// Validated values by field id (fields left empty are absent).
    public var values: [String: FieldValue]
    /// The username of the customer's user the record is assigned to (`user`).
    public var username: String?
}

/// Turns parsed rows into typed records, checking every field; collects every problem.
public struct ImportMapper {
    public let customerTypes: Set<String>
    public let now: Int64
    /// The tenant's own customer fields and record kinds.
    public let customerFields: OrderedMap<FieldDefinition>
    public let recordKinds: OrderedMap<RecordKindDefinition>
    /// How field values are checked: in English (the messages go to the command line), on the day of `now`.
    let fieldContext: FieldContext

    public init(tenant: TenantDefinition, now: Int64, checks: FieldChecks = .standard) {
        customerTypes = Set(tenant.customerTypes.keys)
        self.now = now
        customerFields = tenant.customerFields ?? OrderedMap()
        recordKinds = tenant.recordKinds
        fieldContext = FieldContext(locale: "en", defaultLocale: "en", today: CalendarDay(instant: now), checks: checks)
    }

    /// The columns a row of `kind` may have.
    func allowedFields(_ kind: ImportKind) -> [String] {
        if let id = kind.recordKind {
            guard let definition = recordKinds[id] else { return [] }
            return [definition.ownerKind == nil ? "customer" : "owner", "user"] + definition.fields.keys
        }
        return (Self.allowedFields[kind] ?? []) + (kind == .customer ? customerFields.keys : [])
    }

    static let allowedFields: [ImportKind: [String]] = [
        .customer: ["external_id", "customer_type", "customer_code", "first_name", "last_name", "company_name", "tax_code",
                    "vat_number", "birth_date", "birth_place", "email", "phone", "mobile", "pec", "recipient_code", "iban",
                    "street", "postal_code", "city", "province", "legal_rep_first_name", "legal_rep_last_name",
                    "legal_rep_birth_date", "legal_rep_tax_code", "legal_rep_email", "legal_rep_mobile",
                    "administrative_status", "invoice_delivery", "payment_method", "payment_method_problem"],
        .contract: ["external_id", "customer", "code", "offer", "kind", "status", "starts_on", "expires_on"],
        .line: ["external_id", "contract", "kind", "identifier", "description", "status", "activated_on", "expires_on",
                "roaming_data_threshold_mb"],
        .invoice: ["external_id", "customer", "contract", "number", "issued_on", "due_on", "period_from", "period_to",
                   "net_cents", "tax_cents", "total_cents", "status", "paid_on"],
        .payment: ["external_id", "customer", "invoice", "paid_on", "amount_cents", "method", "reference"],
        .usage: ["external_id", "line", "started_at", "kind", "counterpart", "duration_seconds", "volume_bytes",
                 "cost_cents", "description", "roaming"],
        .recharge: ["external_id", "line", "recharged_at", "amount_cents", "channel", "status"],
    ]

    public func map(_ rows: [ImportRow]) -> (batch: ImportBatch, problems: [ImportProblem]) {
        var batch = ImportBatch()
        var problems: [ImportProblem] = []
        var reportedUnknown = Set<String>()
        var seen: [ImportKind: [String: Int]] = [:]
        for row in rows {
            var reader = FieldReader(row: row)
            let allowed = allowedFields(row.kind)
            for name in row.fields.keys.sorted() where !allowed.contains(name) {
                guard reportedUnknown.insert("\(row.kind.rawValue).\(name)").inserted else { continue }
                let hint = Suggest.closest(to: name, in: allowed).map { " (did you mean '\($0)'?)" } ?? ""
                let what = row.kind.recordKind.map { "a \($0) record" } ?? "a \(row.kind.rawValue)"
                reader.problem("unknown field '\(name)' for \(what)\(hint)")
            }
            if let id = row.kind.recordKind {
                if let pending = record(id, &reader, seen: &seen) { batch.records.append(pending) }
                problems.append(contentsOf: reader.problems)
                continue
            }
            let externalId = reader.required("external_id")
            if let externalId {
                if let first = seen[row.kind, default: [:]][externalId] {
                    reader.problem("\(row.kind.rawValue) '\(externalId)' appears twice in the file (first on line \(first))")
                } else {
                    seen[row.kind, default: [:]][externalId] = row.line
                }
            }
            switch row.kind {
            case .customer:
                let record = customer(&reader, externalId: externalId)
                let custom = customFieldValues(&reader)
                if let record, let externalId, reader.problems.isEmpty {
                    batch.customers.append(PendingRecord(line: row.line, record: record, references: [:]))
                    if !customerFields.isEmpty {
                        batch.customerFieldValues.append(PendingRecord(line: row.line, record: custom, references: [.customer: externalId]))
                    }
                }
            case .contract:
                let customerRef = reader.required("customer")
                let record = ContractRecord(
                    externalId: externalId, customerId: 0, code: reader.required("code") ?? "", offer: reader.required("offer") ?? "",
                    kind: reader.required("kind") ?? "", status: reader.oneOf("status", ContractStatus.self) ?? .active,
                    startsOn: reader.date("starts_on", required: true) ?? "", expiresOn: reader.date("expires_on"))
                if let customerRef, reader.problems.isEmpty {
                    batch.contracts.append(PendingRecord(line: row.line, record: record, references: [.customer: customerRef]))
                }
            case .line:
                let contractRef = reader.required("contract")
                let record = LineRecord(
                    externalId: externalId, customerId: 0, contractId: 0,
                    kind: reader.oneOf("kind", ["sim", "fixed_line", "hosting", "supply_point"], required: true) ?? "",
                    identifier: reader.required("identifier") ?? "", description: reader.optional("description"),
                    status: reader.oneOf("status", LineStatus.self) ?? .active,
                    activatedOn: reader.date("activated_on"), expiresOn: reader.date("expires_on"),
                    roamingDataThresholdBytes: reader.integer("roaming_data_threshold_mb", minimum: 1).map { $0 * 1_048_576 })
                if let contractRef, reader.problems.isEmpty {
                    batch.lines.append(PendingRecord(line: row.line, record: record, references: [.contract: contractRef]))
                }
            case .invoice:
                let customerRef = reader.required("customer")
                let contractRef = reader.optional("contract")
                let net = reader.integer("net_cents", required: true) ?? 0
                let tax = reader.integer("tax_cents", required: true) ?? 0
                let total = reader.integer("total_cents", required: true) ?? 0
                if reader.problems.isEmpty && net + tax != total {
                    reader.problem("total_cents \(total) is not net_cents + tax_cents (\(net + tax))")
                }
                let issued = reader.date("issued_on", required: true)
                let due = reader.date("due_on", required: true)
                if let issued, let due, due < issued { reader.problem("due_on \(due) is before issued_on \(issued)") }
                let record = InvoiceRecord(
                    externalId: externalId, customerId: 0, number: reader.required("number") ?? "", issuedOn: issued ?? "",
                    dueOn: due ?? "", periodFrom: reader.date("period_from"), periodTo: reader.date("period_to"),
                    netCents: net, taxCents: tax, totalCents: total,
                    status: reader.oneOf("status", InvoiceStatus.self, required: true) ?? .unpaid,
                    paidOn: reader.date("paid_on"))
                if let customerRef, reader.problems.isEmpty {
                    var references: [ImportKind: String] = [.customer: customerRef]
                    references[.contract] = contractRef
                    batch.invoices.append(PendingRecord(line: row.line, record: record, references: references))
                }
            case .payment:
                let customerRef = reader.required("customer")
                let invoiceRef = reader.optional("invoice")
                let record = PaymentRecord(
                    externalId: externalId, customerId: 0, paidOn: reader.date("paid_on", required: true) ?? "",
                    amountCents: reader.integer("amount_cents", required: true, minimum: 1) ?? 0,
                    method: reader.required("method") ?? "", reference: reader.optional("reference"))
                if let customerRef, reader.problems.isEmpty {
                    var references: [ImportKind: String] = [.customer: customerRef]
                    references[.invoice] = invoiceRef
                    batch.payments.append(PendingRecord(line: row.line, record: record, references: references))
                }
            case .usage:
                let lineRef = reader.required("line")
                let record = UsageRecord(
                    externalId: externalId, customerId: 0, lineId: 0, startedAt: reader.instant("started_at") ?? 0,
                    kind: reader.oneOf("kind", ["call", "sms", "mms", "data", "option"], required: true) ?? "",
                    counterpart: reader.optional("counterpart"),
                    durationSeconds: reader.integer("duration_seconds", minimum: 0) ?? 0,
                    volumeBytes: reader.integer("volume_bytes", minimum: 0) ?? 0,
                    costCents: reader.integer("cost_cents", minimum: 0) ?? 0, description: reader.optional("description"),
                    roaming: reader.bool("roaming"))
                if let lineRef, reader.problems.isEmpty {
                    batch.usage.append(PendingRecord(line: row.line, record: record, references: [.line: lineRef]))
                }
            case .recharge:
                let lineRef = reader.required("line")
                let record = RechargeRecord(
                    externalId: externalId, customerId: 0, lineId: 0, rechargedAt: reader.instant("recharged_at") ?? 0,
                    amountCents: reader.integer("amount_cents", required: true, minimum: 1) ?? 0,
                    channel: reader.required("channel") ?? "",
                    status: reader.oneOf("status", RechargeStatus.self) ?? .completed)
                if let lineRef, reader.problems.isEmpty {
                    batch.recharges.append(PendingRecord(line: row.line, record: record, references: [.line: lineRef]))
                }
            case .record:
                break
            }
            problems.append(contentsOf: reader.problems)
        }
        return (batch, problems)
    }

    /// The row's values of the tenant's own customer fields, each checked as the field checks what a customer types.
    private func customFieldValues(_ reader: inout FieldReader) -> [String: String?] {
        var values: [String: String?] = [:]
        for (id, field) in customerFields {
            values[id] = reader.field(id, field, context: fieldContext)?.canonical
        }
        return values
    }

    /// A row of record kind `id`: its fields checked against the kind's, its external id unique in the file, and its
    /// owner (the customer's external id, or the owner record's) named.
    private func record(_ id: String, _ reader: inout FieldReader, seen: inout [ImportKind: [String: Int]]) -> PendingRecord<ImportedRecord>? {
        guard let definition = recordKinds[id] else { return nil }
        var values: [String: FieldValue] = [:]
        for (fieldID, field) in definition.fields {
            var checked = field
            if fieldID == definition.externalId { checked.required = true }
            if let value = reader.field(fieldID, checked, context: fieldContext) { values[fieldID] = value }
        }
        let ownerKey = definition.ownerKind == nil ? "customer" : "owner"
        let ownerReference = reader.required(ownerKey)
        let externalId = values[definition.externalId]?.canonical
        if let externalId {
            if let first = seen[.record(id), default: [:]][externalId] {
                reader.problem("\(id) record '\(externalId)' appears twice in the file (first on line \(first))")
            } else {
                seen[.record(id), default: [:]][externalId] = reader.row.line
            }
        }
        guard let externalId, let ownerReference, reader.problems.isEmpty else { return nil }
        let record = ImportedRecord(kind: id, externalId: externalId, date: definition.date.flatMap { values[$0]?.canonical },
                                    values: values, username: reader.optional("user"))
        let reference: ImportKind = definition.ownerKind.map { .record($0) } ?? .customer
        return PendingRecord(line: reader.row.line, record: record, references: [reference: ownerReference])
    }

    private func customer(_ reader: inout FieldReader, externalId: String?) -> CustomerRecord? {
        let type = reader.required("customer_type")
        if let type, !customerTypes.contains(type) {
            let hint = Suggest.closest(to: type, in: customerTypes).map { " (did you mean '\($0)'?)" } ?? ""
            reader.problem("customer_type '\(type)' is not one of this tenant's types: \(customerTypes.sorted().joined(separator: ", "))\(hint)")
        }
        let taxCode = reader.optional("tax_code")?.uppercased()
        if let taxCode, !ItalianIdentifiers.isValidCodiceFiscale(taxCode) {
            reader.problem("tax_code '\(taxCode)' is not a valid codice fiscale (check the check character)")
        }
        if let vat = reader.optional("vat_number"), !ItalianIdentifiers.isValidPartitaIVA(vat) {
            reader.problem("vat_number '\(vat)' is not a valid partita IVA (11 digits with a correct check digit)")
        }
        if let legalTax = reader.optional("legal_rep_tax_code"), !ItalianIdentifiers.isValidCodiceFiscale(legalTax) {
            reader.problem("legal_rep_tax_code '\(legalTax)' is not a valid codice fiscale")
        }
        if let iban = reader.optional("iban"), !ItalianIdentifiers.isValidIBAN(iban) {
            reader.problem("iban is not valid (check digits do not match)")
        }
        for field in ["email", "pec", "legal_rep_email"] {
            if let value = reader.optional(field), !ItalianIdentifiers.isPlausibleEmail(value) {
                reader.problem("\(field) '\(value)' is not an e-mail address")
            }
        }
        if let postal = reader.optional("postal_code"), !ItalianIdentifiers.isValidItalianPostalCode(postal) {
            reader.problem("postal_code '\(postal)' is not a 5-digit CAP")
        }
        if reader.optional("company_name") == nil && (reader.optional("first_name") == nil || reader.optional("last_name") == nil) {
            reader.problem("a customer needs company_name, or first_name and last_name")
        }
        let record = CustomerRecord(
            externalId: externalId, customerType: type ?? "", customerCode: reader.required("customer_code") ?? "",
            firstName: reader.optional("first_name"), lastName: reader.optional("last_name"),
            companyName: reader.optional("company_name"), taxCode: taxCode, vatNumber: reader.optional("vat_number"),
            birthDate: reader.date("birth_date"), birthPlace: reader.optional("birth_place"), email: reader.optional("email"),
            phone: reader.optional("phone"), mobile: reader.optional("mobile"), pec: reader.optional("pec"),
            recipientCode: reader.optional("recipient_code"), iban: reader.optional("iban")?.replacingOccurrences(of: " ", with: "").uppercased(),
            street: reader.optional("street"), postalCode: reader.optional("postal_code"), city: reader.optional("city"),
            province: reader.optional("province"), legalRepFirstName: reader.optional("legal_rep_first_name"),
            legalRepLastName: reader.optional("legal_rep_last_name"), legalRepBirthDate: reader.date("legal_rep_birth_date"),
            legalRepTaxCode: reader.optional("legal_rep_tax_code")?.uppercased(), legalRepEmail: reader.optional("legal_rep_email"),
            legalRepMobile: reader.optional("legal_rep_mobile"),
            administrativeStatus: reader.oneOf("administrative_status", ["regular", "overdue", "suspended"]) ?? "regular",
            invoiceDelivery: reader.oneOf("invoice_delivery", ["paper", "email", "paperless"]) ?? "email",
            paymentMethod: reader.oneOf("payment_method", ["sepa", "card", "bank_transfer", "postal_slip", "paypal"]) ?? "bank_transfer",
            paymentMethodProblem: reader.optional("payment_method_problem"),
            createdAt: now)
        return record
    }
}

/// Reads typed fields out of one row, noting a problem per bad field.
struct FieldReader {
    let row: ImportRow
    var problems: [ImportProblem] = []

    init(row: ImportRow) {
        self.row = row
    }

    mutating func problem(_ message: String) {
        problems.append(ImportProblem(line: row.line, message: message))
    }

    func optional(_ name: String) -> String? {
        guard let value = row.fields[name]?.trimmingWhitespaces(), !value.isEmpty else { return nil }
        return value
    }

    mutating func required(_ name: String) -> String? {
        guard let value = optional(name) else {
            problem("missing '\(name)'")
            return nil
        }
        return value
    }

    mutating func oneOf(_ name: String, _ allowed: [String], required: Bool = false) -> String? {
        guard let value = required ? self.required(name) : optional(name) else { return nil }
        guard allowed.contains(value) else {
            problem("\(name) '\(value)' is not one of \(allowed.joined(separator: ", "))")
            return nil
        }
        return value
    }

    /// A value of `type`, reported with the allowed values (in declaration order) when it is none of them.
    mutating func oneOf<Value: RawRepresentable & CaseIterable>(_ name: String, _ type: Value.Type, required: Bool = false) -> Value?
    where Value.RawValue == String {
        oneOf(name, Value.allCases.map(\.rawValue), required: required).flatMap(Value.init(rawValue:))
    }

    /// The value of a tenant-defined field, checked and normalised as the field does with what a customer types;
    /// each problem is reported with the field's id, in `context`'s language.
    mutating func field(_ id: String, _ definition: FieldDefinition, context: FieldContext) -> FieldValue? {
        let raw = row.fields[id]
        switch definition.validate(raw, field: id, in: context) {
        case .success(let value):
            return value
        case .failure(let problems):
            for problem in problems.problems {
                if problem.code == FieldProblemCode.required {
                    self.problem("missing '\(id)'")
                } else {
                    self.problem("\(id) '\(raw ?? "")': \(problem.message.resolve(context.locale))")
                }
            }
            return nil
        }
    }

    mutating func integer(_ name: String, required: Bool = false, minimum: Int64? = nil) -> Int64? {
        guard let text = required ? self.required(name) : optional(name) else { return nil }
        guard let value = Int64(text) else {
            problem("\(name) '\(text)' is not a whole number\(name.hasSuffix("_cents") ? " (amounts are in cents: 12,50 € is 1250)" : "")")
            return nil
        }
        if let minimum, value < minimum {
            problem("\(name) \(value) is below \(minimum)")
            return nil
        }
        return value
    }

    /// `true`/`false` (also `1`/`0`, `yes`/`no`, `sì`/`si`); nil when absent.
    mutating func bool(_ name: String) -> Bool? {
        guard let text = optional(name) else { return nil }
        switch text.lowercased() {
        case "true", "1", "yes", "sì", "si": return true
        case "false", "0", "no": return false
        default:
            problem("\(name) '\(text)' is not true or false")
            return nil
        }
    }

    mutating func date(_ name: String, required: Bool = false) -> String? {
        guard let text = required ? self.required(name) : optional(name) else { return nil }
        guard CalendarDay(text) != nil else {
            problem("\(name) '\(text)' is not a date as YYYY-MM-DD")
            return nil
        }
        return text
    }

    /// ISO 8601 with an offset or `Z`, local Italian time without one (`2026-03-01 10:15:00`), or Unix seconds.
    mutating func instant(_ name: String) -> Int64? {
        guard let text = required(name) else { return nil }
        if let seconds = Int64(text) { return seconds }
        if let parsed = InstantParser.parse(text) { return parsed }
        problem("\(name) '\(text)' is not a time (use 2026-03-01T10:15:00+01:00, 2026-03-01 10:15:00 or Unix seconds)")
        return nil
    }
}

/// A fast parser for `YYYY-MM-DD[T ]HH:MM[:SS][Z|±HH:MM]`; without an offset the time is Italian local time.
public enum InstantParser {
    public static func parse(_ text: String) -> Int64? {
        let bytes = Array(text.utf8)
        func number(_ range: Range<Int>) -> Int? {
            guard range.upperBound <= bytes.count else { return nil }
            var value = 0
            for index in range {
                let digit = Int(bytes[index]) - 48
                guard (0...9).contains(digit) else { return nil }
                value = value * 10 + digit
            }
            return value
        }
        guard bytes.count >= 16, bytes[4] == 45, bytes[7] == 45, bytes[10] == 84 || bytes[10] == 32, bytes[13] == 58,
              let year = number(0..<4), let month = number(5..<7), let day = number(8..<10),
              let hour = number(11..<13), let minute = number(14..<16),
              (1...12).contains(month), (1...31).contains(day), hour < 24, minute < 60 else { return nil }
        var index = 16
        var second = 0
        if index < bytes.count, bytes[index] == 58 {
            guard let value = number(17..<19), value < 61 else { return nil }
            second = value
            index = 19
            if index < bytes.count, bytes[index] == 46 {  // fractional seconds are ignored
                index += 1
                while index < bytes.count, (48...57).contains(bytes[index]) { index += 1 }
            }
        }
        let local = daysFromCivil(year: year, month: month, day: day) * 86_400 + Int64(hour * 3600 + minute * 60 + second)
        if index == bytes.count {
            let offset = CalendarDay.timeZone.secondsFromGMT(for: Date(timeIntervalSince1970: TimeInterval(local - 3600)))
            return local - Int64(offset)
        }
        if bytes[index] == 90, index + 1 == bytes.count { return local }
        guard bytes[index] == 43 || bytes[index] == 45, bytes.count == index + 6, bytes[index + 3] == 58,
              let offsetHours = number(index + 1..<index + 3), let offsetMinutes = number(index + 4..<index + 6) else { return nil }
        let offset = Int64(offsetHours * 3600 + offsetMinutes * 60)
        return bytes[index] == 43 ? local - offset : local + offset
    }

    /// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
    static func daysFromCivil(year: Int, month: Int, day: Int) -> Int64 {
        let y = Int64(month <= 2 ? year - 1 : year)
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let m = Int64(month)
        let dayOfYear = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + Int64(day) - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }
}

extension String {
    /// Without leading and trailing `CharacterSet.whitespaces` (spaces, tabs, no-break and other Unicode spaces). A value
    /// that starts and ends with another ASCII character, as nearly every imported field does, is returned as it is
    /// without Foundation's bridging (which was a third of a million-row import).
    func trimmingWhitespaces() -> String {
        if let first = utf8.first, let last = utf8.last, first < 0x80, last < 0x80,
           first != 0x20, first != 0x09, last != 0x20, last != 0x09 {
            return self
        }
        return trimmingCharacters(in: .whitespaces)
    }
}
