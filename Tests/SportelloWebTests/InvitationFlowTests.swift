import Foundation
import Testing
import SportelloCore
@testable import SportelloStore
@testable import SportelloWeb

private let adminPassword = "Vecchia2026!"
private let newPassword = "Sportello#2026x"

extension Browser {
    /// Logs in and expects to land on the home page.
    func logIn(_ identifier: String, _ password: String = adminPassword, sourceLocation: Testing.SourceLocation = #_sourceLocation) async throws {
        let login = try await post("/login", ["identifier": identifier, "password": password])
        #expect(login.location == "/", "login as \(identifier)", sourceLocation: sourceLocation)
    }
}

/// Invitations issued by a customer's own administrator from the users page, then completed by the
/// invited person through the link in the e-mail.
@Suite("User-issued invitations over HTTP with real e-mail", .enabled(if: MailSink.isAvailable))
struct InvitationFlowTests {
    @Test("Unidata: the Referente Amministratore invites a Referente Semplice with an assigned username; Prosegui logs them in",
          arguments: TestEngine.available)
    func unidataReferent(engine: TestEngine) async throws {
        try await PortalHarness.with(engine: engine, tenant: "unidata") { portal in
            _ = try await portal.withUser(role: "referente_amministratore", username: "admin.uni", email: uniqueEmail("admin"))
            let invited = uniqueEmail("collega")
            try await portal.test { browser in
                try await browser.logIn("admin.uni")
                let users = try await browser.get("/users")
                #expect(users.status == .ok)
                #expect(users.body.contains("value=\"referente_semplice\""))
                let missing = try await browser.post("/users/invite", ["role": "referente_semplice", "email": invited])
                #expect(missing.status == .unprocessableContent, "Unidata assigns the username at invitation")
                let sent = try await browser.post("/users/invite", ["role": "referente_semplice", "email": invited, "username": "collega.uni"])
                #expect(sent.status == .ok)
                #expect(sent.body.contains(invited), "the pending invitation is listed")
            }
            let invitationMail = try await portal.mail(to: invited).text ?? ""
            #expect(invitationMail.contains("Il tuo nome utente è: collega.uni"), "an assigned username is given in the mail")
            let link = try Browser.link(in: invitationMail)
            try await portal.test { browser in
                let start = try await browser.follow(try await browser.get(link))
                #expect(start.body.contains(invited))
                let credentials = try await browser.follow(try await browser.post("/access/referent_invitation", ["step": "0", "email": invited, "first_name": "Giulia", "last_name": "Conti"]))
                #expect(credentials.body.contains("collega.uni"))
                _ = try await browser.post("/access/referent_invitation", ["step": "1"])
                _ = try await browser.post("/access/referent_invitation", ["step": "2", "password": newPassword, "password_confirmation": newPassword])
                let home = try await browser.post("/access/referent_invitation", ["step": "3"])
                #expect(home.location == "/")
                let dashboard = try await browser.get("/")
                #expect(dashboard.status == .ok)
                #expect(dashboard.body.contains("Referente Semplice"))
            }
            let user = try await portal.database.read(tenant: portal.definition.id) { try await $0.user(usernameKey: "collega.uni") }
            #expect(user?.role == "referente_semplice")
            #expect(user?.firstName == "Giulia" && user?.lastName == "Conti", "the invitee's own name, not the customer's")
            #expect(user?.toggles.isEmpty == true, "Unidata's switches start off")
        }
    }

    @Test("Tunda: a sub-account may reuse the main account's e-mail as its username; both log in with their own password",
          arguments: TestEngine.available)
    func tundaSubAccount(engine: TestEngine) async throws {
        try await PortalHarness.with(engine: engine, tenant: "tunda") { portal in
            let shared = uniqueEmail("ufficio")
            _ = try await portal.withUser(role: "main_account", username: shared, email: shared)
            try await portal.test { browser in
                try await browser.logIn(shared)
                let sent = try await browser.post("/users/invite", ["role": "sub_account", "email": shared])
                #expect(sent.status == .ok)
            }
            let link = try Browser.link(in: try await portal.mail(to: shared).text)
            try await portal.test { browser in
                _ = try await browser.follow(try await browser.get(link))
                let credentials = try await browser.follow(try await browser.post("/access/sub_account_invitation", ["step": "0", "email": shared, "first_name": "Giulia", "last_name": "Conti"]))
                #expect(credentials.body.contains("name=\"email\""))
                _ = try await browser.post("/access/sub_account_invitation", ["step": "1", "email": shared])
                let done = try await browser.follow(try await browser.post("/access/sub_account_invitation", [
                    "step": "2", "password": newPassword, "password_confirmation": newPassword]))
                #expect(done.body.contains("Registrazione completata"))
            }
            try await portal.test { browser in
                try await browser.logIn(shared, newPassword)
                #expect(try await browser.get("/").body.contains("Sub-account"))
            }
            try await portal.test { browser in
                try await browser.logIn(shared, adminPassword)
                #expect(try await browser.get("/").body.contains("Account principale"))
            }
        }
    }

    @Test("WINDTRE: the User Admin invites a Telco Manager; a changed e-mail is activated by link, then the username is chosen",
          arguments: TestEngine.available)
    func windtreTelcoManager(engine: TestEngine) async throws {
        try await PortalHarness.with(engine: engine, tenant: "windtre") { portal in
            _ = try await portal.withUser(role: "user_admin", username: "AdminW3", email: uniqueEmail("admin"))
            let invited = uniqueEmail("manager")
            let changed = uniqueEmail("manager.personale")
            try await portal.test { browser in
                try await browser.logIn("AdminW3")
                let sent = try await browser.post("/users/invite", ["role": "telco_manager", "email": invited])
                #expect(sent.status == .ok)
            }
            let invitation = try Browser.link(in: try await portal.mail(to: invited).text)
            try await portal.test { browser in
                _ = try await browser.follow(try await browser.get(invitation))
                let waiting = try await browser.follow(try await browser.post("/access/telco_manager_registration", ["step": "0", "email": changed, "first_name": "Giulia", "last_name": "Conti"]))
                #expect(waiting.body.contains("riceverai"), "a different e-mail must be confirmed first")
            }
            let activation = try Browser.link(in: try await portal.mail(to: changed).text)
            try await portal.test { browser in
                let credentials = try await browser.follow(try await browser.get(activation))
                #expect(credentials.body.contains("name=\"username\""))
                _ = try await browser.post("/access/telco_manager_registration", [
                    "step": "2", "username": "Manager.W3", "password": "Windtre2026ok", "password_confirmation": "Windtre2026ok"])
                try await browser.logIn("Manager.W3", "Windtre2026ok")
                #expect(try await browser.get("/").body.contains("Telco Manager"))
                let users = try await browser.get("/users")
                #expect(users.status == .forbidden, "only the User Admin manages users")
            }
            let manager = try await portal.database.read(tenant: portal.definition.id) { try await $0.user(usernameKey: "Manager.W3") }
            #expect(manager?.email == changed)
        }
    }

    @Test("TIM: the legal representative invites an employee, who chooses a username; employees cannot invite",
          arguments: TestEngine.available)
    func timEmployee(engine: TestEngine) async throws {
        try await PortalHarness.with(engine: engine, tenant: "tim") { portal in
            _ = try await portal.withUser(role: "rappresentante_legale", username: "legale.tim", email: uniqueEmail("legale"))
            let invited = uniqueEmail("dipendente")
            try await portal.test { browser in
                try await browser.logIn("legale.tim")
                #expect(try await browser.post("/users/invite", ["role": "utilizzatore", "email": invited]).status == .ok)
            }
            let invitationMail = try await portal.mail(to: invited).text ?? ""
            #expect(invitationMail.contains("Sceglierai il tuo nome utente"), "a username chosen later is announced, not printed empty")
            #expect(!invitationMail.contains("nome utente è:"))
            let link = try Browser.link(in: invitationMail)
            try await portal.test { browser in
                _ = try await browser.follow(try await browser.get(link))
                _ = try await browser.post("/access/employee_invitation", ["step": "0", "email": invited, "first_name": "Giulia", "last_name": "Conti"])
                let taken = try await browser.post("/access/employee_invitation", ["step": "1", "username": "legale.tim"])
                #expect(taken.status == .unprocessableContent, "a username already in use is refused")
                _ = try await browser.post("/access/employee_invitation", ["step": "1", "username": "dipendente.tim"])
                let done = try await browser.follow(try await browser.post("/access/employee_invitation", [
                    "step": "2", "password": newPassword, "password_confirmation": newPassword]))
                #expect(done.body.contains("Registrazione completata"))
                try await browser.logIn("dipendente.tim", newPassword)
                let refused = try await browser.post("/users/invite", ["role": "utilizzatore", "email": uniqueEmail("altro")])
                #expect(refused.status == .forbidden)
            }
            let employee = try await portal.database.read(tenant: portal.definition.id) { try await $0.user(usernameKey: "dipendente.tim") }
            #expect(employee?.firstName == "Giulia" && employee?.lastName == "Conti")
        }
    }

    @Test("Tunda and TIM: password reset by e-mailed link; the old password stops working", arguments: TestEngine.available)
    func resetLinkElsewhere(engine: TestEngine) async throws {
        for (tenant, role, identifierIsEmail) in [("tunda", "main_account", true), ("tim", "rappresentante_legale", false)] {
            try await PortalHarness.with(engine: engine, tenant: tenant) { portal in
                let email = uniqueEmail("recupero")
                let username = identifierIsEmail ? email : "recupero.\(tenant)"
                _ = try await portal.withUser(role: role, username: username, email: email)
                try await portal.test { browser in
                    let waiting = try await browser.follow(try await browser.post("/access/password_recovery", ["step": "0", "identifier": email]))
                    #expect(waiting.body.contains("Se i dati corrispondono"))
                }
                let link = try Browser.link(in: try await portal.mail(to: email).text)
                try await portal.test { browser in
                    _ = try await browser.follow(try await browser.get(link))
                    let done = try await browser.follow(try await browser.post("/access/password_recovery", [
                        "step": "2", "password": newPassword, "password_confirmation": newPassword]))
                    #expect(done.status == .ok)
                    let old = try await browser.post("/login", ["identifier": username, "password": adminPassword])
                    #expect(old.status == .unauthorized)
                    try await browser.logIn(username, newPassword)
                }
                #expect(try await portal.mail(to: email, sentSince: 1).subject?.isEmpty == false, "a password-changed notice follows")
            }
        }
    }
}
