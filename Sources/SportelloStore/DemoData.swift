import Foundation
import SportelloCore

/// A ready-to-use login printed by `sportello demo`.
public struct DemoLogin: Sendable {
    public var tenant: String
    public var customerType: String
    public var role: String
    public var username: String
    public var password: String
}

/// What one tenant received.
public struct DemoSummary: Sendable {
    public var tenant: String
    public var logins: [DemoLogin]
    public var counts: [(StoredTable, Int)]
}

/// Fills a tenant with realistic Italian demo data, deterministically from a seed: customers of every
/// type with valid codici fiscali and partite IVA, users for every role the type allows, contracts and
/// lines, 30 months of invoices (so the 24-month window shows), a year of usage (so the 180-day and
/// 90-day windows show), recharges, payments and statement, open and closed requests with history.
public struct DemoDataGenerator: Sendable {
    public static let password = "Sportello2026!"
    public let tenant: TenantDefinition
    public let now: Int64
    public let seed: UInt64
    public let hasher: any PasswordHashing

    public init(tenant: TenantDefinition, now: Int64, seed: UInt64 = 2026, hasher: any PasswordHashing) {
        self.tenant = tenant
        self.now = now
        self.seed = seed
        self.hasher = hasher
    }

    /// The kind of business, for realistic contracts and lines.
    enum Profile { case telco, energy, hosting }

    var profile: Profile {
        let features = Set(tenant.features.keys)
        if features.contains(where: { $0.hasPrefix("hosting") || $0.hasPrefix("domains") || $0.hasPrefix("services.") }) && !features.contains("usage.view") {
            return .hosting
        }
        if features.contains(where: { $0.hasPrefix("supply") || $0.hasPrefix("readings") || $0.hasPrefix("meter") }) { return .energy }
        switch tenant.id {
        case "unogas": return .energy
        case "tunda": return .hosting
        default: return .telco
        }
    }

    public func generate(into database: Database) async throws -> DemoSummary {
        let passwordHash = try await hasher.hash(Self.password)
        let answerHash = try await hasher.hash("tramonto")
        // A fabricated history: recording its events would have the first dispatcher notify about months of it.
        return try await EventRecording.suppressed { try await database.write(tenant: tenant.id, now: now) { transaction in
            var random = SplitMix64(seed: seed ^ UInt64(truncatingIfNeeded: tenant.id.hashValueStable))
            var logins: [DemoLogin] = []
            var customerNumber = 0
            for module in transaction.schema.modules { try await module.seed?(self)(transaction) }
            for (typeId, customerType) in tenant.customerTypes {
                for copy in 0..<3 {
                    customerNumber += 1
                    var customer = makeCustomer(typeId: typeId, kind: customerType.kind, number: customerNumber,
                                                overdue: copy == 1, random: &random)
                    completeRequiredContactFields(&customer)
                    let customerId = try await transaction.insertCustomer(customer)
                    try await fillCustomFields(customerId: customerId, number: customerNumber, in: transaction)
                    var users: [Int64] = []
                    var ownLineUsers: [Int64] = []
                    if copy == 0 {
                        let created = try await makeUsers(customerId: customerId, customer: customer, typeId: typeId,
                                                          passwordHash: passwordHash, answerHash: answerHash, in: transaction)
                        logins += created.logins
                        users = created.ids
                        ownLineUsers = created.ownLineIds
                    }
                    try await fillAccount(customerId: customerId, customer: customer, users: users, ownLineUsers: ownLineUsers,
                                          overdue: copy == 1, random: &random, in: transaction)
                }
            }
            try await transaction.audit("demo.seeded", targetKind: "tenant", targetId: tenant.id, detail: "seed \(seed)")
            return DemoSummary(tenant: tenant.id, logins: logins, counts: try await transaction.rowCounts())
        } }
    }

    // MARK: Customers and users

    /// Values for the tenant's own customer fields that pass their validators, from a random stream of their own
    /// (so that adding a field leaves every other demo row as it was).
    func fillCustomFields(customerId: Int64, number: Int, in transaction: TenantTransaction) async throws {
        guard let fields = tenant.customerFields, !fields.isEmpty else { return }
        var random = SplitMix64(seed: seed ^ UInt64(truncatingIfNeeded: tenant.id.hashValueStable) ^ (0xC0FF_EE00 &+ UInt64(number)))
        let today = CalendarDay(instant: now)
        var values: [String: String?] = [:]
        for (id, field) in fields {
            values[id] = field.demoValue(today: today, random: &random)?.canonical
        }
        try await transaction.setCustomFieldValues(values, of: .customer(customerId))
    }

    private func makeCustomer(typeId: String, kind: CustomerKind, number: Int, overdue: Bool,
                              random: inout SplitMix64) -> CustomerRecord {
        let place = ItalianDemoData.pick(ItalianDemoData.municipalities, random.next())
        let female = random.next() % 2 == 0
        let firstName = ItalianDemoData.pick(female ? ItalianDemoData.femaleFirstNames : ItalianDemoData.maleFirstNames, random.next())
        let lastName = ItalianDemoData.pick(ItalianDemoData.surnames, random.next())
        let birth = (year: 1950 + Int(random.next() % 50), month: 1 + Int(random.next() % 12), day: 1 + Int(random.next() % 28))
        let taxCode = ItalianIdentifiers.makeCodiceFiscale(lastName: lastName, firstName: firstName, birthDate: birth,
                                                           female: female, placeCode: place.cadastralCode)
        let street = "\(ItalianDemoData.pick(ItalianDemoData.streetNames, random.next())) \(1 + random.next() % 180)"
        let bank = ItalianDemoData.pick(ItalianDemoData.banks, random.next())
        let iban = ItalianIdentifiers.makeItalianIBAN(abi: bank.abi, cab: String(format: "%05d", 1000 + Int(random.next() % 8999)),
                                                      account: String(format: "%012d", Int(random.next() % 999_999_999_999)))
        let mobile = "3\(20 + random.next() % 79)\(String(format: "%07d", Int(random.next() % 10_000_000)))"
        let birthDate = String(format: "%04d-%02d-%02d", birth.year, birth.month, birth.day)
        let code = "\(tenant.id.prefix(3).uppercased())\(String(format: "%06d", 100_000 + number * 137))"
        let slug = "\(firstName).\(lastName)".lowercased().filter { $0.isLetter || $0 == "." }
        var customer = CustomerRecord(
            externalId: "DEMO-\(code)", customerType: typeId, customerCode: code, iban: iban, street: street,
            postalCode: place.postalCode, city: place.name, province: place.province,
            administrativeStatus: overdue ? "overdue" : "regular",
            invoiceDelivery: ["email", "paperless", "paper"][number % 3],
            paymentMethod: ["sepa", "bank_transfer", "card"][number % 3], createdAt: now - 900 * 86_400)
        switch kind {
        case .person:
            customer.firstName = firstName
            customer.lastName = lastName
            customer.taxCode = taxCode
            customer.birthDate = birthDate
            customer.birthPlace = place.name
            customer.email = "\(slug)@\(tenant.id).example"
            customer.mobile = mobile
        case .business, .publicBody:
            let vat = ItalianIdentifiers.makePartitaIVA(serial: Int(random.next() % 9_999_999), officeCode: 1 + Int(random.next() % 100))
            if kind == .business {
                let stem = ItalianDemoData.pick(ItalianDemoData.companyNameStems, random.next())
                customer.companyName = "\(stem) \(ItalianDemoData.pick(ItalianDemoData.legalForms, random.next()))"
                customer.taxCode = vat
                customer.recipientCode = String((0..<7).map { _ in "ABCDEFGHJKLMNPRSTUVWXYZ0123456789".randomElementStable(&random) })
            } else {
                customer.companyName = "\(ItalianDemoData.pick(ItalianDemoData.publicBodyPrefixes, random.next())) \(place.name)"
                customer.taxCode = vat
                customer.recipientCode = String(format: "UF%04d", Int(random.next() % 10_000))
            }
            customer.vatNumber = vat
            let domain = (customer.companyName ?? "azienda").lowercased().filter { $0.isLetter }.prefix(16)
            customer.email = "amministrazione@\(domain).example"
            customer.pec = "\(domain)@pec.example"
            customer.phone = "0\(2 + random.next() % 8)\(String(format: "%07d", Int(random.next() % 10_000_000)))"
            customer.legalRepFirstName = firstName
            customer.legalRepLastName = lastName
            customer.legalRepTaxCode = taxCode
            customer.legalRepBirthDate = birthDate
            customer.legalRepEmail = "\(slug)@\(domain).example"
            customer.legalRepMobile = mobile
        }
        return customer
    }

    /// One user per role the customer type allows; the first (the most senior) creates the others.
    private func makeUsers(customerId: Int64, customer: CustomerRecord, typeId: String, passwordHash: String,
                           answerHash: String, in transaction: TenantTransaction) async throws -> (logins: [DemoLogin], ids: [Int64], ownLineIds: [Int64]) {
        var logins: [DemoLogin] = []
        var ids: [Int64] = []
        var ownLineIds: [Int64] = []
        let byEmail = tenant.login.identifiers.map(\.rawValue) == ["email"]
        let multipleTypes = tenant.customerTypes.count > 1
        for (roleId, role) in tenant.roles {
            if let allowed = role.customerTypes, !allowed.contains(typeId) { continue }
            let local = multipleTypes ? "\(typeId).\(roleId)" : roleId
            let email = "\(local.replacingOccurrences(of: "_", with: "-"))@\(tenant.id).example"
            let username = byEmail ? email : "demo.\(local)"
            let key = tenant.login.caseSensitive ? username : username.lowercased()
            let toggles = (role.toggles ?? OrderedMap()).keys.enumerated().filter { $0.offset % 3 != 2 }.map(\.element)
            let usesSecurityQuestion = tenant.flows.values.contains { flow in flow.steps.contains { $0.step == .securityQuestion } }
            // The first user is the customer (or its legal representative); colleagues have names of their own.
            let name = ids.isEmpty ? (customer.firstName ?? customer.legalRepFirstName, customer.lastName ?? customer.legalRepLastName)
                                   : Self.colleagueName(customerId: customerId, role: roleId, seed: seed)
            let user = UserRecord(
                customerId: customerId, username: username, usernameKey: key, email: email,
                firstName: name.0, lastName: name.1,
                passwordHash: passwordHash, role: roleId, toggles: toggles, creatorUserId: ids.first,
                securityQuestion: usesSecurityQuestion ? SecurityQuestions.italian[ids.count % SecurityQuestions.italian.count] : nil,
                securityAnswerHash: usesSecurityQuestion ? answerHash : nil, lastLoginAt: now - 3 * 86_400,
                createdAt: now - 400 * 86_400, verifiedEmail: email, emailVerifiedAt: now - 400 * 86_400)
            ids.append(try await transaction.insertUser(user))
            // Users whose role sees only its own line (TIM's Utilizzatore) get a SIM assigned to them.
            if role.scopes?["usage.view"] == .ownLine, let id = ids.last { ownLineIds.append(id) }
            logins.append(DemoLogin(tenant: tenant.id, customerType: typeId, role: roleId, username: username, password: Self.password))
        }
        return (logins, ids, ownLineIds)
    }

    /// A name for a colleague of the customer's first user, stable for the customer and role.
    static func colleagueName(customerId: Int64, role: String, seed: UInt64) -> (String?, String?) {
        var random = SplitMix64(seed: seed ^ UInt64(customerId) &* 0x9E37_79B9 ^ role.hashValueStable)
        let female = random.next() % 2 == 0
        return (ItalianDemoData.pick(female ? ItalianDemoData.femaleFirstNames : ItalianDemoData.maleFirstNames, random.next()),
                ItalianDemoData.pick(ItalianDemoData.surnames, random.next()))
    }

    // MARK: Contracts, lines, billing, usage, requests

    private func fillAccount(customerId: Int64, customer: CustomerRecord, users: [Int64], ownLineUsers: [Int64], overdue: Bool,
                             random: inout SplitMix64, in transaction: TenantTransaction) async throws {
        let today = CalendarDay(instant: now)
        let contractCount = 1 + Int(random.next() % 2)
        var lineIds: [(id: Int64, kind: String)] = []
        var firstContractId: Int64?
        var offers: [String] = []
        for number in 1...contractCount {
            let starts = today.adding(months: -(36 + Int(random.next() % 24)))
            let (offer, kind) = offer(number: number, random: &random)
            offers.append(offer)
            let contractId = try await transaction.insertContract(ContractRecord(
                externalId: "\(customer.customerCode)-C\(number)", customerId: customerId,
                code: "\(customer.customerCode)/\(number)", offer: offer, kind: kind, status: .active,
                startsOn: starts.description, expiresOn: starts.adding(months: 48 + Int(random.next() % 24)).description))
            firstContractId = firstContractId ?? contractId
            for index in 1...(1 + Int(random.next() % 3)) {
                let line = makeLine(contractId: contractId, customerId: customerId, index: index, code: customer.customerCode,
                                    contractNumber: number, starts: starts,
                                    assignedUserId: ownLineUsers.isEmpty && users.count > 1 && index == 1 ? users.last : nil,
                                    random: &random)
                let lineId = try await transaction.insertLine(line)
                lineIds.append((lineId, line.kind))
                try await transaction.insertService(ServiceRecord(
                    contractId: contractId, lineId: lineId, name: serviceName(random: &random),
                    monthlyFeeCents: Int64(299 + random.next() % 1500),
                    expiresOn: today.adding(months: 1 + Int(random.next() % 11)).description))
            }
        }
        // Each own-line user gets a SIM of their own: an unassigned one, or a new one on the first contract.
        if profile == .telco, let contractId = firstContractId {
            var sims = lineIds.filter { $0.kind == "sim" }.map(\.id)
            for (number, userId) in ownLineUsers.enumerated() {
                if sims.isEmpty {
                    var line = makeLine(contractId: contractId, customerId: customerId, index: 10 + number, code: customer.customerCode,
                                        contractNumber: 1, starts: today.adding(months: -12), assignedUserId: userId, random: &random)
                    line.kind = "sim"
                    line.description = "SIM voce e dati"
                    lineIds.append((try await transaction.insertLine(line), "sim"))
                } else {
                    try await transaction.update(.lines).set("assigned_user_id", to: userId).where("id", .equal, sims.removeFirst()).run()
                }
            }
        }
        let yearly = profile == .hosting ? offers.compactMap { Self.yearlyPriceCents(offer: $0) }.reduce(0, +) : nil
        try await fillBilling(customerId: customerId, contractId: firstContractId, code: customer.customerCode,
                              overdue: overdue, yearlyNetCents: yearly, random: &random, in: transaction)
        for line in lineIds where line.kind == "sim" || line.kind == "fixed_line" {
            try await transaction.insertUsage(makeUsage(customerId: customerId, lineId: line.id, kind: line.kind, random: &random))
            if line.kind == "sim" {
                for month in 0..<12 where random.next() % 3 == 0 {
                    let at = today.adding(months: -month).startInstant + Int64(9 * 3600 + random.next() % 36_000)
                    try await transaction.insertRecharge(RechargeRecord(
                        externalId: "R-\(line.id)-\(month)", customerId: customerId, lineId: line.id, rechargedAt: min(at, now - 60),
                        amountCents: [1000, 1500, 2000, 3000][Int(random.next() % 4)],
                        channel: ["app", "portal", "store", "bank"][Int(random.next() % 4)]))
                }
                // A couple of failed attempts (WINDTRE shows attempts with their outcome next to the recharges).
                for attempt in 0..<2 where random.next() % 2 == 0 {
                    let at = today.adding(days: -(7 + attempt * 40)).startInstant + Int64(10 * 3600 + random.next() % 20_000)
                    try await transaction.insertRecharge(RechargeRecord(
                        externalId: "RA-\(line.id)-\(attempt)", customerId: customerId, lineId: line.id, rechargedAt: min(at, now - 60),
                        amountCents: [1000, 2000][Int(random.next() % 2)], channel: ["portal", "app"][attempt], status: .failed))
                }
            }
        }
        try await fillRequests(customerId: customerId, userId: users.first, random: &random, in: transaction)
        // Each section's demo rows come from a generator of their own, so adding one leaves the others' data as it was.
        let account = DemoAccount(customerId: customerId, customer: customer, users: users, ownLineUsers: ownLineUsers,
                                  contractId: firstContractId, lines: lineIds, overdue: overdue)
        func generator(_ name: String) -> SplitMix64 { SplitMix64(seed: seed ^ UInt64(customerId) ^ name.hashValueStable) }
        for module in transaction.schema.modules {
            guard let fill = module.fill else { continue }
            var random = generator(module.id)
            try await fill(self)(account, &random, transaction)
        }
        if tenant.feature("invoices.personal") != nil {
            var personal = generator("personal_invoices")
            try await fillPersonalInvoices(account, random: &personal, in: transaction)
        }
        // Prepaid credit is recharges minus charged usage: top every SIM up (monthly €50 recharges from its
        // first year) so no line shows a negative or missing credit.
        var topUp = generator("credit_top_up")
        for line in try await transaction.lines(customerId: customerId) where line.kind == "sim" {
            guard let lineId = line.id else { continue }
            let totals = try await transaction.prepaidCredit(lineId: lineId, customerId: customerId)
            var missing = totals.spent - totals.recharged + Int64(500 + topUp.next() % 4_500)
            var count = 0
            while missing > 0 {
                let at = today.adding(months: -(count % 12)).adding(days: -(3 + count / 12)).startInstant + Int64(9 * 3600 + topUp.next() % 30_000)
                try await transaction.insertRecharge(RechargeRecord(
                    externalId: "RT-\(lineId)-\(count)", customerId: customerId, lineId: lineId, rechargedAt: min(at, now - 60),
                    amountCents: 5_000, channel: "bank"))
                missing -= 5_000
                count += 1
            }
        }
        for userId in users {
            for (ruleId, rule) in tenant.notifications ?? OrderedMap() {
                for channel in rule.channels {
                    try await transaction.setNotificationPreference(NotificationPreferenceRecord(
                        userId: userId, rule: ruleId, channel: channel.rawValue, enabled: rule.default ?? true,
                        threshold: rule.thresholds?.first.map(Int64.init)))
                }
            }
        }
    }

    private func offer(number: Int, random: inout SplitMix64) -> (String, String) {
        switch profile {
        case .telco:
            let offers = [("Business Unlimited 100 Giga", "mobile"), ("Fibra 2.5 Giga Pro", "fixed"),
                          ("Voce e Dati Aziende", "mobile"), ("Casa Fibra Plus", "fixed")]
            return offers[(number + Int(random.next() % 2)) % offers.count]
        case .energy:
            return number % 2 == 1 ? ("Gas Casa Sicura Prezzo Fisso", "gas") : ("Luce Verde Monoraria", "electricity")
        case .hosting:
            return number % 2 == 1 ? ("Hosting Linux Professional", "hosting") : ("Server Cloud VPS 4 vCPU", "hosting")
        }
    }

    /// The yearly price (net, cents) of a hosting offer: the catalogue's price for its plans.
    static func yearlyPriceCents(offer: String) -> Int64? {
        if let product = HostingDemoCatalog.products.first(where: { $0.title == offer }) { return product.priceCents }
        return offer == "Server Cloud VPS 4 vCPU" ? 29_900 : nil
    }

    private func makeLine(contractId: Int64, customerId: Int64, index: Int, code: String, contractNumber: Int,
                          starts: CalendarDay, assignedUserId: Int64?, random: inout SplitMix64) -> LineRecord {
        let externalId = "\(code)-C\(contractNumber)-L\(index)"
        let activated = starts.adding(days: Int(random.next() % 60)).description
        switch profile {
        case .telco:
            let sim = index != 2
            let identifier = sim ? "3\(30 + random.next() % 69)\(String(format: "%07d", Int(random.next() % 10_000_000)))"
                                 : "0\(2 + random.next() % 8)\(String(format: "%07d", Int(random.next() % 10_000_000)))"
            return LineRecord(externalId: externalId, customerId: customerId, contractId: contractId,
                              kind: sim ? "sim" : "fixed_line", identifier: identifier,
                              description: sim ? "SIM voce e dati" : "Linea fissa FTTH", activatedOn: activated,
                              assignedUserId: assignedUserId)
        case .energy:
            let gas = contractNumber % 2 == 1
            let identifier = gas ? String(format: "%014d", Int(random.next() % 99_999_999_999_999))
                                 : "IT001E\(String(format: "%08d", Int(random.next() % 100_000_000)))"
            return LineRecord(externalId: externalId, customerId: customerId, contractId: contractId, kind: "supply_point",
                              identifier: identifier, description: gas ? "PDR gas naturale" : "POD energia elettrica",
                              activatedOn: activated)
        case .hosting:
            let stem = ItalianDemoData.pick(ItalianDemoData.surnames, random.next()).lowercased().filter { $0.isLetter && $0.isASCII }
            return LineRecord(externalId: externalId, customerId: customerId, contractId: contractId, kind: "hosting",
                              identifier: "\(stem)\(index).it", description: "Dominio e spazio web", activatedOn: activated,
                              expiresOn: CalendarDay(instant: now).adding(months: 2 + Int(random.next() % 10)).description)
        }
    }

    private func serviceName(random: inout SplitMix64) -> String {
        let names: [String] = switch profile {
        case .telco: ["Opzione Estero 5 Giga", "Segreteria Plus", "Giga Extra 50", "Chiamate illimitate UE"]
        case .energy: ["Bolletta Web", "Assistenza Caldaia", "Manutenzione Impianto"]
        case .hosting: ["Certificato SSL", "Backup giornaliero", "Casella PEC", "Database MySQL"]
        }
        return ItalianDemoData.pick(names, random.next())
    }

    /// 30 monthly invoices, a payment and two statement lines for each; the newest is open and, for an
    /// overdue customer, the one before too (past its due date).
    /// TIM's Dual Billing: six months of personal invoices for each user of the customer (private use of
    /// the company line), the latest one still to pay, each with its PDF.
    private func fillPersonalInvoices(_ account: DemoAccount, random: inout SplitMix64, in transaction: TenantTransaction) async throws {
        let today = CalendarDay(instant: now)
        for userId in account.users {
            for monthsAgo in stride(from: 6, through: 1, by: -1) {
                let month = today.adding(months: -monthsAgo + 1)
                let issued = CalendarDay(year: month.year, month: month.month, day: 12)
                guard issued <= today else { continue }
                let due = issued.adding(days: 20)
                let net = Int64(300 + random.next() % 1_800)
                let tax = net * 22 / 100
                let unpaid = monthsAgo == 1
                let number = "DB/\(issued.year)/\(userId)/\(String(format: "%02d", issued.month))"
                let invoiceId = try await transaction.insertInvoice(InvoiceRecord(
                    externalId: "INV-\(number)", customerId: account.customerId, contractId: account.contractId, number: number,
                    issuedOn: issued.description, dueOn: due.description,
                    periodFrom: issued.adding(months: -1).description, periodTo: issued.adding(days: -1).description,
                    netCents: net, taxCents: tax, totalCents: net + tax, status: unpaid ? (due < today ? .overdue : .unpaid) : .paid,
                    paidOn: unpaid ? nil : due.adding(days: -3).description, holderUserId: userId))
                try await transaction.insertDocument(DocumentRecord(
                    ownerKind: "invoice", ownerId: invoiceId, fileName: "fattura-personale-\(number.replacingOccurrences(of: "/", with: "-")).pdf",
                    contentType: "application/pdf",
                    content: Self.minimalPDF(lines: ["\(tenant.name) - Fattura personale (Dual Billing) \(number)",
                                                     "Emessa il \(issued) - Scadenza \(due)", "Totale EUR \(Self.euro(net + tax))"]),
                    createdAt: issued.startInstant))
            }
        }
    }

    /// Monthly invoices; with `yearlyNetCents` (hosting plans sold by the year) one invoice a year at that price.
    private func fillBilling(customerId: Int64, contractId: Int64?, code: String, overdue: Bool, yearlyNetCents: Int64? = nil,
                             random: inout SplitMix64, in transaction: TenantTransaction) async throws {
        let today = CalendarDay(instant: now)
        let base = Int64(2_500 + random.next() % 9_000)
        // Yearly billing: the renewal month, recent enough that the newest invoice is the open one.
        let renewal = Int(code.hashValueStable % 3)
        for monthsAgo in stride(from: 30, through: 0, by: -1) {
            let issued = CalendarDay(year: today.adding(months: -monthsAgo).year, month: today.adding(months: -monthsAgo).month, day: 5)
            guard issued <= today else { continue }
            let due = issued.adding(days: 25)
            let variable = Int64(random.next() % 1_500)
            if yearlyNetCents != nil && monthsAgo % 12 != renewal { continue }
            let net = yearlyNetCents ?? (base + variable)
            let tax = net * 22 / 100
            let unpaid = yearlyNetCents != nil ? monthsAgo == renewal && (overdue || monthsAgo == 0)
                                               : monthsAgo == 0 || (overdue && monthsAgo == 1)
            let status: InvoiceStatus = unpaid ? (due < today ? .overdue : .unpaid) : .paid
            let paidOn = unpaid ? nil : due.adding(days: -Int(random.next() % 10)).description
            let number = "\(issued.year)/\(code.suffix(6))/\(String(format: "%02d", issued.month))"
            let invoiceId = try await transaction.insertInvoice(InvoiceRecord(
                externalId: "INV-\(number)", customerId: customerId, contractId: contractId, number: number,
                issuedOn: issued.description, dueOn: due.description,
                periodFrom: issued.adding(months: -1).description, periodTo: issued.adding(days: -1).description,
                netCents: net, taxCents: tax, totalCents: net + tax, status: status, paidOn: paidOn))
            try await transaction.insertDocument(DocumentRecord(
                ownerKind: "invoice", ownerId: invoiceId, fileName: "fattura-\(number.replacingOccurrences(of: "/", with: "-")).pdf",
                contentType: "application/pdf",
                content: Self.minimalPDF(lines: ["\(tenant.name) - Fattura \(number)", "Emessa il \(issued) - Scadenza \(due)",
                                                 "Totale EUR \(Self.euro(net + tax))"]),
                createdAt: issued.startInstant))
            try await transaction.insertStatementEntry(StatementEntryRecord(
                customerId: customerId, invoiceId: invoiceId, bookedOn: issued.description, dueOn: due.description,
                description: "Fattura \(number)", amountCents: net + tax, isOpen: unpaid))
            if let paidOn {
                try await transaction.insertPayment(PaymentRecord(
                    externalId: "PAY-\(number)", customerId: customerId, invoiceId: invoiceId, paidOn: paidOn,
                    amountCents: net + tax, method: "sepa", reference: "SDD \(number)"))
                try await transaction.insertStatementEntry(StatementEntryRecord(
                    customerId: customerId, invoiceId: invoiceId, bookedOn: paidOn, description: "Pagamento fattura \(number)",
                    amountCents: -(net + tax), isOpen: false))
            }
        }
    }

    /// A year of traffic: calls, messages, data sessions and option charges, a few a day.
    private func makeUsage(customerId: Int64, lineId: Int64, kind: String, random: inout SplitMix64) -> [UsageRecord] {
        var records: [UsageRecord] = []
        let today = CalendarDay(instant: now)
        for daysAgo in 0..<365 {
            let day = today.adding(days: -daysAgo).startInstant
            for _ in 0..<(2 + Int(random.next() % 5)) {
                let at = day + Int64(7 * 3600 + random.next() % (15 * 3600))
                guard at < now else { continue }
                let roll = random.next() % 10
                let number = "3\(30 + random.next() % 69)\(String(format: "%07d", Int(random.next() % 10_000_000)))"
                var record = UsageRecord(customerId: customerId, lineId: lineId, startedAt: at, kind: "call", counterpart: number)
                if kind == "fixed_line" || roll < 5 {
                    record.durationSeconds = Int64(5 + random.next() % 900)
                    record.costCents = kind == "fixed_line" ? Int64(random.next() % 30) : 0
                    record.description = roll == 0 ? "Chiamata verso estero" : "Chiamata nazionale"
                } else if roll < 7 {
                    record.kind = "sms"
                    record.description = "SMS nazionale"
                } else if roll < 9 {
                    record.kind = "data"
                    record.counterpart = "internet.it"
                    record.volumeBytes = Int64(1_000_000 + random.next() % 900_000_000)
                    record.durationSeconds = Int64(60 + random.next() % 7200)
                    record.description = "Traffico dati"
                } else {
                    record.kind = "option"
                    record.counterpart = nil
                    record.costCents = Int64(100 + random.next() % 900)
                    record.description = "Rinnovo opzione"
                }
                records.append(record)
            }
        }
        return records
    }

    /// The statuses a request of `form` goes through (the tenant's lifecycle, or open → in progress → closed).
    static func lifecycle(of form: RequestForm?) -> [String] {
        if let statuses = form?.lifecycle, statuses.count >= 2 { return statuses }
        return ["open", "in_progress", "closed"]
    }

    /// Three requests: the newest still open (in its lifecycle's second status when it has one before the
    /// last), the others walked through every status of their form's lifecycle to the last.
    private func fillRequests(customerId: Int64, userId: Int64?, random: inout SplitMix64,
                              in transaction: TenantTransaction) async throws {
        let forms = (tenant.requests ?? OrderedMap()).map { (id: $0.key, form: $0.value) }
        let choices = forms.isEmpty ? [(id: "generic", group: String?.none, label: "Richiesta di assistenza", form: RequestForm?.none)]
                                    : forms.map { (id: $0.id, group: $0.form.group, label: $0.form.label.resolve("it"), form: Optional($0.form)) }
        for index in 0..<3 {
            let choice = choices[(index + Int(random.next() % 2)) % choices.count]
            let statuses = Self.lifecycle(of: choice.form)
            let opened = now - Int64((index * 40 + 3) * 86_400) - Int64(random.next() % 40_000)
            let closed = index > 0
            // An open request stops before the last status; a closed one reaches it.
            let steps = closed ? Array(statuses.dropFirst()) : (statuses.count > 2 ? [statuses[1]] : [])
            let requestId = try await transaction.insertRequest(RequestRecord(
                customerId: customerId, userId: userId, form: choice.id, formGroup: choice.group, subject: choice.label,
                payload: #"{"note":"Richiesta inserita dal portale"}"#, status: statuses[0], createdAt: opened),
                note: "Richiesta ricevuta")
            var at = opened
            for (number, status) in steps.enumerated() {
                at += Int64(number == 0 ? 86_400 : 2 * 86_400)
                let last = status == statuses.last
                try await transaction.appendRequestEvent(RequestEventRecord(
                    requestId: requestId, at: at, status: status,
                    note: last ? "Richiesta evasa" : "Presa in carico dal servizio clienti"))
            }
            if let final = steps.last {
                try await transaction.setRequestState(id: requestId, status: final, updatedAt: at,
                                                      closedAt: final == statuses.last ? at : nil)
            }
        }
    }

    static func euro(_ cents: Int64) -> String {
        "\(cents / 100),\(String(format: "%02d", Int(cents % 100)))"
    }

    /// A one-page PDF with a few lines of text (Helvetica), valid enough for any viewer.
    static func minimalPDF(lines: [String]) -> Data {
        let text = lines.enumerated().map { index, line in
            let escaped = line.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "(", with: "\\(")
                .replacingOccurrences(of: ")", with: "\\)").filter(\.isASCII)
            return "BT /F1 14 Tf 56 \(780 - index * 24) Td (\(escaped)) Tj ET"
        }.joined(separator: "\n")
        let objects = [
            "<< /Type /Catalog /Pages 2 0 R >>",
            "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>",
            "<< /Length \(text.utf8.count) >>\nstream\n\(text)\nendstream",
            "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        ]
        var pdf = "%PDF-1.4\n"
        var offsets: [Int] = []
        for (index, object) in objects.enumerated() {
            offsets.append(pdf.utf8.count)
            pdf += "\(index + 1) 0 obj\n\(object)\nendobj\n"
        }
        let xref = pdf.utf8.count
        pdf += "xref\n0 \(objects.count + 1)\n0000000000 65535 f \n"
        for offset in offsets { pdf += String(format: "%010d 00000 n \n", offset) }
        pdf += "trailer\n<< /Size \(objects.count + 1) /Root 1 0 R >>\nstartxref\n\(xref)\n%%EOF\n"
        return Data(pdf.utf8)
    }
}

extension TenantTransaction {
    func appendRequestEvent(_ event: RequestEventRecord) async throws {
        try await insert(.requestEvents, event)
    }

    func setRequestState(id: Int64, status: String, updatedAt: Int64, closedAt: Int64?) async throws {
        try await update(.requests).set("status", to: status).set("updated_at", to: updatedAt)
            .set("closed_at", to: closedAt).where("id", .equal, id).run()
    }

    /// Deletes every row of this tenant, children first (for `sportello demo --replace`).
    public func deleteAllTenantData() async throws {
        let order = schema.tablesChildrenFirst
        for table in order {
            if table == .users {
                try await update(.users).set("creator_user_id", to: Int64?.none).run()
            }
            try await delete(table).run()
        }
    }
}

extension String {
    /// FNV-1a: stable across runs (Swift's `hashValue` is randomly seeded per process).
    var hashValueStable: UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in utf8 { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
        return hash
    }

    func randomElementStable(_ random: inout SplitMix64) -> Character {
        let characters = Array(self)
        return characters[Int(random.next() % UInt64(characters.count))]
    }
}
