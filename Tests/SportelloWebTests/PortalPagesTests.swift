import Foundation
import Hummingbird
import Testing
import SportelloCore
@testable import SportelloStore
@testable import SportelloWeb

extension PortalHarness {
    /// A customer of a type the role allows and one user of `role` with the given switches on
    /// (the role's YAML defaults when nil); password `Vecchia2026!`. Returns the username.
    func userForRole(_ role: String, toggles: [String]? = nil) async throws -> String {
        let roleDefinition = try #require(definition.roles[role])
        let typeId = roleDefinition.customerTypes?.first ?? definition.customerTypes.first { $0.value.kind == .business }?.key
            ?? definition.customerTypes.keys.first ?? ""
        let local = "u.\(role.replacingOccurrences(of: "_", with: "-")).\(UUID().uuidString.prefix(6).lowercased())"
        let email = "\(local)@example.it"
        let username = definition.login.identifiers == [.email] ? email : local
        let chosen = toggles ?? (roleDefinition.toggles?.compactMap { id, toggle in (toggle.default ?? false) ? id : nil } ?? [])
        let hash = try await services.passwords.hash("Vecchia2026!")
        let key = UsernameRules.key(for: username, caseSensitive: definition.login.caseSensitive)
        let vat = ItalianIdentifiers.makePartitaIVA(serial: Int.random(in: 1...9_999_999), officeCode: 58)
        try await database.write(tenant: definition.id, now: Int64(clock.now().timeIntervalSince1970)) { transaction in
            let customerId = try await transaction.insertCustomer(CustomerRecord(
                customerType: typeId, customerCode: "C-\(local)", firstName: "Maria", lastName: "Verdi",
                companyName: "Verdi \(local) Srl", taxCode: "VRDMRA80A41H501X", vatNumber: vat, email: email,
                createdAt: 0))
            let userId = try await transaction.insertUser(UserRecord(customerId: customerId, username: username, usernameKey: key,
                                                                     email: email, firstName: "Maria", lastName: "Verdi",
                                                                     passwordHash: hash, role: role, toggles: chosen, createdAt: 0))
            // The actions the tenant requires after login are done: this matrix is about the pages behind them
            // (RequiredActionsTests shows the pages wait for them).
            for (id, action) in RequiredActionRules.applicable(in: definition, role: role, customerType: typeId) where action.type.isRecorded {
                _ = try await transaction.recordRequiredActionCompletion(userId: userId, actionId: id, version: action.version)
            }
        }
        return username
    }

    /// What the authorization engine says about `page` for `role` with `toggles`.
    func expectedStatus(of page: PortalPage, role: String, toggles: [String]) throws -> HTTPResponse.Status {
        let defined = page.definedFeatures(in: definition)
        if defined.isEmpty { return .notFound }
        let typeId = definition.roles[role]?.customerTypes?.first
        let principal = try tenant.authorization.principal(role: role, toggles: Set(toggles), customerType: typeId)
        return defined.contains { tenant.authorization.isAllowed(principal, $0) } ? .ok : .forbidden
    }
}

/// Every page of the catalog for every role of every tenant: open where the role grants one of the
/// page's features, a 403 page in the tenant's language where it does not, 404 where the tenant has no
/// such page; the navigation shows exactly the sections the role can open.
@Suite("Portal pages for every role of every tenant")
struct PortalPagesTests {
    static let tenants = ["unidata", "unogas", "tunda", "windtre", "tim", "vela"]

    @Test("each page answers 200, 403 or 404 exactly as the role's features say", arguments: tenants, TestEngine.available)
    func pageMatrix(tenant: String, engine: TestEngine) async throws {
        try await PortalHarness.with(engine: engine, tenant: tenant) { portal in
            let definition = portal.definition
            for (role, roleDefinition) in definition.roles {
                var variants: [[String]?] = [nil]
                if let toggles = roleDefinition.toggles, !toggles.isEmpty { variants.append(Array(toggles.keys)) }
                for toggles in variants {
                    let username = try await portal.userForRole(role, toggles: toggles)
                    let effective = toggles ?? (roleDefinition.toggles?.compactMap { id, toggle in (toggle.default ?? false) ? id : nil } ?? [])
                    try await portal.test { browser in
                        try await browser.logIn(username)
                        let home = try await browser.get("/")
                        #expect(home.status == .ok, "\(tenant) \(role): the home page opens")
                        #expect(home.body.contains(roleDefinition.label.resolve("it")), "\(tenant) \(role): the role's name is shown under the user's")
                        for page in PortalCatalog.standard.pages + portal.tenant.surface.pages {
                            let expected = try portal.expectedStatus(of: page, role: role, toggles: effective)
                            let answer = try await browser.get(page.path)
                            #expect(answer.status == expected, "\(tenant) \(role) toggles \(effective): \(page.path)")
                            if expected == .forbidden {
                                #expect(answer.body.contains("Accesso non consentito") || answer.body.contains("non è abilitato"),
                                        "\(tenant) \(role): the 403 page speaks Italian")
                            }
                            if expected == .ok {
                                #expect(answer.body.contains("<h1"), "\(tenant) \(role): \(page.path) renders a page")
                            }
                        }
                        for (sectionId, _) in definition.sections {
                            let granted = definition.features.filter { $0.value.section == sectionId }.map(\.key)
                                .contains { feature in
                                    let principal = try? portal.tenant.authorization.principal(role: role, toggles: Set(effective),
                                                                                               customerType: roleDefinition.customerTypes?.first)
                                    return principal.map { portal.tenant.authorization.isAllowed($0, feature) } ?? false
                                }
                            let homeOnly = definition.features.filter { $0.value.section == sectionId }
                                .allSatisfy { Pages.isHomePageFeature($0.key, in: definition) }
                            let linked = home.body.contains("href=\"/sections/\(sectionId)\"")
                            #expect(linked == (granted && !homeOnly), "\(tenant) \(role): section \(sectionId) in the navigation only when granted")
                            let section = try await browser.get("/sections/\(sectionId)")
                            #expect(section.status == (granted ? .ok : .forbidden), "\(tenant) \(role): /sections/\(sectionId)")
                        }
                    }
                }
            }
        }
    }

    @Test("the login page links to every recovery flow and every public registration", arguments: tenants)
    func loginLinks(tenant: String) async throws {
        try await PortalHarness.with(engine: .sqlite, tenant: tenant) { portal in
            try await portal.test { browser in
                let login = try await browser.get("/login")
                for (id, flow) in portal.definition.flows {
                    let linked = login.body.contains("href=\"/access/\(id)\"")
                    #expect(linked == (flow.steps.first?.step != .invitation), "\(tenant): /access/\(id) linked unless invitation-only")
                }
            }
        }
    }

    @Test("brand colours too light for white text are darkened to at least 4.5:1; dark ones are kept",
          arguments: [("#f39200", true), ("#ff6a00", true), ("#00529b", false), ("#003c7e", false)])
    func readableBrandColours(colour: String, darkened: Bool) throws {
        let result = ReadableColour.darkened(colour, against: ["#ffffff", "#f5f6f8"], minimum: 4.6)
        #expect((result != nil) == darkened)
        let used = try #require(ReadableColour.components(result ?? colour))
        for ground in ["#ffffff", "#f5f6f8"] {
            #expect(ReadableColour.contrast(used, try #require(ReadableColour.components(ground))) >= 4.5)
        }
    }

    @Test("hand-checked rules from the providers' documents", arguments: TestEngine.available)
    func providerRules(engine: TestEngine) async throws {
        try await PortalHarness.with(engine: engine, tenant: "unidata") { portal in
            let plain = try await portal.userForRole("referente_semplice", toggles: [])
            let withContracts = try await portal.userForRole("referente_semplice", toggles: ["contracts"])
            try await portal.test { browser in
                try await browser.logIn(plain)
                #expect(try await browser.get("/contracts").status == .forbidden, "a Referente Semplice sees contracts only when switched on")
            }
            try await portal.test { browser in
                try await browser.logIn(withContracts)
                #expect(try await browser.get("/contracts").status == .ok)
            }
        }
        try await PortalHarness.with(engine: engine, tenant: "unogas") { portal in
            let customer = try await portal.userForRole("cliente")
            try await portal.test { browser in
                try await browser.logIn(customer)
                #expect(try await browser.get("/contracts").status == .notFound, "Unogas has no contracts page")
            }
        }
    }

    @Test("the contracts page shows the customer's contracts, lines and services, and nobody else's", arguments: TestEngine.available)
    func contractsContent(engine: TestEngine) async throws {
        try await PortalHarness.with(engine: engine, tenant: "unidata") { portal in
            let mine = try await portal.userForRole("referente_amministratore")
            let theirs = try await portal.userForRole("referente_amministratore")
            try await portal.database.write(tenant: portal.definition.id) { transaction in
                for (username, offer, number) in [(mine, "Fibra Business 1000", "0612345678"), (theirs, "Altra Offerta Segreta", "0698765432")] {
                    let user = try #require(try await transaction.user(usernameKey: username))
                    let contract = try await transaction.insertContract(ContractRecord(customerId: user.customerId, code: "K-\(number)",
                                                                                       offer: offer, kind: "fixed", startsOn: "2025-01-01",
                                                                                       expiresOn: "2026-12-31"))
                    let line = try await transaction.insertLine(LineRecord(customerId: user.customerId, contractId: contract, kind: "fixed_line",
                                                                           identifier: number, activatedOn: "2025-01-10"))
                    _ = try await transaction.insertService(ServiceRecord(contractId: contract, lineId: line, name: "IP statico", monthlyFeeCents: 123_456))
                }
            }
            try await portal.test { browser in
                try await browser.logIn(mine)
                let page = try await browser.get("/contracts")
                #expect(page.status == .ok)
                #expect(page.body.contains("Fibra Business 1000") && page.body.contains("0612345678"))
                #expect(page.body.contains("1.234,56 €"), "fees in Italian format")
                #expect(page.body.contains("31/12/2026") && page.body.contains("in scadenza"), "expiry shown, expiring within 60 days flagged")
                #expect(!page.body.contains("Altra Offerta Segreta") && !page.body.contains("0698765432"), "another customer's contract never shows")
            }
        }
    }
}
