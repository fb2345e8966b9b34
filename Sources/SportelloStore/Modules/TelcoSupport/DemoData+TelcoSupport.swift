import Foundation
import SportelloCore

// Demo data for TIM lines, offers, billed reports and online assistance.

extension DemoDataGenerator {
    /// Rows shared by every customer of the tenant (catalogue items, articles…), made once per tenant.
    func seedTelcoSupport(in transaction: TenantTransaction) async throws {
        let today = CalendarDay(instant: now)
        let business = tenant.customerTypes.first { $0.value.kind == .business }?.key
        if tenant.feature("offers.view") != nil {
            // (code, title, description, category, price, period, from, to, data); the last two are out of their window.
            let offers: [(String, String, String, String, Int64?, String?, Int, Int, OfferData)] = [
                ("TIM-BIZ-GIGA-200", "TIM Business Giga 200", "200 Giga in 5G e minuti illimitati per le SIM aziendali, con hotspot incluso.",
                 "Mobile", 1_499, "month", -60, 120,
                 OfferData(highlights: ["200 Giga al mese in 5G", "Minuti e SMS illimitati", "Roaming UE incluso"], lineKind: "sim")),
                ("TIM-BIZ-FIBRA-2.5", "TIM Business Fibra 2.5 Giga", "Fibra FTTH fino a 2,5 Gbit/s con IP statico e assistenza prioritaria.",
                 "Fisso", 3_990, "month", -30, 180,
                 OfferData(highlights: ["Fino a 2,5 Gbit/s in download", "IP statico incluso", "Intervento tecnico entro 8 ore lavorative"],
                           lineKind: "fixed_line", activationFeeCents: 4_900)),
                ("TIM-BIZ-ESTERO-10", "Opzione Estero Business 10 Giga", "10 Giga e 500 minuti nei Paesi extra UE più visitati dalle aziende.",
                 "Mobile", 900, "month", -10, 60, OfferData(highlights: ["10 Giga extra UE", "500 minuti verso l'Italia"], lineKind: "sim")),
                ("TIM-BIZ-CLOUD-BACKUP", "TIM Cloud Backup 500 GB", "Backup automatico dei PC aziendali su data center TIM in Italia.",
                 "Cloud", 1_200, "month", -90, 365, OfferData(highlights: ["500 GB di spazio", "Cifratura end-to-end", "Data center in Italia"])),
                ("TIM-BIZ-CENTRALINO", "Centralino Cloud TIM", "Centralino virtuale con risponditore automatico e app per smartphone.",
                 "Fisso", 2_500, "month", 30, 200, OfferData(highlights: ["Risponditore automatico"], lineKind: "fixed_line")),
                ("TIM-BIZ-ESTATE", "Promo Estate Business", "Giga illimitati per i mesi estivi.",
                 "Mobile", 500, "month", -200, -20, OfferData(highlights: ["Giga illimitati"], lineKind: "sim")),
            ]
            for (position, offer) in offers.enumerated() {
                try await transaction.insertCatalogItem(CatalogItemRecord(
                    kind: "offer", code: offer.0, title: offer.1, description: offer.2, category: offer.3,
                    customerType: business, priceCents: offer.4, billingPeriod: offer.5,
                    validFrom: today.adding(days: offer.6).description, validTo: today.adding(days: offer.7).description,
                    position: Int64(position), data: offer.8.encoded()))
            }
        }
        if tenant.feature("support.contact") != nil || tenant.feature("support.chat") != nil {
            let weekdays = [1, 2, 3, 4, 5]
            // Only contacts the provider's own documents give (191 in seed 004); no invented number or PEC.
            let channels: [(String, String, String, SupportChannelData)] = [
                ("phone", "Servizio Clienti Business 191", "Assistenza commerciale, amministrativa e tecnica per le aziende, gratuita da rete fissa e mobile TIM.",
                 SupportChannelData(phone: "191", hours: [.init(days: weekdays + [6], from: "08:00", to: "20:00")], audience: "all")),
                ("chat", "Chat con un operatore", "Scrivi ai nostri operatori dall'Area Clienti: ti rispondono in chat nei giorni e negli orari indicati.",
                 SupportChannelData(path: "/support/chat", hours: [.init(days: weekdays, from: "09:00", to: "19:00"),
                                                                    .init(days: [6], from: "09:00", to: "13:00")], audience: "all")),
                ("fault", "Segnalazione guasti", "Guasti su linea fissa e connessione: il servizio tecnico è attivo tutti i giorni, 24 ore su 24.",
                 SupportChannelData(phone: "191", hours: [.init(days: weekdays + [6, 7], from: "00:00", to: "24:00")], audience: "fixed")),
            ]
            for (position, channel) in channels.enumerated() {
                try await transaction.insertCatalogItem(CatalogItemRecord(
                    kind: "support_channel", code: channel.0, title: channel.1, description: channel.2,
                    position: Int64(position), data: channel.3.encoded()))
            }
        }
    }

    /// Rows of one demo customer.
    func fillTelcoSupport(_ account: DemoAccount, random: inout SplitMix64, in transaction: TenantTransaction) async throws {
        let today = CalendarDay(instant: now)
        if tenant.feature("support.chat") != nil {
            let operators = ["Giulia", "Marco", "Francesca", "Luca", "Sara"]
            let conversations: [[(String, String)]] = [
                [("customer", "Buongiorno, la fibra dell'ufficio da ieri pomeriggio va a singhiozzo. Potete verificare?"),
                 ("operator", "Buongiorno, sono %@. Vedo la sua linea: risulta attiva e senza allarmi in centrale. Può riavviare il modem e farmi sapere?"),
                 ("customer", "Fatto, ora sembra stabile. Grazie."),
                 ("operator", "Perfetto. Se il problema si ripresenta può fare la diagnosi della linea dall'Area Clienti o aprire una segnalazione guasto.")],
                [("customer", "Salve, vorrei sapere come attivare il roaming extra UE su due SIM aziendali."),
                 ("operator", "Buongiorno, sono %@. Può attivare l'Opzione Estero Business dalla sezione Offerte per te, indicando le SIM interessate.")],
                [("customer", "Buonasera, non trovo la fattura di ottobre nell'Area Clienti."),
                 ("operator", "Buonasera, sono %@. La fattura di ottobre è nella sezione Fatture e pagamenti; il report dei servizi fatturati è in Consumi.")],
            ]
            for userId in account.users {
                let conversation = conversations[Int(random.next() % UInt64(conversations.count))]
                let name = operators[Int(random.next() % UInt64(operators.count))]
                var at = today.adding(days: -Int(3 + random.next() % 20)).startInstant + Int64(9 * 3600 + random.next() % 25_000)
                for (author, text) in conversation {
                    at += Int64(60 + random.next() % 400)
                    try await transaction.insertChatMessage(ChatMessageRecord(
                        customerId: account.customerId, userId: userId, author: author, authorName: author == "operator" ? name : nil,
                        body: text.replacingOccurrences(of: "%@", with: name), sentAt: at, readAt: author == "operator" ? at + 30 : nil))
                }
            }
        }
        // A company someone logs in to gets its office's fixed line (with some traffic), so there is a line to diagnose.
        var lines = account.lines
        if tenant.feature("support.line_diagnosis") != nil, !account.users.isEmpty, !lines.contains(where: { $0.kind == "fixed_line" }),
           let contractId = account.contractId {
            let identifier = "06\(String(format: "%08d", Int(random.next() % 100_000_000)))"
            let lineId = try await transaction.insertLine(LineRecord(
                externalId: "\(account.customer.customerCode)-SEDE", customerId: account.customerId, contractId: contractId, kind: "fixed_line",
                identifier: identifier, description: "Linea fissa FTTH della sede", activatedOn: today.adding(months: -18).description))
            var calls: [UsageRecord] = []
            for daysAgo in 0..<60 where random.next() % 3 != 0 {
                let started = today.adding(days: -daysAgo).startInstant + Int64(9 * 3600 + random.next() % 30_000)
                guard started < now else { continue }
                calls.append(UsageRecord(customerId: account.customerId, lineId: lineId, startedAt: started, kind: "call",
                                         counterpart: "0\(2 + random.next() % 8)\(String(format: "%07d", Int(random.next() % 10_000_000)))",
                                         durationSeconds: Int64(20 + random.next() % 600), costCents: Int64(random.next() % 25),
                                         description: "Chiamata nazionale"))
            }
            try await transaction.insertUsage(calls)
            lines.append((lineId, "fixed_line"))
        }
        if tenant.feature("support.line_diagnosis") != nil, let line = lines.first(where: { $0.kind == "fixed_line" }) {
            for run in 0..<Int(1 + random.next() % 2) {
                let at = today.adding(days: -(10 + run * 25 + Int(random.next() % 5))).startInstant + Int64(8 * 3600 + random.next() % 32_000)
                let checks = LineDiagnosis.run(LineDiagnosisInput(
                    lineStatus: .active, openFaultReports: [], recentTrafficCount: Int(10 + random.next() % 30),
                    lastTrafficAt: at - Int64(random.next() % 20_000), overdueDueDays: [], today: CalendarDay(instant: at)))
                try await transaction.insertLineDiagnosis(LineDiagnosisRecord(
                    customerId: account.customerId, lineId: line.id, userId: account.users.first, runAt: at,
                    outcome: LineDiagnosis.outcome(of: checks).rawValue, checks: DiagnosisCheck.encode(checks)))
            }
        }
        // One exclusive offer already on its way, so request tracking shows an activation in progress.
        if tenant.feature("offers.activate") != nil, let userId = account.users.first, random.next() % 2 == 0,
           let (formId, form) = (tenant.requests ?? OrderedMap()).first(where: { $0.value.feature == "offers.activate" }).map({ ($0.key, $0.value) }) {
            let opened = today.adding(days: -Int(2 + random.next() % 10)).startInstant + 10 * 3600
            let payload = #"{"fields":{"notes":"Attivazione richiesta dal portale","offer":"TIM-BIZ-CLOUD-BACKUP"},"notify":"email"}"#
            let requestId = try await transaction.insertRequest(RequestRecord(
                customerId: account.customerId, userId: userId, form: formId, formGroup: form.group,
                subject: "\(form.label.resolve("it")): TIM Cloud Backup 500 GB", payload: payload,
                status: form.lifecycle?.first ?? "open", createdAt: opened), note: "Richiesta ricevuta")
            if let next = form.lifecycle?.dropFirst().first {
                try await transaction.appendRequestEvent(RequestEventRecord(requestId: requestId, at: opened + 86_400, status: next,
                                                                            note: "Verifica di compatibilità in corso"))
                try await transaction.setRequestState(id: requestId, status: next, updatedAt: opened + 86_400, closedAt: nil)
            }
        }
    }
}
