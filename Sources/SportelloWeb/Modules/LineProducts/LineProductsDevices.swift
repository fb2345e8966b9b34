import Foundation
import Hummingbird
import SportelloApplication
import SportelloCore
import SportelloStore

/// Devices, PIN and PUK of the SIMs, and the coverage links.
extension LineProductsController {
    struct DeviceView: Encodable {
        struct Line: Encodable { var id: Int64; var identifier: String }
        struct Instalments: Encodable { var count, paid, left: Int64; var amount, leftAmount: API.Money }
        struct Maintenance: Encodable { var plan: String; var interventions, used, left: Int64; var expiresOn: String? }
        var id: Int64
        var kind, brand, model, identifierKind, identifier, accountName, purchasedOn, status: String
        var line: Line?
        var instalments: Instalments?
        var maintenance: Maintenance?
    }

    struct DeviceList: Encodable { var devices: [DeviceView] }

    struct SimView: Encodable {
        var id: Int64
        var identifier, status: String
        var iccid: String?
        var sharePlan: String?
    }

    struct SimList: Encodable { var sims: [SimView] }

    struct SimCodesView: Encodable {
        var lineId: Int64
        var identifier: String
        var iccid, pin, puk: String?
    }

    struct CoverageLink: Encodable {
        var code, title: String
        var description: String?
        var url, scope: String
    }

    struct CoverageLinks: Encodable { var links: [CoverageLink] }

    /// Why a reveal was refused, as the field problem to show.
    struct RevealRefused: Error { var problem: FieldProblem }

    /// Failed password checks allowed per user before the reveal is locked for `revealWindow` seconds.
    static let revealAttempts = 5
    static let revealWindow: Int64 = 900

    // MARK: Devices

    /// The customer's devices; with the own-line scope, only those used with the user's line.
    func deviceViews(context: UserContext) async throws -> [DeviceView] {
        try context.require(page: Self.devices)
        let customerId = context.customer.id ?? 0
        let ownOnly = ownLineOnly(Feature.devices, context: context)
        let userId = context.user.id
        let (devices, lines) = try await services.database.read(tenant: context.tenant.id, now: services.now) { transaction in
            (try await transaction.devices(customerId: customerId), try await transaction.productLines(customerId: customerId))
        }
        let byId = Dictionary(uniqueKeysWithValues: lines.map { ($0.id, $0) })
        return devices.compactMap { device -> DeviceView? in
            let line = device.lineId.flatMap { byId[$0] }
            if ownOnly && (line?.assignedUserId == nil || line?.assignedUserId != userId) { return nil }
            return DeviceView(
                id: device.id ?? 0, kind: device.kind, brand: device.brand, model: device.model, identifierKind: device.identifierKind,
                identifier: device.identifier, accountName: device.accountName, purchasedOn: device.purchasedOn, status: device.status.rawValue,
                line: line.map { .init(id: $0.id, identifier: $0.identifier) },
                instalments: device.instalmentCount > 0
                    ? .init(count: device.instalmentCount, paid: min(device.instalmentsPaid, device.instalmentCount), left: device.instalmentsLeft,
                            amount: API.Money(device.instalmentCents), leftAmount: API.Money(device.amountLeftCents)) : nil,
                maintenance: device.maintenancePlan.map {
                    .init(plan: $0, interventions: device.maintenanceInterventions, used: device.maintenanceInterventionsUsed,
                          left: device.interventionsLeft, expiresOn: device.maintenanceExpiresOn)
                })
        }
    }

    struct DevicesPageModel: Encodable {
        struct Device: Encodable {
            struct Instalments: Encodable { var summary, amount, left: String }
            struct Maintenance: Encodable {
                var plan, left: String
                var expiresOn: String?
                var expired: Bool?
            }
            var id: Int64
            var kind, brand, model, identifier, identifierKind, accountName, purchasedOn, status, statusClass: String
            var line: String?
            var instalments: Instalments?
            var maintenance: Maintenance?
            var imeiBlockHref: String?
        }
        var devices: [Device]
        var hasDevices: Bool
    }

    func devicesPage(context: UserContext) async throws -> Response {
        let devices = try await deviceViews(context: context)
        let locale = context.locale
        let theme = context.tenant.theme
        let today = CalendarDay(instant: services.now).description
        // Theft or loss of a phone: the tenant's IMEI block form, when it has one and the user may send it.
        let imeiForm = (context.tenant.definition.requests ?? OrderedMap()).first { entry in
            entry.value.fields.contains { $0.type.rawValue == "imei" } && context.may(entry.value.feature)
        }?.key
        let model = DevicesPageModel(
            devices: devices.map { device in
                .init(
                    id: device.id, kind: label("products.devices.kind", device.kind, context: context),
                    brand: device.brand, model: device.model, identifier: device.identifier,
                    identifierKind: theme.text("products.devices.id_\(device.identifierKind)", locale: locale),
                    accountName: device.accountName, purchasedOn: Formatting.day(device.purchasedOn),
                    status: label("products.devices.states", device.status, context: context), statusClass: device.status,
                    line: device.line?.identifier,
                    instalments: device.instalments.map { plan in
                        .init(summary: theme.text("products.devices.instalments_summary", locale: locale,
                                                  ["paid": String(plan.paid), "count": String(plan.count)]),
                              amount: Formatting.money(plan.amount.cents, locale: locale),
                              left: plan.left > 0 ? theme.text("products.devices.left_amount", locale: locale,
                                                               ["amount": Formatting.money(plan.leftAmount.cents, locale: locale)])
                                                  : theme.text("products.devices.paid_off", locale: locale))
                    },
                    maintenance: device.maintenance.map { maintenance in
                        .init(plan: maintenance.plan,
                              left: theme.text("products.devices.interventions_left", locale: locale,
                                               ["left": String(maintenance.left), "total": String(maintenance.interventions)]),
                              expiresOn: maintenance.expiresOn.map { Formatting.day($0) }, expired: maintenance.expiresOn.map { $0 < today })
                    },
                    imeiBlockHref: imeiForm.flatMap { form in
                        device.identifierKind == "imei" && device.status == DeviceStatus.active.rawValue ? Routes.requestForm.path(form) : nil
                    })
            },
            hasDevices: !devices.isEmpty)
        return Pages.render("products_devices", model, title: theme.text("products.devices.title", locale: locale), context: context)
    }

    // MARK: PIN and PUK

    /// The SIMs whose codes the user may see: every SIM of the customer, or only theirs with the own-line scope.
    func simLines(context: UserContext) async throws -> [(line: ProductLineRecord, plan: String?)] {
        try context.require(page: Self.sims)
        let customerId = context.customer.id ?? 0
        let ownOnly = ownLineOnly(Feature.pinPuk, context: context)
        let userId = context.user.id
        let (lines, plans) = try await services.database.read(tenant: context.tenant.id, now: services.now) { transaction in
            (try await transaction.productLines(customerId: customerId), try await transaction.sharePlans(customerId: customerId))
        }
        return lines.filter { $0.kind == "sim" && (!ownOnly || ($0.assignedUserId != nil && $0.assignedUserId == userId)) }
            .map { line in (line, line.sharePlanId.flatMap { id in plans.first { $0.id == id }?.code }) }
    }

    func simViews(context: UserContext) async throws -> [SimView] {
        try await simLines(context: context).map {
            SimView(id: $0.line.id, identifier: $0.line.identifier, status: $0.line.status.rawValue, iccid: $0.line.maskedICCID, sharePlan: $0.plan)
        }
    }

    /// One SIM the user may see the codes of: 404 for another customer's line or a line that is not a SIM,
    /// 403 for a SIM of the customer outside the user's own-line scope.
    func simLine(_ id: Int64, context: UserContext) async throws -> ProductLineRecord {
        try context.require(page: Self.sims)
        let customerId = context.customer.id ?? 0
        guard let line = try await services.database.read(tenant: context.tenant.id, now: services.now, { transaction in
            try await transaction.productLine(id: id, customerId: customerId)
        }), line.kind == "sim" else { throw PortalError.notFound }
        if ownLineOnly(Feature.pinPuk, context: context) && (line.assignedUserId == nil || line.assignedUserId != context.user.id) {
            throw PortalError.forbidden(feature: Feature.pinPuk)
        }
        return line
    }

    /// Checks the user's password again and returns the SIM's codes, auditing the reveal (never the codes).
    /// Wrong passwords are audited too and, after `revealAttempts` in `revealWindow`, refused with 429.
    func reveal(lineId: Int64, password: String, context: UserContext) async throws -> Result<SimCodesView, RevealRefused> {
        let line = try await simLine(lineId, context: context)
        let now = services.now
        let userId = context.user.id
        let key = "pin-puk|\(context.tenant.id)|\(userId.map(String.init) ?? "-")"
        guard await services.limiter.count(key, window: Self.revealWindow, now: now) < Self.revealAttempts else {
            throw PortalError.tooManyRequests
        }
        guard !password.isEmpty else { return .failure(RevealRefused(problem: problem("password", "required", context: context))) }
        let hash = context.user.passwordHash ?? services.passwords.decoyHash
        guard try await services.passwords.verify(password, against: hash), context.user.passwordHash != nil else {
            _ = await services.limiter.allow(key, limit: Self.revealAttempts, window: Self.revealWindow, now: now)
            try await services.database.write(tenant: context.tenant.id, now: now) { transaction in
                try await transaction.audit("line.pin_puk_denied", actorUserId: userId, targetKind: "line", targetId: String(lineId),
                                            detail: "wrong password")
            }
            return .failure(RevealRefused(problem: problem("password", "wrong_password", context: context)))
        }
        let customerId = context.customer.id ?? 0
        let codes = try await services.database.write(tenant: context.tenant.id, now: now) { transaction in
            let codes = try await transaction.simCodes(lineId: lineId, customerId: customerId)
            if codes?.pin != nil || codes?.puk != nil {
                try await transaction.audit("line.pin_puk_revealed", actorUserId: userId, targetKind: "line", targetId: String(lineId),
                                            detail: "SIM \(line.identifier)")
            }
            return codes
        }
        return .success(SimCodesView(lineId: lineId, identifier: line.identifier, iccid: line.iccid, pin: codes?.pin, puk: codes?.puk))
    }

    struct SimsPageModel: Encodable {
        struct Sim: Encodable {
            var id: Int64
            var identifier, status, statusClass: String
            var iccid, plan, description: String?
        }
        var sims: [Sim]
        var hasSims: Bool
    }

    func simsPage(context: UserContext) async throws -> Response {
        let sims = try await simLines(context: context)
        let model = SimsPageModel(
            sims: sims.map { sim in
                .init(id: sim.line.id, identifier: sim.line.identifier,
                      status: label("contracts.status", sim.line.status, context: context), statusClass: sim.line.status.rawValue,
                      iccid: sim.line.maskedICCID, plan: sim.plan, description: sim.line.description)
            },
            hasSims: !sims.isEmpty)
        return Pages.render("products_sims", model, title: context.tenant.theme.text("products.sims.title", locale: context.locale),
                            context: context)
    }

    /// One SIM with, once the password was checked, its codes (or why there are none).
    struct SimPageModel: Encodable {
        struct Codes: Encodable { var pin, puk, iccid: String }
        var lineId: Int64
        var identifier, status, statusClass: String
        var iccid: String?
        var codes: Codes?
        var noCodes: String?
    }

    func simPage(lineId: Int64, context: UserContext, codes: SimCodesView? = nil, problems: [FieldProblem] = []) async throws -> Response {
        let line = try await simLine(lineId, context: context)
        let theme = context.tenant.theme
        let locale = context.locale
        var model = SimPageModel(lineId: line.id, identifier: line.identifier,
                                 status: label("contracts.status", line.status, context: context), statusClass: line.status.rawValue,
                                 iccid: line.maskedICCID)
        if let codes {
            if codes.pin != nil || codes.puk != nil {
                model.codes = .init(pin: codes.pin ?? "—", puk: codes.puk ?? "—", iccid: codes.iccid ?? "—")
            } else {
                model.noCodes = theme.text("products.sims.no_codes", locale: locale,
                                           ["phone": context.tenant.definition.contacts?.customerCare ?? ""])
            }
        }
        return Pages.render("products_sim", model, errors: problems,
                            title: theme.text("products.sims.codes_title", locale: locale, ["number": line.identifier]),
                            context: context, status: problems.isEmpty ? .ok : .unprocessableContent)
    }

    // MARK: Coverage

    /// The coverage links of the tenant's catalogue (`coverage_link` items); only http(s) addresses are shown.
    func coverageLinks(context: UserContext) async throws -> [CoverageLink] {
        try context.require(page: Self.coverage)
        let day = CalendarDay(instant: services.now).description
        let customerType = context.customer.customerType
        let items = try await services.database.read(tenant: context.tenant.id, now: services.now) { transaction in
            try await transaction.catalogItems(kind: CatalogKind.coverageLink, availableOn: day, to: customerType)
        }
        return items.compactMap { item in
            let data = Self.data(of: item)
            guard let url = data["url"] as? String, let parsed = URL(string: url), ["https", "http"].contains(parsed.scheme ?? ""),
                  parsed.host != nil else { return nil }
            let scope = (data["scope"] as? String) == "international" ? "international" : "national"
            return CoverageLink(code: item.code, title: item.title, description: item.description, url: url, scope: scope)
        }
    }

    struct CoveragePageModel: Encodable {
        struct Link: Encodable {
            var title, url, host: String
            var description: String?
        }
        var national, international: [Link]
        var hasNational, hasInternational, hasLinks: Bool
        var careNote: String?
    }

    func coveragePage(context: UserContext) async throws -> Response {
        let links = try await coverageLinks(context: context)
        let theme = context.tenant.theme
        let locale = context.locale
        func group(_ scope: String) -> [CoveragePageModel.Link] {
            links.filter { $0.scope == scope }.map { link in
                .init(title: link.title, url: link.url, host: URL(string: link.url)?.host ?? "", description: link.description)
            }
        }
        let model = CoveragePageModel(
            national: group("national"), international: group("international"),
            hasNational: links.contains { $0.scope == "national" }, hasInternational: links.contains { $0.scope == "international" },
            hasLinks: !links.isEmpty,
            careNote: context.tenant.definition.contacts?.customerCare.map { theme.text("products.coverage.care", locale: locale, ["phone": $0]) })
        return Pages.render("products_coverage", model, title: theme.text("products.coverage.title", locale: locale), context: context)
    }
}
