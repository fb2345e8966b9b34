import Foundation
import SQLKit
import Testing
@testable import SportelloCore
@testable import SportelloStore

/// The demo data of every tenant against the tenant's own rules: identifiers pass the validators the
/// portal applies to what people type, requests sit in statuses of their form's lifecycle, request
/// numbers run 1, 2, 3… per tenant, prepaid SIMs have a positive credit, plans and prices agree,
/// and users have names of their own.
@Suite("Demo data follows each tenant's rules")
struct DemoDataRulesTests {
    static let tenants = ["unidata", "unogas", "tunda", "windtre", "tim"]
    static let now = CalendarDay(year: 2026, month: 11, day: 21).startInstant + 12 * 3600

    @Test("every generated record satisfies the tenant's validators, lifecycles, numbering, prices and name variety",
          arguments: TestEngine.available)
    func demoDataIsConsistent(engine: TestEngine) async throws {
        try await engine.withDatabase { database in
            for base in Self.tenants {
                let tenant = renamed(try provider(base), to: uniqueTenant(base))
                let generator = DemoDataGenerator(tenant: tenant, now: Self.now, hasher: BcryptPasswordHasher(cost: 4))
                _ = try await generator.generate(into: database)
                try await database.read(tenant: tenant.id) { transaction in
                    try await Self.check(base: base, tenant: tenant, in: transaction)
                }
            }
        }
    }

    /// A second tenant's demo data does not move the first one's request numbers.
    @Test("request numbers are per tenant and race-free", arguments: TestEngine.available)
    func requestNumbersPerTenant(engine: TestEngine) async throws {
        try await engine.withDatabase { database in
            let first = renamed(try provider("unidata"), to: uniqueTenant("numbers-a"))
            let second = renamed(try provider("tunda"), to: uniqueTenant("numbers-b"))
            var customers: [String: Int64] = [:]
            for tenant in [first, second] {
                customers[tenant.id] = try await database.write(tenant: tenant.id, now: Self.now) { transaction in
                    try await transaction.insertCustomer(CustomerRecord(customerType: tenant.customerTypes.keys.first ?? "private",
                                                                        customerCode: "N1", firstName: "Anna", lastName: "Rossi",
                                                                        createdAt: Self.now))
                }
            }
            // Interleaved and concurrent: each tenant still counts 1…20 without gaps or repeats.
            let ids = customers
            try await withThrowingTaskGroup(of: Void.self) { group in
                for index in 0..<20 {
                    for tenant in [first, second] {
                        let customer = ids[tenant.id]!
                        group.addTask {
                            try await database.write(tenant: tenant.id, now: Self.now) { transaction in
                                _ = try await transaction.insertRequest(RequestRecord(customerId: customer, form: "generic",
                                                                                      subject: "Richiesta \(index)", createdAt: Self.now))
                            }
                        }
                    }
                }
                try await group.waitForAll()
            }
            for tenant in [first, second] {
                let numbers = try await database.read(tenant: tenant.id) { try await $0.requests(customerId: ids[tenant.id]!) }
                    .compactMap(\.number).sorted()
                #expect(numbers == Array(1...20), "\(tenant.id): \(numbers)")
            }
        }
    }

    static func check(base: String, tenant: TenantDefinition, in transaction: TenantTransaction) async throws {
        let customers = try await transaction.customers(limit: 1000)
        #expect(!customers.isEmpty)
        // Contacts shown as the provider's come from its documents only: no invented number, PEC or e-mail.
        for code in ["phone", "chat", "fault", "abroad", "pec"] {
            guard let channel = try await transaction.catalogItem(kind: "support_channel", code: code) else { continue }
            let data = channel.data ?? ""
            #expect(!data.contains("example") && !data.contains("+39"), "\(base) support channel \(code): \(data)")
        }
        var userNames: [String] = []
        var userCount = 0
        for customer in customers {
            let kind = tenant.customerTypes[customer.customerType]?.kind ?? .person
            let fields: [(String, String?)] = [
                ("tax_code", customer.taxCode), ("vat_number", customer.vatNumber), ("iban", customer.iban), ("email", customer.email),
                ("pec", customer.pec), ("phone", customer.phone), ("mobile", customer.mobile), ("postal_code", customer.postalCode),
                ("province", customer.province), ("recipient_code", customer.recipientCode), ("birth_date", customer.birthDate),
                ("legal_rep_tax_code", customer.legalRepTaxCode), ("legal_rep_email", customer.legalRepEmail),
                ("legal_rep_mobile", customer.legalRepMobile), ("legal_rep_birth_date", customer.legalRepBirthDate),
                ("first_name", customer.firstName), ("last_name", customer.lastName), ("company_name", customer.companyName),
                ("city", customer.city),
            ]
            for case let (name, value?) in fields {
                if case .failure(let problem) = CustomerDetailsForm.check(name, value, kind: kind) {
                    Issue.record("\(base) \(customer.customerCode) \(name) '\(value)': \(problem.code)")
                }
            }
            if kind == .person, let code = customer.taxCode, let first = customer.firstName, let last = customer.lastName {
                #expect(CustomerDetailsForm.namesFit(taxCode: code, firstName: first, lastName: last), "\(base) \(code) fits \(first) \(last)")
            }
            let customerId = try #require(customer.id)

            // Users: names of their own (not all the customer's).
            let users = try await transaction.users(customerId: customerId)
            userCount += users.count
            let names = users.map { "\($0.firstName ?? "") \($0.lastName ?? "")" }
            userNames += names
            if users.count > 1 { #expect(Set(names).count == users.count, "\(base) \(customer.customerCode): users named \(names)") }

            // Requests: statuses in the form's lifecycle, closed exactly at its last status.
            for request in try await transaction.requests(customerId: customerId) {
                let form = tenant.requests?[request.form]
                let lifecycle = DemoDataGenerator.lifecycle(of: form)
                #expect(lifecycle.contains(request.status), "\(base) request \(request.form) in \(request.status), lifecycle \(lifecycle)")
                #expect((request.closedAt != nil) == (request.status == lifecycle.last), "\(base) request \(request.form) \(request.status) closed_at")
                for event in try await transaction.requestHistory(requestId: request.id ?? 0) {
                    #expect(lifecycle.contains(event.status), "\(base) history of \(request.form): \(event.status) not in \(lifecycle)")
                }
            }

            // Lines: well-formed identifiers; prepaid SIMs with a positive credit.
            for line in try await transaction.lines(customerId: customerId) {
                switch line.kind {
                case "sim":
                    #expect(line.identifier.count == 10 && line.identifier.hasPrefix("3") && line.identifier.allSatisfy(\.isNumber),
                            "\(base) SIM \(line.identifier)")
                    let credit = try await transaction.prepaidCredit(lineId: line.id ?? 0, customerId: customerId)
                    #expect(credit.recharged > 0 && credit.recharged - credit.spent > 0,
                            "\(base) SIM \(line.identifier): recharged \(credit.recharged), spent \(credit.spent)")
                case "fixed_line":
                    #expect(ItalianIdentifiers.isPlausibleItalianPhone(line.identifier) && line.identifier.hasPrefix("0"), "\(base) line \(line.identifier)")
                case "hosting":
                    let labels = line.identifier.split(separator: ".")
                    #expect(labels.count >= 2 && line.identifier.allSatisfy { ($0.isLetter && $0.isASCII) || $0.isNumber || $0 == "." || $0 == "-" },
                            "\(base) domain \(line.identifier)")
                default: break
                }
            }

            // Plans and prices: a hosting account's plan is its contract's offer; invoices add up.
            let contracts = try await transaction.contracts(customerId: customerId)
            for account in try await transaction.hostingAccounts(customerId: customerId) {
                let lines = try await transaction.lines(customerId: customerId)
                let contract = contracts.first { $0.id == lines.first { $0.id == account.lineId }?.contractId }
                #expect(contract?.offer == account.planTitle, "\(base) plan \(account.planTitle) vs contract \(contract?.offer ?? "-")")
            }
            let invoices = try await transaction.all(transaction.select(.invoices).column("*").where("customer_id", .equal, customerId)
                .where("holder_user_id", .is, SQLLiteral.null), as: InvoiceRecord.self)
            for invoice in invoices {
                #expect(invoice.totalCents == invoice.netCents + invoice.taxCents, "\(base) invoice \(invoice.number)")
            }
            let yearly = contracts.compactMap { DemoDataGenerator.yearlyPriceCents(offer: $0.offer) }
            if base == "tunda", !yearly.isEmpty {
                let net = yearly.reduce(0, +)
                for invoice in invoices where !invoice.number.hasPrefix("PF") {
                    #expect(invoice.netCents == net, "\(base) invoice \(invoice.number) net \(invoice.netCents) for plans \(net) a year")
                }
                let months = Set(invoices.map { $0.issuedOn.prefix(7) })
                #expect(months.count == invoices.count && invoices.count <= 3, "\(base): hosting is invoiced once a year, got \(invoices.map(\.issuedOn))")
            }
        }
        // Names are varied across the tenant's users.
        #expect(Set(userNames).count * 10 >= userCount * 8, "\(base): \(Set(userNames).count) names for \(userCount) users")

        // Request numbers: 1…n within the tenant, no gaps, no repeats.
        let numbers = try await transaction.all(transaction.select(.requests).column("*"), as: RequestRecord.self).compactMap(\.number).sorted()
        #expect(!numbers.isEmpty && numbers == Array(1...Int64(numbers.count)), "\(base) request numbers \(numbers.prefix(10))…")
    }
}
