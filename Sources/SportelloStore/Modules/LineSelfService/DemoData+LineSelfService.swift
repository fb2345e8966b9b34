import Foundation
import SportelloCore

// Demo data for WINDTRE self-service (line activation, SIM association, promotions, automatic recharge).

extension DemoDataGenerator {
    /// Rows shared by every customer of the tenant (catalogue items, articles…), made once per tenant.
    func seedLineSelfService(in transaction: TenantTransaction) async throws {
        guard tenant.feature("promotions.view") != nil else { return }
        let today = CalendarDay(instant: now)
        let phone = tenant.contacts?.customerCare ?? "1928"
        func data(_ kinds: [String], _ conditions: String) -> String {
            let object: [String: Any] = ["activation_phone": phone, "line_kinds": kinds, "conditions": conditions]
            let json = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data("{}".utf8)
            return String(decoding: json, as: UTF8.self)
        }
        let business = tenant.customerTypes.first { $0.value.kind == .business }?.key
        let promotions: [CatalogItemRecord] = [
            CatalogItemRecord(kind: "promotion", code: "PROMO-GIGA-EXTRA-100", title: "Giga Extra 100",
                              description: "100 Giga in più al mese per le SIM aziendali, per 12 mesi.", category: "mobile",
                              customerType: business, priceCents: 300, billingPeriod: "month",
                              validFrom: today.adding(months: -2).description, validTo: today.adding(months: 4).description, position: 1,
                              data: data(["sim"], "Per le SIM con offerta Business Unlimited o Voce e Dati Aziende attive da almeno 30 giorni.")),
            CatalogItemRecord(kind: "promotion", code: "PROMO-ROAMING-WORLD", title: "Roaming Extra UE Business",
                              description: "Chiamate e 5 Giga al giorno nei Paesi extra UE, addebitati solo nei giorni di utilizzo.",
                              category: "mobile", customerType: business, priceCents: 500, billingPeriod: "once",
                              validFrom: today.adding(months: -1).description, validTo: today.adding(months: 2).description, position: 2,
                              data: data(["sim"], "Costo applicato per ogni giorno di utilizzo all'estero.")),
            CatalogItemRecord(kind: "promotion", code: "PROMO-FIBRA-UPGRADE", title: "Fibra 2.5 Giga: sei mesi di canone scontato",
                              description: "Passa alla Fibra 2.5 Giga Pro: sconto di 10 € al mese sul canone per i primi sei mesi.",
                              category: "fixed", customerType: business, priceCents: nil, billingPeriod: nil,
                              validFrom: today.adding(months: -3).description, validTo: today.adding(months: 3).description, position: 3,
                              data: data(["fixed_line"], "Per le linee fisse raggiunte dalla fibra FTTH; verifica la copertura prima di chiamare.")),
            CatalogItemRecord(kind: "promotion", code: "PROMO-SMART-OFFICE", title: "Smart Office: centralino in cloud",
                              description: "Centralino virtuale per fino a 10 interni senza costi di attivazione.", category: "fixed",
                              customerType: nil, priceCents: 1500, billingPeriod: "month",
                              validFrom: nil, validTo: nil, position: 4,
                              data: data(["fixed_line", "sim"], "Attivazione gratuita; vincolo di 24 mesi.")),
            // Ended last month: kept in the catalogue, no longer shown.
            CatalogItemRecord(kind: "promotion", code: "PROMO-ESTATE", title: "Estate Giga Illimitati",
                              description: "Giga illimitati nei mesi estivi.", category: "mobile", customerType: business,
                              priceCents: 0, billingPeriod: nil,
                              validFrom: today.adding(months: -5).description, validTo: today.adding(months: -1).description, position: 5,
                              data: data(["sim"], "Promozione conclusa.")),
        ]
        for promotion in promotions { _ = try await transaction.insertCatalogItem(promotion) }
    }

    /// Rows of one demo customer.
    func fillLineSelfService(_ account: DemoAccount, random: inout SplitMix64, in transaction: TenantTransaction) async throws {
        let today = CalendarDay(instant: now)
        let customer = account.customer
        if tenant.feature("line_activation.view") != nil {
            // The customer people log in as always has activations under way; the others only sometimes.
            let count = account.users.isEmpty ? Int(random.next() % 2) : 2 + Int(random.next() % 2)
            let offers = ["Fibra 2.5 Giga Pro", "Fibra 1 Giga Business", "Linea fissa FTTC 200 Mega", "Centralino Smart Office"]
            let stages: [LineActivationStage] = [.received, .feasibility, .appointment, .installation, .testing]
            for number in 0..<count {
                let stage = stages[Int(random.next() % UInt64(stages.count))]
                let requested = today.adding(days: -(5 + Int(random.next() % 40)))
                let place = ItalianDemoData.pick(ItalianDemoData.municipalities, random.next())
                let street = "\(ItalianDemoData.pick(ItalianDemoData.streetNames, random.next())) \(1 + random.next() % 150)"
                let area = place.postalCode.hasPrefix("00") ? "06" : place.postalCode.hasPrefix("20") ? "02" : "0\(2 + random.next() % 8)"
                try await transaction.insertLineActivation(LineActivationRecord(
                    externalId: "\(customer.customerCode)-ATT\(number + 1)", customerId: account.customerId, contractId: account.contractId,
                    kind: "fixed_line",
                    identifier: stage == .received ? nil : "\(area)\(String(format: "%07d", Int(random.next() % 10_000_000)))",
                    offer: ItalianDemoData.pick(offers, random.next()),
                    site: "\(street), \(place.postalCode) \(place.name) (\(place.province))",
                    requestedOn: requested.description, expectedOn: requested.adding(days: 21 + Int(random.next() % 20)).description,
                    progress: stage.typicalProgress + Int64(random.next() % 5), stage: stage.rawValue,
                    updatedAt: now - Int64(3600 * (1 + random.next() % 72))))
            }
            if !account.users.isEmpty {
                // One finished last month: stored, but no longer on the page.
                let requested = today.adding(days: -70)
                try await transaction.insertLineActivation(LineActivationRecord(
                    externalId: "\(customer.customerCode)-ATT0", customerId: account.customerId, contractId: account.contractId,
                    kind: "fixed_line", identifier: "02\(String(format: "%07d", Int(random.next() % 10_000_000)))",
                    offer: "Fibra 2.5 Giga Pro", site: [customer.street, customer.city].compactMap { $0 }.joined(separator: ", "),
                    requestedOn: requested.description, expectedOn: requested.adding(days: 30).description, progress: 100,
                    stage: LineActivationStage.completed.rawValue, status: .completed, updatedAt: requested.adding(days: 28).startInstant,
                    completedOn: requested.adding(days: 28).description))
            }
        }
        let sims = account.lines.filter { $0.kind == "sim" }.map(\.id)
        if tenant.feature("sim_association.view") != nil, !account.users.isEmpty {
            let users = try await transaction.users(customerId: account.customerId)
            func name(_ user: UserRecord) -> String { [user.firstName, user.lastName].compactMap { $0 }.joined(separator: " ") }
            // Employees who had a SIM before and left it (not portal users).
            let former = (0..<2).map { _ in
                "\(ItalianDemoData.pick(ItalianDemoData.femaleFirstNames + ItalianDemoData.maleFirstNames, random.next())) \(ItalianDemoData.pick(ItalianDemoData.surnames, random.next()))"
            }
            for (index, lineId) in sims.enumerated() {
                guard let line = try await transaction.line(id: lineId, customerId: account.customerId) else { continue }
                let start = today.adding(months: -(6 + Int(random.next() % 10))).startInstant + Int64(9 * 3600)
                let handover = start + Int64(86_400 * (30 + random.next() % 90))
                // An earlier holder, then the current one (or none).
                try await transaction.insertSIMAssignment(SIMAssignmentRecord(
                    customerId: account.customerId, lineId: lineId, userId: nil, userName: former[index % former.count],
                    action: "associated", at: start, note: "Assegnazione iniziale"))
                try await transaction.insertSIMAssignment(SIMAssignmentRecord(
                    customerId: account.customerId, lineId: lineId, userId: nil, userName: former[index % former.count],
                    action: "dissociated", at: handover, note: index % 2 == 0 ? "Cambio mansione" : "Fine rapporto"))
                if let current = line.assignedUserId, let user = users.first(where: { $0.id == current }) {
                    try await transaction.insertSIMAssignment(SIMAssignmentRecord(
                        customerId: account.customerId, lineId: lineId, userId: current, userName: name(user).isEmpty ? user.username : name(user),
                        action: "associated", at: handover + 86_400 * Int64(1 + random.next() % 10), actorUserId: account.users.first))
                }
            }
        }
        if tenant.feature("recharges.automatic") != nil, !account.users.isEmpty, let first = sims.first {
            let created = now - Int64(86_400 * (20 + random.next() % 200))
            try await transaction.insertAutomaticRecharge(AutomaticRechargeRecord(
                customerId: account.customerId, lineId: first, mode: "threshold", amountCents: 2_000, thresholdCents: 500,
                paymentMethod: "card", cardLastFour: String(format: "%04d", Int(random.next() % 10_000)),
                cardExpiry: String(format: "%02d/%02d", 1 + Int(random.next() % 12), (today.year + 2) % 100),
                createdAt: created, updatedAt: created, createdByUserId: account.users.first))
            if sims.count > 1 {
                try await transaction.insertAutomaticRecharge(AutomaticRechargeRecord(
                    customerId: account.customerId, lineId: sims[1], mode: "monthly", amountCents: 1_500,
                    dayOfMonth: Int64(1 + random.next() % 28), paymentMethod: "invoice",
                    status: random.next() % 2 == 0 ? .active : .suspended,
                    createdAt: created + 3_600, updatedAt: created + 7_200, createdByUserId: account.users.first))
            }
        }
    }
}
