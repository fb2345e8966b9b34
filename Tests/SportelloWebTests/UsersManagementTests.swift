import Foundation
import Hummingbird
import HummingbirdTesting
import Testing
import SportelloCore
import SportelloMail
@testable import SportelloStore
@testable import SportelloWeb

// MARK: Helpers (file-private: other suites have their own)

private let password = "Vecchia2026!"

extension PortalHarness {
    /// A customer of `type` (the first business type when nil) for the users tests.
    fileprivate func usersCustomer(type: String? = nil, vat: String? = nil) async throws -> Int64 {
        let typeId = type ?? definition.customerTypes.first { $0.value.kind == .business }?.key ?? definition.customerTypes.keys.first ?? ""
        let code = "U-\(UUID().uuidString.prefix(10))"
        return try await withCustomer(CustomerRecord(customerType: typeId, customerCode: code, companyName: "Azienda \(code)",
                                                     vatNumber: vat, createdAt: 0))
    }

    /// A user of the customer, password `Vecchia2026!`. Returns its id.
    fileprivate func usersMember(_ customerId: Int64, role: String, username: String? = nil, toggles: [String] = [],
                                 creator: Int64? = nil, status: UserStatus = .active) async throws -> (id: Int64, username: String) {
        let local = username ?? "m.\(role.prefix(6)).\(UUID().uuidString.prefix(8).lowercased())"
        let name = definition.login.identifiers == [.email] && !local.contains("@") ? "\(local)@example.it" : local
        let hash = try await services.passwords.hash(password)
        let key = UsernameRules.key(for: name, caseSensitive: definition.login.caseSensitive)
        let id = try await database.write(tenant: definition.id, now: Int64(clock.now().timeIntervalSince1970)) { transaction in
            try await transaction.insertUser(UserRecord(customerId: customerId, username: name, usernameKey: key, email: "\(local.split(separator: "@").first ?? "x")@example.it",
                                                        passwordHash: hash, role: role, toggles: toggles, creatorUserId: creator,
                                                        status: status, createdAt: 0))
        }
        return (id, name)
    }

    fileprivate func usersUser(_ id: Int64) async throws -> UserRecord? {
        try await database.read(tenant: definition.id) { try await $0.user(id: id) }
    }
}

/// A JSON answer of the API.
struct UsersAPIAnswer {
    var status: HTTPResponse.Status
    var json: [String: Any]
    var code: String? { (json["error"] as? [String: Any])?["code"] as? String }
    var fieldCodes: [String] { ((json["error"] as? [String: Any])?["fields"] as? [[String: Any]] ?? []).compactMap { $0["code"] as? String } }
    var fieldNames: [String] { ((json["error"] as? [String: Any])?["fields"] as? [[String: Any]] ?? []).compactMap { $0["field"] as? String } }
    var message: String { ((json["error"] as? [String: Any])?["message"] as? String) ?? "" }
}

extension Browser {
    fileprivate func usersAPI(_ method: HTTPRequest.Method, _ path: String, token: String?, body: [String: Any]? = nil) async throws -> UsersAPIAnswer {
        var headers = HTTPFields()
        if let token { headers[.authorization] = "Bearer \(token)" }
        var buffer: ByteBuffer?
        if let body {
            headers[.contentType] = "application/json"
            buffer = ByteBuffer(bytes: try JSONSerialization.data(withJSONObject: body))
        }
        let response = try await client.execute(uri: path, method: method, headers: headers, body: buffer)
        let json = (try? JSONSerialization.jsonObject(with: Data(buffer: response.body))) as? [String: Any] ?? [:]
        return UsersAPIAnswer(status: response.status, json: json)
    }

    /// Logs in through the API and returns the bearer token.
    fileprivate func usersToken(_ username: String) async throws -> String {
        let answer = try await usersAPI(.post, "/api/v1/session", token: nil, body: ["identifier": username, "password": password])
        #expect(answer.status == .created, "API login as \(username)")
        return try #require(answer.json["token"] as? String)
    }
}

/// What the authorization engine says (computed here from the engine, independently of the web layer).
private func engineAllows(_ portal: PortalHarness, actorRole: String, actorId: Int64, customerType: String, action: UserAction,
                          target: UserRecord, newRole: String? = nil, toggles: Set<String>? = nil) throws -> Bool {
    let model = portal.tenant.authorization
    let principal = try model.principal(role: actorRole, toggles: [], customerType: customerType)
    let managed = ManagedUser(id: target.id.map(String.init), role: newRole ?? target.role, toggles: toggles ?? Set(target.toggleList),
                              createdBy: target.creatorUserId.map(String.init))
    if case .success = model.mayManage(actor: principal, actorID: String(actorId), action: action, target: managed,
                                       previousRole: action == .changeRole ? target.role : nil) { return true }
    return false
}

/// Whether the role opens the users page (404 when the tenant has none of its features).
private func pageStatus(_ portal: PortalHarness, role: String, customerType: String) throws -> HTTPResponse.Status {
    let page = AccountUsersController.pages[0]
    let defined = page.definedFeatures(in: portal.definition)
    if defined.isEmpty { return .notFound }
    let principal = try portal.tenant.authorization.principal(role: role, toggles: [], customerType: customerType)
    return defined.contains { portal.tenant.authorization.isAllowed(principal, $0) } ? .ok : .forbidden
}

@Suite("Users and roles: every action as the authorization engine decides")
struct UsersManagementTests {
    static let tenants = ["unidata", "unogas", "tunda", "windtre", "tim"]

    @Test("every role × target role × action: the API lists and performs exactly what the engine allows, refuses the rest with 403",
          arguments: tenants, TestEngine.available)
    func engineMatrix(tenant: String, engine: TestEngine) async throws {
        try await PortalHarness.with(engine: engine, tenant: tenant) { portal in
            let definition = portal.definition
            for (actorRole, actorDefinition) in definition.roles {
                for customerType in actorDefinition.customerTypes ?? Array(definition.customerTypes.keys) {
                    let customerId = try await portal.usersCustomer(type: customerType)
                    let actor = try await portal.usersMember(customerId, role: actorRole)
                    let expectedPage = try pageStatus(portal, role: actorRole, customerType: customerType)
                    // One target per role offered to this customer type, created by the actor, and one created by nobody here.
                    var targets: [UserRecord] = []
                    for (targetRole, targetDefinition) in definition.roles {
                        if let types = targetDefinition.customerTypes, !types.contains(customerType) { continue }
                        for creator in [actor.id, nil] as [Int64?] {
                            let member = try await portal.usersMember(customerId, role: targetRole, creator: creator)
                            targets.append(try #require(try await portal.usersUser(member.id)))
                        }
                    }
                    let actorRecord = try #require(try await portal.usersUser(actor.id))
                    let created = targets
                    try await portal.test { [created] browser in
                        let targets = created
                        let token = try await browser.usersToken(actor.username)
                        let list = try await browser.usersAPI(.get, "/api/v1/users", token: token)
                        #expect(list.status == expectedPage, "\(tenant) \(actorRole)/\(customerType): GET /api/v1/users")
                        guard expectedPage == .ok else {
                            let refused = try await browser.usersAPI(.delete, "/api/v1/users/\(targets[0].id!)", token: token)
                            #expect(refused.status == expectedPage, "\(tenant) \(actorRole): no page, no action")
                            return
                        }
                        let listed = list.json["users"] as? [[String: Any]] ?? []
                        #expect(listed.count == targets.count + 1, "\(tenant) \(actorRole): every user of the customer, nobody else's")
                        for target in targets + [actorRecord] {
                            let entry = try #require(listed.first { ($0["id"] as? Int).map(Int64.init) == target.id })
                            let actions = Set(entry["actions"] as? [String] ?? [])
                            for action in [UserAction.edit, .block, .delete] {
                                let allowed = try engineAllows(portal, actorRole: actorRole, actorId: actor.id, customerType: customerType,
                                                               action: action, target: target)
                                #expect(actions.contains(action.rawValue) == allowed,
                                        "\(tenant) \(actorRole) → \(target.role) (creator \(String(describing: target.creatorUserId))): \(action.rawValue)")
                            }
                            let roleTargets = definition.roles.keys.filter { role in
                                role != target.role && (definition.roles[role]?.customerTypes?.contains(customerType) ?? true)
                                    && ((try? engineAllows(portal, actorRole: actorRole, actorId: actor.id, customerType: customerType,
                                                           action: .changeRole, target: target, newRole: role, toggles: [])) ?? false)
                            }
                            #expect(Set(entry["role_choices"] as? [String] ?? []) == Set(roleTargets), "\(tenant) \(actorRole) → \(target.role): role choices")
                            let hasToggles = !(definition.roles[target.role]?.toggles?.isEmpty ?? true)
                            let toggleAllowed = try hasToggles && engineAllows(portal, actorRole: actorRole, actorId: actor.id,
                                                                               customerType: customerType, action: .changeToggles, target: target)
                            #expect(actions.contains("change_toggles") == toggleAllowed, "\(tenant) \(actorRole) → \(target.role): toggles")
                        }
                        // Perform each action directly, including the forbidden ones: the server decides like the engine.
                        for target in targets + [actorRecord] {
                            let id = target.id!
                            let path = "/api/v1/users/\(id)"
                            let mayBlock = try engineAllows(portal, actorRole: actorRole, actorId: actor.id, customerType: customerType,
                                                            action: .block, target: target)
                            let block = try await browser.usersAPI(.patch, path, token: token, body: ["status": "blocked"])
                            #expect(block.status == (mayBlock ? .ok : .forbidden), "\(tenant) \(actorRole) blocks \(target.role)")
                            if !mayBlock { #expect(block.code == "forbidden") }
                            if let toggles = definition.roles[target.role]?.toggles, !toggles.isEmpty {
                                let all = Set(toggles.keys)
                                let mayToggle = try engineAllows(portal, actorRole: actorRole, actorId: actor.id, customerType: customerType,
                                                                 action: .changeToggles, target: target, toggles: all)
                                let answer = try await browser.usersAPI(.patch, path, token: token, body: ["toggles": Array(all)])
                                #expect(answer.status == (mayToggle ? .ok : .forbidden), "\(tenant) \(actorRole) switches toggles of \(target.role)")
                                let stored = try #require(try await portal.usersUser(id))
                                #expect(Set(stored.toggleList) == (mayToggle ? all : Set(target.toggleList)), "toggles stored only when allowed")
                            }
                            for newRole in definition.roles.keys where newRole != target.role
                                && (definition.roles[newRole]?.customerTypes?.contains(customerType) ?? true) {
                                let current = try #require(try await portal.usersUser(id))
                                guard current.role == target.role else { break }
                                let mayChange = try engineAllows(portal, actorRole: actorRole, actorId: actor.id, customerType: customerType,
                                                                 action: .changeRole, target: current, newRole: newRole, toggles: [])
                                let answer = try await browser.usersAPI(.patch, path, token: token, body: ["role": newRole])
                                #expect(answer.status == (mayChange ? .ok : .forbidden), "\(tenant) \(actorRole) moves \(target.role) to \(newRole)")
                                #expect(try await portal.usersUser(id)?.role == (mayChange ? newRole : target.role))
                            }
                            let stillThere = try #require(try await portal.usersUser(id))
                            let mayDelete = try engineAllows(portal, actorRole: actorRole, actorId: actor.id, customerType: customerType,
                                                             action: .delete, target: stillThere)
                            let delete = try await browser.usersAPI(.delete, path, token: token)
                            #expect(delete.status == (mayDelete ? .noContent : .forbidden), "\(tenant) \(actorRole) deletes \(stillThere.role)")
                            #expect((try await portal.usersUser(id) == nil) == mayDelete)
                        }
                    }
                }
            }
        }
    }

    @Test("WINDTRE: a Telco Manager cannot create users (page and API refuse a direct post)", arguments: TestEngine.available)
    func telcoManagerCannotCreate(engine: TestEngine) async throws {
        try await PortalHarness.with(engine: engine, tenant: "windtre") { portal in
            let customer = try await portal.usersCustomer()
            let admin = try await portal.usersMember(customer, role: "user_admin")
            let manager = try await portal.usersMember(customer, role: "telco_manager", creator: admin.id)
            try await portal.test { browser in
                try await browser.logIn(manager.username)
                let page = try await browser.get("/users")
                #expect(page.status == .forbidden)
                #expect(page.body.contains("Accesso non consentito"))
                let posted = try await browser.post("/users/invite", ["role": "telco_manager", "email": uniqueEmail("tm")])
                #expect(posted.status == .forbidden)
                let token = try await browser.usersToken(manager.username)
                let api = try await browser.usersAPI(.post, "/api/v1/users/invitations", token: token,
                                                     body: ["role": "telco_manager", "email": uniqueEmail("tm2")])
                #expect(api.status == .forbidden)
                #expect(api.code == "forbidden")
            }
            let invitations = try await portal.database.read(tenant: portal.definition.id) { try await $0.invitations(customerId: customer) }
            #expect(invitations.isEmpty, "nothing was issued")
        }
    }

    @Test("WINDTRE: only the User Admin who created a Telco Manager deletes it; the User Admin itself shows its change hint",
          arguments: TestEngine.available)
    func windtreCreatorOnly(engine: TestEngine) async throws {
        try await PortalHarness.with(engine: engine, tenant: "windtre") { portal in
            let customer = try await portal.usersCustomer()
            let admin = try await portal.usersMember(customer, role: "user_admin")
            let mine = try await portal.usersMember(customer, role: "telco_manager", creator: admin.id)
            let other = try await portal.usersMember(customer, role: "telco_manager", creator: nil)
            try await portal.test { browser in
                try await browser.logIn(admin.username)
                let list = try await browser.get("/users")
                #expect(list.status == .ok)
                let foreign = try await browser.get("/users/\(other.id)")
                #expect(!foreign.body.contains("/users/\(other.id)/delete"), "no delete control for someone else's Telco Manager")
                #expect(foreign.body.contains("Solo l&#39;utente che ha creato") || foreign.body.contains("Solo l'utente che ha creato"))
                let refused = try await browser.post("/users/\(other.id)/delete", ["confirm": "yes"])
                #expect(refused.status == .forbidden)
                let ownPage = try await browser.get("/users/\(mine.id)")
                #expect(ownPage.body.contains("/users/\(mine.id)/delete"))
                let unconfirmed = try await browser.post("/users/\(mine.id)/delete", [:])
                #expect(unconfirmed.status == .unprocessableContent, "deleting needs the confirmation box")
                #expect(unconfirmed.body.contains("confirm-error"))
                let deleted = try await browser.post("/users/\(mine.id)/delete", ["confirm": "yes"])
                #expect(deleted.status == .seeOther)
                #expect(deleted.location == "/users?done=deleted")
                let adminPage = try await browser.get("/users/\(admin.id)")
                #expect(adminPage.body.contains("registrazione online"), "the role's change_hint")
            }
            #expect(try await portal.usersUser(mine.id) == nil)
            #expect(try await portal.usersUser(other.id) != nil)
            let audit = try await portal.database.read(tenant: portal.definition.id) { try await $0.auditLog() }
            #expect(audit.contains { $0.action == "user.deleted" && $0.targetId == String(mine.id) && $0.actorUserId == admin.id })
        }
    }

    @Test("Unidata: a Referente Semplice cannot manage users, not even by posting directly", arguments: TestEngine.available)
    func referenteSempliceCannotManage(engine: TestEngine) async throws {
        try await PortalHarness.with(engine: engine, tenant: "unidata") { portal in
            let customer = try await portal.usersCustomer(type: "business")
            let admin = try await portal.usersMember(customer, role: "referente_amministratore")
            let simple = try await portal.usersMember(customer, role: "referente_semplice", toggles: Array(portal.definition.roles["referente_semplice"]!.toggles!.keys), creator: admin.id)
            let colleague = try await portal.usersMember(customer, role: "referente_semplice", creator: admin.id)
            try await portal.test { browser in
                try await browser.logIn(simple.username)
                #expect(try await browser.get("/users").status == .forbidden)
                #expect(try await browser.post("/users/\(colleague.id)/toggles", ["toggle_invoices": "on"]).status == .forbidden)
                #expect(try await browser.post("/users/\(colleague.id)/delete", ["confirm": "yes"]).status == .forbidden)
                #expect(try await browser.post("/users/\(admin.id)/block", [:]).status == .forbidden)
                let token = try await browser.usersToken(simple.username)
                #expect(try await browser.usersAPI(.patch, "/api/v1/users/\(colleague.id)", token: token, body: ["toggles": ["invoices"]]).status == .forbidden)
            }
            #expect(try await portal.usersUser(colleague.id)?.toggles == "")
        }
    }

    @Test("Unidata: the administrator switches a Referente Semplice's services on and off; the referent's features follow",
          arguments: TestEngine.available)
    func unidataToggles(engine: TestEngine) async throws {
        try await PortalHarness.with(engine: engine, tenant: "unidata") { portal in
            let customer = try await portal.usersCustomer(type: "business")
            let admin = try await portal.usersMember(customer, role: "referente_amministratore")
            let simple = try await portal.usersMember(customer, role: "referente_semplice", creator: admin.id)
            try await portal.test { browser in
                try await browser.logIn(admin.username)
                let page = try await browser.get("/users/\(simple.id)")
                #expect(page.body.contains("name=\"toggle_contracts\""))
                #expect(page.body.contains("Consultare i contratti"))
                let saved = try await browser.post("/users/\(simple.id)/toggles", ["toggle_contracts": "on", "toggle_invoices": "on"])
                #expect(saved.status == .seeOther)
                let unknown = try await browser.post("/users/\(simple.id)/toggles", ["toggle_users": "on"])
                #expect(unknown.status == .unprocessableContent, "a toggle the role does not offer is refused")
                let adminSelf = try await browser.post("/users/\(admin.id)/toggles", ["toggle_contracts": "on"])
                #expect(adminSelf.status == .forbidden, "nobody changes their own services")
            }
            #expect(Set(try await portal.usersUser(simple.id)?.toggleList ?? []) == ["contracts", "invoices"])
            try await portal.test { browser in
                let token = try await browser.usersToken(simple.username)
                let me = try await browser.usersAPI(.get, "/api/v1/me", token: token)
                let features = me.json["features"] as? [String] ?? []
                #expect(features.contains("contracts.view") && features.contains("invoices.view") && !features.contains("invoices.pay"))
            }
            let audit = try await portal.database.read(tenant: portal.definition.id) { try await $0.auditLog() }
            #expect(audit.contains { $0.action == "user.toggles_changed" && $0.targetId == String(simple.id) })
        }
    }

    @Test("nobody deletes or blocks themselves (page and API)", arguments: TestEngine.available)
    func notYourself(engine: TestEngine) async throws {
        try await PortalHarness.with(engine: engine, tenant: "tunda") { portal in
            let customer = try await portal.usersCustomer()
            let main = try await portal.usersMember(customer, role: "main_account")
            try await portal.test { browser in
                try await browser.logIn(main.username)
                let page = try await browser.get("/users/\(main.id)")
                #expect(!page.body.contains("/users/\(main.id)/delete") && !page.body.contains("/users/\(main.id)/block"))
                #expect(try await browser.post("/users/\(main.id)/delete", ["confirm": "yes"]).status == .forbidden)
                #expect(try await browser.post("/users/\(main.id)/block", [:]).status == .forbidden)
                let token = try await browser.usersToken(main.username)
                let api = try await browser.usersAPI(.delete, "/api/v1/users/\(main.id)", token: token)
                #expect(api.status == .forbidden)
                #expect(api.fieldCodes.contains("self_management") || api.fieldCodes.contains("not_delegated"))
            }
            #expect(try await portal.usersUser(main.id)?.status == .active)
        }
    }

    @Test("Tunda: the main account blocks a sub-account (its sessions end at once), unblocks it, then deletes it",
          arguments: TestEngine.available)
    func tundaBlockAndDelete(engine: TestEngine) async throws {
        try await PortalHarness.with(engine: engine, tenant: "tunda") { portal in
            let customer = try await portal.usersCustomer()
            let main = try await portal.usersMember(customer, role: "main_account")
            let sub = try await portal.usersMember(customer, role: "sub_account", toggles: ["invoices"], creator: main.id)
            try await portal.test { subBrowser in
                try await subBrowser.logIn(sub.username)
                #expect(try await subBrowser.get("/").status == .ok)
                let subToken = try await subBrowser.usersToken(sub.username)
                try await portal.test { browser in
                    try await browser.logIn(main.username)
                    let blocked = try await browser.post("/users/\(sub.id)/block", [:])
                    #expect(blocked.location == "/users/\(sub.id)?done=blocked")
                }
                #expect(try await subBrowser.get("/").status == .seeOther, "the blocked sub-account's session ended")
                #expect(try await subBrowser.usersAPI(.get, "/api/v1/me", token: subToken).status == .unauthorized)
                let again = try await subBrowser.post("/login", ["identifier": sub.username, "password": password])
                #expect(again.location != "/", "a blocked account cannot log in")
            }
            #expect(try await portal.usersUser(sub.id)?.status == .blocked)
            try await portal.test { browser in
                try await browser.logIn(main.username)
                let list = try await browser.get("/users")
                #expect(list.body.contains("Bloccato"))
                #expect(try await browser.post("/users/\(sub.id)/unblock", [:]).status == .seeOther)
            }
            #expect(try await portal.usersUser(sub.id)?.status == .active)
            try await portal.test { browser in
                try await browser.logIn(sub.username)
                let token = try await browser.usersToken(main.username)
                #expect(try await browser.usersAPI(.delete, "/api/v1/users/\(sub.id)", token: token).status == .noContent)
                #expect(try await browser.get("/").status == .seeOther, "the deleted sub-account's session ended")
            }
            #expect(try await portal.usersUser(sub.id) == nil)
            let audit = try await portal.database.read(tenant: portal.definition.id) { try await $0.auditLog() }.map(\.action)
            #expect(audit.contains("user.blocked") && audit.contains("user.unblocked") && audit.contains("user.deleted"))
        }
    }

    @Test("TIM: the Rappresentante Legale changes an employee's web profile; nobody gets the Rappresentante Legale profile",
          arguments: TestEngine.available)
    func timChangeRole(engine: TestEngine) async throws {
        try await PortalHarness.with(engine: engine, tenant: "tim") { portal in
            let customer = try await portal.usersCustomer()
            let legal = try await portal.usersMember(customer, role: "rappresentante_legale")
            let employee = try await portal.usersMember(customer, role: "utilizzatore", creator: legal.id)
            let full = try await portal.usersMember(customer, role: "amministratore_full", creator: legal.id)
            try await portal.test { browser in
                try await browser.logIn(legal.username)
                let page = try await browser.get("/users/\(employee.id)")
                #expect(page.body.contains("value=\"amministratore_full\"") && !page.body.contains("value=\"rappresentante_legale\""))
                #expect(!page.body.contains("/users/\(employee.id)/delete"), "TIM's rules do not let the RL delete employees")
                let changed = try await browser.post("/users/\(employee.id)/role", ["role": "amministratore_light"])
                #expect(changed.status == .seeOther)
                let elevated = try await browser.post("/users/\(employee.id)/role", ["role": "rappresentante_legale"])
                #expect(elevated.status == .forbidden)
                #expect(elevated.body.contains("Per modificare il Rappresentante Legale chiama"), "the role's change_hint")
                #expect(try await browser.post("/users/\(employee.id)/delete", ["confirm": "yes"]).status == .forbidden)
            }
            #expect(try await portal.usersUser(employee.id)?.role == "amministratore_light")
            try await portal.test { browser in
                try await browser.logIn(full.username)
                #expect(try await browser.get("/users").status == .forbidden, "an Amministratore Full has no user management")
                #expect(try await browser.post("/users/\(employee.id)/role", ["role": "utilizzatore"]).status == .forbidden)
            }
            #expect(try await portal.usersUser(employee.id)?.role == "amministratore_light")
            let audit = try await portal.database.read(tenant: portal.definition.id) { try await $0.auditLog() }
            #expect(audit.contains { $0.action == "user.role_changed" && $0.detail == "utilizzatore -> amministratore_light" })
        }
    }

    @Test("the users page lists role, status and last login of the customer's users only, never another customer's",
          arguments: TestEngine.available)
    func listAndIsolation(engine: TestEngine) async throws {
        try await PortalHarness.with(engine: engine, tenant: "unidata") { portal in
            let customer = try await portal.usersCustomer(type: "business")
            let admin = try await portal.usersMember(customer, role: "referente_amministratore")
            let simple = try await portal.usersMember(customer, role: "referente_semplice", username: "collega.visibile", creator: admin.id)
            try await portal.database.write(tenant: portal.definition.id) { transaction in
                var user = try #require(try await transaction.user(id: simple.id))
                user.lastLoginAt = Int64(PortalHarness.start.timeIntervalSince1970) - 86_400
                try await transaction.updateUser(user)
            }
            let otherCustomer = try await portal.usersCustomer(type: "business")
            let stranger = try await portal.usersMember(otherCustomer, role: "referente_semplice", username: "estraneo.nascosto")
            try await portal.test { browser in
                try await browser.logIn(admin.username)
                let list = try await browser.get("/users")
                #expect(list.body.contains("collega.visibile") && list.body.contains("Referente Semplice"))
                #expect(list.body.contains("20/11/2026"), "last login, Italian style")
                #expect(!list.body.contains("estraneo.nascosto"))
                #expect(try await browser.get("/users/\(stranger.id)").status == .notFound)
                #expect(try await browser.post("/users/\(stranger.id)/delete", ["confirm": "yes"]).status == .notFound)
                let token = try await browser.usersToken(admin.username)
                let api = try await browser.usersAPI(.delete, "/api/v1/users/\(stranger.id)", token: token)
                #expect(api.status == .notFound)
                #expect(api.code == "not_found")
                let patch = try await browser.usersAPI(.patch, "/api/v1/users/\(stranger.id)", token: token, body: ["toggles": ["contracts"]])
                #expect(patch.status == .notFound)
            }
            #expect(try await portal.usersUser(stranger.id) != nil)
        }
    }

    @Test("API: JSON list with schemas' fields, invitations with 422 listing every problem, PATCH all-or-nothing",
          arguments: TestEngine.available)
    func apiShapes(engine: TestEngine) async throws {
        try await PortalHarness.with(engine: engine, tenant: "unidata") { portal in
            let customer = try await portal.usersCustomer(type: "business")
            let admin = try await portal.usersMember(customer, role: "referente_amministratore")
            let simple = try await portal.usersMember(customer, role: "referente_semplice", creator: admin.id)
            try await portal.test { browser in
                let token = try await browser.usersToken(admin.username)
                let list = try await browser.usersAPI(.get, "/api/v1/users", token: token)
                #expect(list.status == .ok)
                let users = list.json["users"] as? [[String: Any]] ?? []
                let entry = try #require(users.first { ($0["id"] as? Int) == Int(simple.id) })
                #expect(entry["role"] as? String == "referente_semplice" && entry["role_label"] as? String == "Referente Semplice")
                #expect(entry["status"] as? String == "active" && (entry["toggles"] as? [[String: Any]])?.count == 6)
                #expect(Set(entry["actions"] as? [String] ?? []) == ["edit", "change_toggles", "delete"])
                let me = try #require(users.first { ($0["id"] as? Int) == Int(admin.id) })
                #expect(me["is_you"] as? Bool == true && (me["actions"] as? [String])?.isEmpty == true)
                #expect((list.json["invitable_roles"] as? [[String: Any]])?.first?["role"] as? String == "referente_semplice")

                let bad = try await browser.usersAPI(.post, "/api/v1/users/invitations", token: token,
                                                     body: ["role": "referente_semplice", "email": "non-una-mail", "username": "a b"])
                #expect(bad.status == .unprocessableContent)
                #expect(bad.code == "invalid")
                #expect(Set(bad.fieldNames) == ["email", "username"], "every problem at once")
                let forbiddenRole = try await browser.usersAPI(.post, "/api/v1/users/invitations", token: token,
                                                               body: ["role": "referente_amministratore", "email": uniqueEmail("x"), "username": "nuovo.admin"])
                #expect(forbiddenRole.status == .forbidden)
                #expect(forbiddenRole.fieldCodes == ["role_not_changeable"])
                #expect(forbiddenRole.message.contains("Customer Care"), "Unidata's change_hint")
                let invited = try await browser.usersAPI(.post, "/api/v1/users/invitations", token: token,
                                                         body: ["role": "referente_semplice", "email": uniqueEmail("nuovo"), "username": "nuovo.collega"])
                #expect(invited.status == .created)
                #expect(invited.json["username"] as? String == "nuovo.collega" && invited.json["role"] as? String == "referente_semplice")
                let duplicate = try await browser.usersAPI(.post, "/api/v1/users/invitations", token: token,
                                                           body: ["role": "referente_semplice", "email": uniqueEmail("altro"), "username": "nuovo.collega"])
                #expect(duplicate.status == .unprocessableContent, "a username reserved by a pending invitation")
                #expect(duplicate.fieldNames == ["username"])
                let invitationId = try #require(invited.json["id"] as? Int)
                #expect(try await browser.usersAPI(.delete, "/api/v1/users/invitations/\(invitationId)", token: token).status == .noContent)
                #expect(try await browser.usersAPI(.delete, "/api/v1/users/invitations/\(invitationId)", token: token).status == .notFound)

                // All or nothing: a valid name change with an unknown toggle changes nothing.
                let mixed = try await browser.usersAPI(.patch, "/api/v1/users/\(simple.id)", token: token,
                                                       body: ["first_name": "Giulia", "toggles": ["contracts", "teletrasporto"]])
                #expect(mixed.status == .unprocessableContent)
                #expect(mixed.fieldCodes == ["unknown_toggle"])
                #expect(try await portal.usersUser(simple.id)?.firstName == nil)
                let ok = try await browser.usersAPI(.patch, "/api/v1/users/\(simple.id)", token: token,
                                                    body: ["first_name": "Giulia", "toggles": ["usage"]])
                #expect(ok.status == .ok)
                #expect(ok.json["first_name"] as? String == "Giulia")
                #expect((ok.json["toggles"] as? [[String: Any]])?.first { $0["id"] as? String == "usage" }?["on"] as? Bool == true)
                let empty = try await browser.usersAPI(.patch, "/api/v1/users/\(simple.id)", token: token, body: [:])
                #expect(empty.status == .unprocessableContent)
                let status = try await browser.usersAPI(.patch, "/api/v1/users/\(simple.id)", token: token, body: ["status": "deleted"])
                #expect(status.status == .unprocessableContent && status.fieldNames == ["status"])
                let blockUnidata = try await browser.usersAPI(.patch, "/api/v1/users/\(simple.id)", token: token, body: ["status": "blocked"])
                #expect(blockUnidata.status == .forbidden, "Unidata's administrator has no block action")
            }
        }
    }

    @Test("a role's cardinality refuses one user too many, pending invitations included, with a clear message",
          arguments: TestEngine.available)
    func cardinality(engine: TestEngine) async throws {
        var definition = try #require(providerTenants["windtre"])
        definition.id = "windtre-\(UUID().uuidString.prefix(8).lowercased())"
        definition.hosts = ["localhost"]
        var manager = try #require(definition.roles["telco_manager"])
        manager.cardinality = try JSONDecoder().decode(Cardinality.self, from: Data(#"{"max": 1, "per": "customer"}"#.utf8))
        definition.roles["telco_manager"] = manager
        let templates = repositoryRoot.appendingPathComponent("templates")
        let tenant = PortalTenant(definition: definition, theme: try PortalTheme.load(root: templates, tenantId: "windtre"))
        let database = try await openTestDatabase(try engine.location())
        _ = try await database.migrate()
        let services = PortalServices(configuration: WebConfiguration(templatesDirectory: templates), database: database,
                                      tenants: TenantRegistry([tenant]), clock: ManualWallClock(PortalHarness.start),
                                      passwords: BcryptPasswordHasher(cost: 4), mail: try MailTemplates(root: templates))
        do {
            let hash = try await services.passwords.hash(password)
            let (customer, adminId) = try await database.write(tenant: definition.id) { transaction in
                let customer = try await transaction.insertCustomer(CustomerRecord(customerType: "business", customerCode: "CARD-1", companyName: "Card Srl", createdAt: 0))
                let admin = try await transaction.insertUser(UserRecord(customerId: customer, username: "AdminCard", usernameKey: "AdminCard",
                                                                        email: "admin@example.it", passwordHash: hash, role: "user_admin", createdAt: 0))
                return (customer, admin)
            }
            let app = buildApplication(services: services)
            try await app.test(.router) { client in
                let browser = Browser(client: client)
                try await browser.logIn("AdminCard")
                let first = try await browser.post("/users/invite", ["role": "telco_manager", "email": uniqueEmail("tm1")])
                #expect(first.status == .ok)
                let second = try await browser.post("/users/invite", ["role": "telco_manager", "email": uniqueEmail("tm2")])
                #expect(second.status == .unprocessableContent)
                #expect(second.body.contains("id=\"role-error\""), "the message sits next to the role field")
                #expect(second.body.contains("numero massimo di utenti Telco Manager (1)"))
                let token = try await browser.usersToken("AdminCard")
                let api = try await browser.usersAPI(.post, "/api/v1/users/invitations", token: token,
                                                     body: ["role": "telco_manager", "email": uniqueEmail("tm3")])
                #expect(api.status == .unprocessableContent)
                #expect(api.fieldCodes == ["cardinality"])
            }
            let invitations = try await database.read(tenant: definition.id) { try await $0.invitations(customerId: customer) }
            #expect(invitations.count == 1)
            _ = adminId
        } catch {
            await database.close()
            throw error
        }
        await database.close()
    }

    @Test("pending invitations are listed and can be sent again (the old link stops working) or cancelled; others cannot touch them",
          arguments: TestEngine.available)
    func invitationsResendAndRevoke(engine: TestEngine) async throws {
        try await PortalHarness.with(engine: engine, tenant: "unidata") { portal in
            let customer = try await portal.usersCustomer(type: "business")
            let admin = try await portal.usersMember(customer, role: "referente_amministratore")
            let simple = try await portal.usersMember(customer, role: "referente_semplice", creator: admin.id)
            let invited = uniqueEmail("invitato")
            try await portal.test { browser in
                try await browser.logIn(admin.username)
                let sent = try await browser.post("/users/invite", ["role": "referente_semplice", "email": invited, "username": "invitato.uno"])
                #expect(sent.status == .ok)
                #expect(sent.body.contains("Inviti in attesa") && sent.body.contains("invitato.uno"))
            }
            let first = try #require(try await portal.database.read(tenant: portal.definition.id) { try await $0.invitations(customerId: customer) }.first)
            try await portal.test { browser in
                try await browser.logIn(simple.username)
                #expect(try await browser.post("/users/invitations/\(first.id!)/revoke", [:]).status == .forbidden)
            }
            try await portal.test { browser in
                try await browser.logIn(admin.username)
                let resent = try await browser.post("/users/invitations/\(first.id!)/resend", [:])
                #expect(resent.location == "/users?done=resent")
                let after = try await portal.database.read(tenant: portal.definition.id) { try await $0.invitations(customerId: customer) }
                #expect(after.count == 2 && after.filter { $0.revokedAt == nil }.count == 1, "the earlier link is revoked")
                #expect(after.first { $0.id == first.id }?.revokedAt != nil)
                let live = try #require(after.first { $0.revokedAt == nil })
                #expect(live.expiresAt > first.expiresAt || live.expiresAt == first.expiresAt)
                let revoked = try await browser.post("/users/invitations/\(live.id!)/revoke", [:])
                #expect(revoked.location == "/users?done=revoked")
                #expect(try await browser.post("/users/invitations/\(live.id!)/revoke", [:]).status == .notFound)
                let list = try await browser.get("/users?done=revoked")
                #expect(list.body.contains("Invito annullato.") && !list.body.contains("Inviti in attesa"))
            }
            let audit = try await portal.database.read(tenant: portal.definition.id) { try await $0.auditLog() }.map(\.action)
            #expect(audit.filter { $0 == "invitation.issued" }.count == 2 && audit.contains("invitation.revoked"))
        }
    }
}
