import Foundation
import SportelloCore

// Demo data for WINDTRE products (Giga Smart Share, devices, PIN/PUK, coverage).

extension DemoDataGenerator {
    /// Giga Smart Share packages on offer (`gss_package`): code, title, Giga, monthly price in cents.
    static let sharePackages: [(code: String, title: String, giga: Int64, cents: Int64)] = [
        ("GSS-50", "Giga Smart Share 50", 50, 2_500), ("GSS-100", "Giga Smart Share 100", 100, 3_900),
        ("GSS-200", "Giga Smart Share 200", 200, 5_900), ("GSS-500", "Giga Smart Share 500", 500, 9_900),
        ("GSS-1000", "Giga Smart Share 1000", 1_000, 14_900),
    ]

    /// Extra Giga packs (`gss_extra_giga`), valid until the end of the month.
    static let extraGigaPacks: [(code: String, title: String, giga: Int64, cents: Int64)] = [
        ("GSS-EXTRA-10", "10 Giga extra", 10, 500), ("GSS-EXTRA-25", "25 Giga extra", 25, 1_000),
        ("GSS-EXTRA-50", "50 Giga extra", 50, 1_800),
    ]

    /// Rows shared by every customer of the tenant (catalogue items, articles…), made once per tenant.
    func seedLineProducts(in transaction: TenantTransaction) async throws {
        var items: [CatalogItemRecord] = []
        if tenant.feature("gss.view") != nil || tenant.feature("gss.manage") != nil {
            for (position, package) in Self.sharePackages.enumerated() {
                items.append(CatalogItemRecord(kind: "gss_package", code: package.code, title: package.title,
                                               description: "\(package.giga) Giga al mese condivisi tra le SIM del pacchetto",
                                               category: "giga_smart_share", customerType: nil, priceCents: package.cents,
                                               billingPeriod: "month", position: Int64(position), data: #"{"giga":\#(package.giga)}"#))
            }
            for (position, pack) in Self.extraGigaPacks.enumerated() {
                items.append(CatalogItemRecord(kind: "gss_extra_giga", code: pack.code, title: pack.title,
                                               description: "Giga aggiuntivi per il mese in corso", category: "giga_smart_share",
                                               priceCents: pack.cents, billingPeriod: "once", position: Int64(position),
                                               data: #"{"giga":\#(pack.giga)}"#))
            }
        }
        if tenant.feature("coverage.view") != nil {
            // seed 003_41e792d9e27fedff.txt: "due collegamenti esterni che rimandano ai relativi strumenti di verifica della
            // copertura nazionale e internazionale". The seed gives no addresses: these are the provider's public pages
            // as of writing, kept as data so the provider can change them without a release.
            items.append(CatalogItemRecord(kind: "coverage_link", code: "COVERAGE-IT", title: "Verifica la copertura in Italia",
                                           description: "Copertura della rete mobile (2G, 4G, 5G) e della fibra per indirizzo.",
                                           position: 0, data: #"{"url":"https://www.windtre.it/copertura/","scope":"national"}"#))
            items.append(CatalogItemRecord(kind: "coverage_link", code: "COVERAGE-ROAMING", title: "Verifica la copertura all'estero",
                                           description: "Paesi, operatori partner e tariffe in roaming per le linee aziendali.",
                                           position: 1, data: #"{"url":"https://www.windtre.it/business/estero/","scope":"international"}"#))
        }
        for item in items where try await transaction.catalogItem(kind: item.kind, code: item.code) == nil {
            _ = try await transaction.insertCatalogItem(item)
        }
    }

    /// Rows of one demo customer: SIM card numbers and codes, Giga Smart Share packages sized on the SIMs'
    /// traffic of the month, and devices (phones on instalments, routers with on-site maintenance).
    func fillLineProducts(_ account: DemoAccount, random: inout SplitMix64, in transaction: TenantTransaction) async throws {
        let sims = account.lines.filter { $0.kind == "sim" }.map(\.id)
        if tenant.feature("lines.pin_puk") != nil {
            for sim in sims {
                let body = "893988" + String(format: "%06d%07d", Int(random.next() % 1_000_000), Int(random.next() % 10_000_000))
                try await transaction.setSimDetails(lineId: sim, customerId: account.customerId, iccid: body + String(Self.luhnDigit(body)),
                                                    pin: String(format: "%04d", Int(random.next() % 10_000)),
                                                    puk: String(format: "%08d", Int(random.next() % 100_000_000)))
            }
        }
        let today = CalendarDay(instant: now)
        if tenant.feature("gss.view") != nil, !sims.isEmpty {
            let monthStart = CalendarDay(year: today.year, month: today.month, day: 1).startInstant
            let used = try await transaction.dataBytes(lineIds: sims, customerId: account.customerId, since: monthStart)
            // Three SIMs or more: two packages, so that SIMs can be moved between them.
            let groups = sims.count >= 3 ? [Array(sims.prefix(sims.count / 2 + 1)), Array(sims.dropFirst(sims.count / 2 + 1))] : [sims]
            let referent = [account.customer.legalRepFirstName, account.customer.legalRepLastName].compactMap { $0 }.joined(separator: " ")
            let phone = account.customer.legalRepMobile ?? account.customer.mobile ?? "3471234567"
            for (number, group) in groups.enumerated() {
                let bytes = group.reduce(Int64(0)) { $0 + (used[$1] ?? 0) }
                // The smallest package with a fifth to spare over this month's traffic, sometimes one size up.
                let fitting = Self.sharePackages.firstIndex { $0.giga * SharePlanRules.bytesPerGiga * 4 >= bytes * 5 } ?? Self.sharePackages.count - 1
                let package = Self.sharePackages[min(Self.sharePackages.count - 1, fitting + Int(random.next() % 2))]
                let extra: Int64 = random.next() % 3 == 0 ? 10 : 0
                let planId = try await transaction.insertSharePlan(SharePlanRecord(
                    customerId: account.customerId, contractId: account.contractId,
                    code: "GSS-\(account.customer.customerCode.filter(\.isNumber))-\(number + 1)", packageCode: package.code,
                    packageTitle: package.title, gigaAllowance: package.giga, extraGiga: extra,
                    extraGigaMonth: extra > 0 ? SharePlanRecord.month(of: today) : nil,
                    referentName: referent.isEmpty ? nil : referent,
                    referentPhone: number == 0 ? phone : "3\(40 + random.next() % 59)\(String(format: "%07d", Int(random.next() % 10_000_000)))",
                    activatedOn: today.adding(months: -(6 + Int(random.next() % 30))).description, updatedAt: now - 30 * 86_400))
                for sim in group { try await transaction.setSharePlan(lineId: sim, customerId: account.customerId, sharePlanId: planId) }
            }
        }
        if tenant.feature("devices.view") != nil {
            let phones: [(brand: String, model: String, cents: Int64)] = [
                ("Apple", "iPhone 15 128GB", 3_750), ("Samsung", "Galaxy S24 256GB", 3_490), ("Samsung", "Galaxy A55 5G", 1_590),
                ("Xiaomi", "Redmi Note 13 Pro", 1_290), ("Motorola", "edge 50", 1_690), ("Apple", "iPhone 16 Pro 256GB", 5_490),
            ]
            let tablets: [(brand: String, model: String, cents: Int64)] = [("Apple", "iPad Air 11\" 5G", 2_990), ("Samsung", "Galaxy Tab S9 FE 5G", 1_890)]
            let owner = account.customer.companyName ?? [account.customer.firstName, account.customer.lastName].compactMap { $0 }.joined(separator: " ")
            for (index, line) in account.lines.enumerated() {
                let purchased = today.adding(months: -(1 + Int(random.next() % 34)))
                let monthsSince = Int64((today.year - purchased.year) * 12 + today.month - purchased.month)
                switch line.kind {
                case "sim" where index == 0 || random.next() % 10 < 7:
                    let tablet = random.next() % 6 == 0
                    let models = tablet ? tablets : phones
                    let phone = models[Int(random.next() % UInt64(models.count))]
                    let count: Int64 = [0, 24, 30, 30][Int(random.next() % 4)]
                    let imeiBody = "35" + String(format: "%06d%06d", Int(random.next() % 1_000_000), Int(random.next() % 1_000_000))
                    let premium = random.next() % 2 == 0
                    let interventions: Int64 = premium ? 2 : 0
                    try await transaction.insertDevice(DeviceRecord(
                        customerId: account.customerId, lineId: line.id, kind: tablet ? "tablet" : "smartphone",
                        brand: phone.brand, model: phone.model, identifierKind: "imei", identifier: imeiBody + String(Self.luhnDigit(imeiBody)),
                        accountName: owner, purchasedOn: purchased.description, instalmentCount: count,
                        instalmentsPaid: min(count, monthsSince), instalmentCents: count > 0 ? phone.cents : 0,
                        maintenancePlan: premium ? "Assistenza Smartphone Premium (sostituzione in 24 ore)" : nil,
                        maintenanceInterventions: interventions, maintenanceInterventionsUsed: min(interventions, Int64(random.next() % 2)),
                        maintenanceExpiresOn: premium ? purchased.adding(months: 24).description : nil,
                        status: index == 0 && random.next() % 8 == 0 ? .blocked : .active))
                case "fixed_line":
                    let model = ["ZTE H388X", "Sercomm FG1000R", "Huawei OptiXstar HG8145X6"][Int(random.next() % 3)]
                    let serial = "\(model.prefix(2).uppercased())\(String(format: "%010d", Int(random.next() % 10_000_000_000)))"
                    let onSite = random.next() % 3 != 0
                    try await transaction.insertDevice(DeviceRecord(
                        customerId: account.customerId, lineId: line.id, kind: "router", brand: String(model.split(separator: " ")[0]),
                        model: model, identifierKind: "serial", identifier: serial, accountName: owner, purchasedOn: purchased.description,
                        instalmentCount: 48, instalmentsPaid: min(48, monthsSince), instalmentCents: 499,
                        maintenancePlan: onSite ? "Assistenza on-site entro 8 ore lavorative" : "Assistenza da remoto",
                        maintenanceInterventions: onSite ? 4 : 0, maintenanceInterventionsUsed: onSite ? Int64(random.next() % 3) : 0,
                        maintenanceExpiresOn: purchased.adding(months: 48).description))
                default:
                    continue
                }
            }
        }
    }

    /// The Luhn check digit of `digits` (IMEI and ICCID end with one).
    static func luhnDigit(_ digits: String) -> Int {
        var sum = 0
        for (offset, character) in digits.reversed().enumerated() {
            var value = character.wholeNumberValue ?? 0
            if offset % 2 == 0 { value *= 2; if value > 9 { value -= 9 } }
            sum += value
        }
        return (10 - sum % 10) % 10
    }
}
