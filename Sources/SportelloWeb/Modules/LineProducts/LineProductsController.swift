import Foundation
import Hummingbird
import SportelloCore
import SportelloStore

/// WINDTRE's Prodotti area (Giga Smart Share packages, devices, PIN and PUK of the SIMs) and the coverage links.
///
/// Giga Smart Share changes are real actions on the store, not request forms: the seed
/// (003_41e792d9e27fedff.txt, "Gestione GSS") says the customer, "selezionato il singolo pacchetto", does the
/// upgrade/downgrade, the referent's phone, the extra Giga and the SIM moves directly in the portal.
struct LineProductsController: ModuleController {
    let services: PortalServices

    enum Feature {
        static let shareView = "gss.view"
        static let shareManage = "gss.manage"
        static let devices = "devices.view"
        static let pinPuk = "lines.pin_puk"
        static let coverage = "coverage.view"
    }

    /// Catalogue kinds of this area (`catalog_items.kind`).
    enum CatalogKind {
        static let package = "gss_package"
        static let extraGiga = "gss_extra_giga"
        static let coverageLink = "coverage_link"
    }

    static let share = PortalPage(route: Routes.productsShare, titleKey: "products.share.title", features: [Feature.shareView, Feature.shareManage])
    static let devices = PortalPage(route: Routes.productsDevices, titleKey: "products.devices.title", features: [Feature.devices])
    static let sims = PortalPage(route: Routes.productsSims, titleKey: "products.sims.title", features: [Feature.pinPuk])
    static let coverage = PortalPage(route: Routes.coverage, titleKey: "products.coverage.title", features: [Feature.coverage])
    static let pages: [PortalPage] = [share, devices, sims, coverage]

    private static let idParameter = APIOperation.Parameter("id", in: "path", description: "Package id", schema: .integer)
    private static let lineParameter = APIOperation.Parameter("id", in: "path", description: "Line id", schema: .integer)

    static let apiOperations: [APIOperation] = [
        APIOperation("GET", Routes.productsShare, summary: "Giga Smart Share packages: SIMs, Giga used and left, residual credit; the packages and extra Giga on offer",
                     feature: Feature.shareView, otherFeatures: [Feature.shareManage], success: (200, "SharePlanList")),
        APIOperation("GET", Routes.productsSharePlan, summary: "One Giga Smart Share package with its SIMs",
                     feature: Feature.shareView, otherFeatures: [Feature.shareManage], parameters: [idParameter], success: (200, "SharePlan")),
        APIOperation("POST", Routes.productsSharePackage, summary: "Upgrade or downgrade a package (not below the Giga already used this month)",
                     feature: Feature.shareManage, parameters: [idParameter], requestBody: "SharePackageChange", success: (200, "SharePlan")),
        APIOperation("POST", Routes.productsShareReferent, summary: "Change the package's referent (the threshold SMS go to this mobile number)",
                     feature: Feature.shareManage, parameters: [idParameter], requestBody: "ShareReferentChange", success: (200, "SharePlan")),
        APIOperation("POST", Routes.productsShareExtraGiga, summary: "Buy extra Giga for the package this month (simulated: nothing is charged or activated on the network)",
                     feature: Feature.shareManage, parameters: [idParameter], requestBody: "ShareExtraGiga", success: (200, "SharePlan")),
        APIOperation("POST", Routes.productsShareMoves, summary: "Move one of the package's SIMs to another package of the customer",
                     feature: Feature.shareManage, parameters: [idParameter], requestBody: "ShareSimMove", success: (200, "SharePlan")),
        APIOperation("GET", Routes.productsDevices, summary: "The customer's devices: model, IMEI or serial, account, line, instalments, maintenance",
                     feature: Feature.devices, success: (200, "DeviceList")),
        APIOperation("GET", Routes.productsSims, summary: "The SIMs whose PIN and PUK the user may see (without the codes)",
                     feature: Feature.pinPuk, success: (200, "SimList")),
        APIOperation("POST", Routes.productsSimCodes, summary: "PIN and PUK of a SIM, after the user's password; every reveal is audited",
                     feature: Feature.pinPuk, parameters: [lineParameter], requestBody: "SimCodesRequest", success: (200, "SimCodes")),
        APIOperation("GET", Routes.coverage, summary: "Links to the national and international coverage checks",
                     feature: Feature.coverage, success: (200, "CoverageLinks")),
    ]

    static let apiSchemas: [String: JSONSchema] = [
        "SharePlanList": .object([
            "share_plans": .array(.reference("SharePlan")),
            "packages": .array(.reference("ShareOffer")), "extra_giga": .array(.reference("ShareOffer")),
        ], required: ["share_plans", "packages", "extra_giga"]),
        "ShareOffer": .object(["code": .string(), "title": .string(), "giga": .integer, "price": .nullable(.reference("Money")),
                               "billing_period": .nullable(.string())], required: ["code", "title", "giga"]),
        "Money": .object(["cents": .integer, "currency": .string()], required: ["cents", "currency"]),
        "SharePlan": .object([
            "id": .integer, "code": .string(description: "The package ID"), "package_code": .string(), "package_title": .string(),
            "giga_allowance": .integer, "extra_giga": .integer, "total_giga": .integer,
            "giga_used": .number, "used_percent": .integer, "referent_name": .nullable(.string()), "referent_phone": .string(),
            "status": .string(), "sim_count": .integer, "device_count": .integer,
            "sims": .array(.object(["line_id": .integer, "identifier": .string(), "status": .string(), "giga_used": .number,
                                    "credit": .nullable(.reference("Money"))], required: ["line_id", "identifier", "status", "giga_used"])),
            "actions": .array(.enumeration(["change_package", "change_referent", "buy_extra_giga", "move_sims"])),
        ], required: ["id", "code", "package_code", "package_title", "giga_allowance", "extra_giga", "total_giga", "giga_used",
                      "used_percent", "referent_phone", "status", "sim_count", "device_count", "sims", "actions"]),
        "SharePackageChange": .object(["package_code": .string(description: "Code of a package on offer")], required: ["package_code"]),
        "ShareReferentChange": .object(["referent_name": .nullable(.string()), "referent_phone": .string(description: "Italian mobile number")],
                                       required: ["referent_phone"]),
        "ShareExtraGiga": .object(["extra_code": .string(description: "Code of an extra Giga offer")], required: ["extra_code"]),
        "ShareSimMove": .object(["line_id": .integer, "target_id": .integer], required: ["line_id", "target_id"]),
        "DeviceList": .object(["devices": .array(.reference("Device"))], required: ["devices"]),
        "Device": .object([
            "id": .integer, "kind": .string(), "brand": .string(), "model": .string(), "identifier_kind": .enumeration(["imei", "serial"]),
            "identifier": .string(), "account_name": .string(), "purchased_on": .string(format: "date"), "status": .string(),
            "line": .nullable(.object(["id": .integer, "identifier": .string()], required: ["id", "identifier"])),
            "instalments": .nullable(.object(["count": .integer, "paid": .integer, "left": .integer, "amount": .reference("Money"),
                                              "left_amount": .reference("Money")], required: ["count", "paid", "left", "amount", "left_amount"])),
            "maintenance": .nullable(.object(["plan": .string(), "interventions": .integer, "used": .integer, "left": .integer,
                                              "expires_on": .nullable(.string(format: "date"))], required: ["plan", "interventions", "used", "left"])),
        ], required: ["id", "kind", "brand", "model", "identifier_kind", "identifier", "account_name", "purchased_on", "status"]),
        "SimList": .object(["sims": .array(.object([
            "id": .integer, "identifier": .string(), "status": .string(), "iccid": .nullable(.string(description: "Masked: last four digits")),
            "share_plan": .nullable(.string()),
        ], required: ["id", "identifier", "status"]))], required: ["sims"]),
        "SimCodesRequest": .object(["password": .string(description: "The user's own password, checked again")], required: ["password"]),
        "SimCodes": .object(["line_id": .integer, "identifier": .string(), "iccid": .nullable(.string()),
                             "pin": .nullable(.string()), "puk": .nullable(.string())], required: ["line_id", "identifier"]),
        "CoverageLinks": .object(["links": .array(.object([
            "code": .string(), "title": .string(), "description": .nullable(.string()), "url": .string(format: "uri"),
            "scope": .enumeration(["national", "international"]),
        ], required: ["code", "title", "url", "scope"]))], required: ["links"]),
    ]

    struct PackageChange: Decodable { var packageCode: String? }
    struct ReferentChange: Decodable { var referentName: String?; var referentPhone: String? }
    struct ExtraGiga: Decodable { var extraCode: String? }
    struct SimMove: Decodable { var lineId: Int64?; var targetId: Int64? }
    struct CodesRequest: Decodable { var password: String? }

    func addRoutes(to group: RouterGroup<UserContext>) {
        group.get(Routes.productsShare) { request, context in
            try await sharePage(context: context, notice: request.uri.queryParameters["done"].map(String.init))
        }
        group.get(Routes.productsSharePlan) { request, context in
            try await sharePlanPage(id: try context.pathId(), context: context, notice: request.uri.queryParameters["done"].map(String.init))
        }
        for action in [ShareAction.package, .referent, .extraGiga, .move] {
            group.post(action.route) { request, context in
                let form = try await SubmittedForm.read(request, context: context)
                let id = try context.pathId()
                let problems = try await perform(action, planId: id, input: ShareInput(form: form), context: context)
                if !problems.isEmpty {
                    return try await sharePlanPage(id: id, context: context, form: form, problems: problems)
                }
                return Pages.redirect(Routes.productsSharePlan.done(action.rawValue, id))
            }
            group.post(action.route.api) { request, context in
                let id = try context.pathId()
                let input: ShareInput
                switch action {
                case .package: input = ShareInput(packageCode: try await API.decode(PackageChange.self, from: request, context: context).packageCode)
                case .referent:
                    let body = try await API.decode(ReferentChange.self, from: request, context: context)
                    input = ShareInput(referentName: body.referentName, referentPhone: body.referentPhone)
                case .extraGiga: input = ShareInput(extraCode: try await API.decode(ExtraGiga.self, from: request, context: context).extraCode)
                case .move:
                    let body = try await API.decode(SimMove.self, from: request, context: context)
                    input = ShareInput(lineId: body.lineId, targetId: body.targetId)
                }
                let problems = try await perform(action, planId: id, input: input, context: context)
                if !problems.isEmpty { throw PortalError.invalid(problems) }
                return API.json(try await sharePlanView(id: id, context: context))
            }
        }
        group.get(Routes.productsShare.api) { _, context in
            let overview = try await shareOverview(context: context)
            return API.json(SharePlanList(sharePlans: overview.plans, packages: overview.packages.map(\.view), extraGiga: overview.extras.map(\.view)))
        }
        group.get(Routes.productsSharePlan.api) { _, context in API.json(try await sharePlanView(id: try context.pathId(), context: context)) }

        group.get(Routes.productsDevices) { _, context in try await devicesPage(context: context) }
        group.get(Routes.productsDevices.api) { _, context in API.json(DeviceList(devices: try await deviceViews(context: context))) }

        group.get(Routes.productsSims) { _, context in try await simsPage(context: context) }
        group.get(Routes.productsSim) { _, context in try await simPage(lineId: try context.pathId(), context: context) }
        group.post(Routes.productsSimCodes) { request, context in
            let form = try await SubmittedForm.read(request, context: context)
            let id = try context.pathId()
            switch try await reveal(lineId: id, password: form["password"], context: context) {
            case .success(let codes): return try await simPage(lineId: id, context: context, codes: codes)
            case .failure(let problem): return try await simPage(lineId: id, context: context, problems: [problem.problem])
            }
        }
        group.get(Routes.productsSims.api) { _, context in API.json(SimList(sims: try await simViews(context: context))) }
        group.post(Routes.productsSimCodes.api) { request, context in
            let body = try await API.decode(CodesRequest.self, from: request, context: context)
            switch try await reveal(lineId: try context.pathId(), password: body.password ?? "", context: context) {
            case .success(let codes): return API.json(codes)
            case .failure(let problem): throw PortalError.invalid([problem.problem])
            }
        }

        group.get(Routes.coverage) { _, context in try await coveragePage(context: context) }
        group.get(Routes.coverage.api) { _, context in API.json(CoverageLinks(links: try await coverageLinks(context: context))) }
    }

    // MARK: Shared helpers

    /// Whether the user's role limits `feature` to the line assigned to them.
    func ownLineOnly(_ feature: String, context: UserContext) -> Bool {
        context.tenant.authorization.scope(context.session.principal, feature) == .ownLine
    }

    func defines(_ feature: String, _ context: UserContext) -> Bool { context.tenant.definition.feature(feature) != nil }

    /// A UI string in every locale of the tenant, for field problems.
    func text(_ key: String, context: UserContext, _ values: [String: String] = [:]) -> LocalizedText {
        var translations: [String: String] = [:]
        for locale in context.tenant.definition.locales.available {
            translations[locale] = context.tenant.theme.text(key, locale: locale, values)
        }
        return LocalizedText(translations: translations)
    }

    func problem(_ field: String, _ code: String, context: UserContext, _ values: [String: String] = [:]) -> FieldProblem {
        FieldProblem(field: field, code: code, message: text("products.error.\(code)", context: context, values))
    }

    /// A label from the UI strings, or the value itself when there is none.
    func label(_ prefix: String, _ value: String, context: UserContext) -> String {
        let text = context.tenant.theme.text("\(prefix).\(value)", locale: context.locale)
        return text == "\(prefix).\(value)" ? value : text
    }

    /// The label of a status (or any other value of a fixed set) under `prefix`.
    func label<Value: RawRepresentable>(_ prefix: String, _ value: Value, context: UserContext) -> String where Value.RawValue == String {
        label(prefix, value.rawValue, context: context)
    }

    /// Giga with one decimal, in the locale's style (`12,5` / `12.5`).
    static func giga(_ value: Double, locale: String) -> String {
        let text = String(format: "%.1f", value)
        return locale == "en" ? text : text.replacingOccurrences(of: ".", with: ",")
    }

    /// Reads a JSON object stored in a catalogue item's `data`.
    static func data(of item: CatalogItemRecord) -> [String: Any] {
        guard let data = item.data?.data(using: .utf8),
              let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else { return [:] }
        return object
    }
}
