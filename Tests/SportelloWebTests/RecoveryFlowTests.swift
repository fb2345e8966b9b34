import Foundation
import HTTPTypes
import Testing
import SportelloCore
@testable import SportelloStore
@testable import SportelloWeb

extension PortalHarness {
    /// A customer with one user of `role`, password `Vecchia2026!`.
    func withUser(role: String, username: String, email: String, question: String? = nil, answer: String? = nil) async throws -> Int64 {
        let hash = try await services.passwords.hash("Vecchia2026!")
        let answerHash = try await answer.asyncMap { try await services.passwords.hash(SecurityAnswer.normalise($0)) }
        let key = UsernameRules.key(for: username, caseSensitive: definition.login.caseSensitive)
        let type = definition.customerTypes.first { $0.value.kind == .business }?.key ?? definition.customerTypes.keys.first ?? ""
        return try await database.write(tenant: definition.id, now: Int64(clock.now().timeIntervalSince1970)) { transaction in
            let customerId = try await transaction.insertCustomer(CustomerRecord(customerType: type, customerCode: "C-\(username)",
                                                                                 companyName: "Cliente \(username)", createdAt: 0))
            return try await transaction.insertUser(UserRecord(customerId: customerId, username: username, usernameKey: key, email: email,
                                                               passwordHash: hash, role: role, securityQuestion: question,
                                                               securityAnswerHash: answerHash, createdAt: 0))
        }
    }
}

@Suite("Recovery flows over HTTP with real e-mail", .enabled(if: MailSink.isAvailable))
struct RecoveryFlowTests {
    @Test("Unidata: the reset link sets a new password and logs in; unknown accounts get the same page", arguments: TestEngine.available)
    func unidataResetLink(engine: TestEngine) async throws {
        try await PortalHarness.with(engine: engine, tenant: "unidata") { portal in
        let email = uniqueEmail("reset")
        _ = try await portal.withUser(role: "referente_amministratore", username: "reset.me", email: email)
        try await portal.test { browser in
            let known = try await browser.follow(try await browser.post("/access/password_recovery", ["step": "0", "identifier": "reset.me"]))
            let other = Browser(client: browser.client)
            let unknown = try await other.follow(try await other.post("/access/password_recovery", ["step": "0", "identifier": "nobody.here"]))
            #expect(known.status == unknown.status)
            #expect(RegistrationFlowTests.formError(known.body) == RegistrationFlowTests.formError(unknown.body))
            #expect(known.body.contains("Se i dati corrispondono") && unknown.body.contains("Se i dati corrispondono"))
        }
        let link = try Browser.link(in: try await portal.mail(to: email).text)
        try await portal.test { browser in
            let form = try await browser.follow(try await browser.get(link))
            #expect(form.body.contains("name=\"password\""))
            let reused = try await browser.post("/access/password_recovery", ["step": "2", "password": "Vecchia2026!", "password_confirmation": "Vecchia2026!"])
            #expect(reused.status == .unprocessableContent, "the password history forbids the previous password")
            let home = try await browser.post("/access/password_recovery", ["step": "2", "password": "Nuova#Password9", "password_confirmation": "Nuova#Password9"])
            #expect(home.location == "/", "automatic login after the reset")
            #expect(try await browser.get("/").status == .ok)
        }
        let audit = try await portal.database.read(tenant: portal.definition.id) { try await $0.auditLog() }
        #expect(audit.contains { $0.action == "recovery.password_reset" })
        }
    }

    @Test("Unidata: a reset link older than its 24 hours says it expired and changes nothing", arguments: TestEngine.available)
    func expiredResetLink(engine: TestEngine) async throws {
        try await PortalHarness.with(engine: engine, tenant: "unidata") { portal in
            let email = uniqueEmail("scaduto")
            _ = try await portal.withUser(role: "referente_amministratore", username: "late.reader", email: email)
            try await portal.test { browser in
                _ = try await browser.post("/access/password_recovery", ["step": "0", "identifier": email])
            }
            let link = try Browser.link(in: try await portal.mail(to: email).text)
            portal.clock.advance(by: 24 * 3_600 + 1)
            try await portal.test { browser in
                let expired = try await browser.get(link)
                #expect(expired.status == .gone)
                #expect(expired.body.contains("scadut"))
                try await browser.logIn("late.reader", "Vecchia2026!")
            }
        }
    }

    @Test("Unidata: forgot username e-mails it to the address", arguments: TestEngine.available)
    func forgotUsername(engine: TestEngine) async throws {
        try await PortalHarness.with(engine: engine, tenant: "unidata") { portal in
        let email = uniqueEmail("smemorato")
        _ = try await portal.withUser(role: "referente_amministratore", username: "smemorato.1", email: email)
        try await portal.test { browser in
            _ = try await browser.post("/access/forgot_username", ["step": "0", "identifier": email])
        }
        #expect(try await portal.mail(to: email).text?.contains("smemorato.1") == true)
        }
    }

    @Test("WINDTRE: control code, temporary numeric password, forced change at the next login; Telco Managers are barred",
          arguments: TestEngine.available)
    func windtreControlCode(engine: TestEngine) async throws {
        try await PortalHarness.with(engine: engine, tenant: "windtre") { portal in
        let email = uniqueEmail("admin")
        let managerEmail = uniqueEmail("manager")
        _ = try await portal.withUser(role: "user_admin", username: "AdminW3", email: email)
        _ = try await portal.withUser(role: "telco_manager", username: "ManagerW3", email: managerEmail)
        try await portal.test { browser in
            let codePage = try await browser.follow(try await browser.post("/access/password_recovery", ["step": "0", "identifier": "AdminW3"]))
            #expect(codePage.body.contains("name=\"code\""))
            let code = try Browser.digits(6, in: try await portal.mail(to: email).text)
            let wrong = try await browser.post("/access/password_recovery", ["step": "1", "code": code == "000000" ? "111111" : "000000"])
            #expect(wrong.status == .unprocessableContent)
            let done = try await browser.follow(try await browser.post("/access/password_recovery", ["step": "1", "code": code]))
            #expect(done.body.contains("password temporanea"))
            let temporaryMail = try await portal.mail(to: email, sentSince: 1)
            let temporary = try Browser.digits(8, in: temporaryMail.text)
            #expect(temporaryMail.text?.contains("AdminW3") == true, "the e-mail repeats the username")
            let login = try await browser.post("/login", ["identifier": "AdminW3", "password": temporary])
            #expect(login.location == "/password/change")
            #expect(try await browser.get("/").location == "/password/change", "nothing else opens before the change")
            let numeric = try await browser.post("/password/change", ["current_password": temporary, "password": "12345678901",
                                                                     "password_confirmation": "12345678901"])
            #expect(numeric.status == .unprocessableContent, "the new password must be alphanumeric")
            let changed = try await browser.post("/password/change", ["current_password": temporary, "password": "Alfa2026num",
                                                                     "password_confirmation": "Alfa2026num"])
            #expect(changed.location == "/")
            let home = try await browser.get("/")
            #expect(home.status == .ok)
        }
        // Telco Manager: the same neutral page; the reason arrives by e-mail, no code.
        try await portal.test { browser in
            let page = try await browser.follow(try await browser.post("/access/password_recovery", ["step": "0", "identifier": "ManagerW3"]))
            #expect(page.body.contains("name=\"code\""))
        }
        let barred = try await portal.mail(to: managerEmail)
        #expect(barred.text?.contains("User Admin") == true)
        #expect(Browser.firstDigits(6, in: barred.text) == nil, "no control code is sent to a barred role")
        }
    }

    @Test("Unogas: recovery by security question; unknown e-mails see a question too; three wrong answers stop it",
          arguments: TestEngine.available)
    func unogasSecurityAnswer(engine: TestEngine) async throws {
        try await PortalHarness.with(engine: engine, tenant: "unogas") { portal in
        // Not "gas": the e-mail's local part is personal data, and the new password below contains "Gas".
        let email = uniqueEmail("cliente")
        _ = try await portal.withUser(role: "cliente", username: email, email: email, question: "Colore della prima auto?", answer: "Rosso")
        try await portal.test { browser in
            let question = try await browser.follow(try await browser.post("/access/password_recovery", ["step": "0", "identifier": email]))
            #expect(question.body.contains("Colore della prima auto?"))
            let wrong = try await browser.post("/access/password_recovery", ["step": "1", "security_answer": "blu"])
            #expect(wrong.status == .unprocessableContent)
            let right = try await browser.follow(try await browser.post("/access/password_recovery", ["step": "1", "security_answer": "  ROSSO "]))
            #expect(right.body.contains("name=\"password\""))
            let saved = try await browser.post("/access/password_recovery", ["step": "2", "password": "GasNuova2026", "password_confirmation": "GasNuova2026"])
            #expect(saved.status == .seeOther, "the new password is accepted")
            let login = try await browser.post("/login", ["identifier": email, "password": "GasNuova2026"])
            #expect(login.location == "/")
        }
        try await portal.test { browser in
            let decoy = try await browser.follow(try await browser.post("/access/password_recovery", ["step": "0", "identifier": uniqueEmail("nessuno")]))
            #expect(decoy.body.contains("class=\"question\""), "a missing account also gets a question")
            for _ in 0..<2 { _ = try await browser.post("/access/password_recovery", ["step": "1", "security_answer": "x"]) }
            let stopped = try await browser.post("/access/password_recovery", ["step": "1", "security_answer": "x"])
            #expect(stopped.status == .tooManyRequests)
        }
        // Three wrong answers for a real account, then a fresh browser: starting over does not give more tries.
        try await portal.test { browser in
            _ = try await browser.post("/access/password_recovery", ["step": "0", "identifier": email])
            for _ in 0..<3 { _ = try await browser.post("/access/password_recovery", ["step": "1", "security_answer": "verde"]) }
        }
        try await portal.test { browser in
            _ = try await browser.post("/access/password_recovery", ["step": "0", "identifier": email])
            let refused = try await browser.post("/access/password_recovery", ["step": "1", "security_answer": "Rosso"])
            #expect(refused.status == .tooManyRequests, "even the right answer is refused until the hour has passed")
        }
        }
    }

    /// Per tenant: the role that may recover its password and whether its recovery identifies by e-mail.
    static let recoveringRoles: [String: (role: String, byEmail: Bool)] = [
        "unidata": ("referente_amministratore", true), "unogas": ("cliente", true), "tunda": ("main_account", true),
        "windtre": ("user_admin", false), "tim": ("rappresentante_legale", true),
    ]

    /// The page without what differs on every request anyway (the CSRF token) and, on Unogas, the question shown.
    static func comparable(_ body: String) -> String {
        var text = body.replacingOccurrences(of: #"name="_csrf" value="[^"]*""#, with: "", options: .regularExpression)
        for question in SecurityQuestions.italian + SecurityQuestions.english {
            text = text.replacingOccurrences(of: question.replacingOccurrences(of: "'", with: "&#39;"), with: "QUESTION")
        }
        return text
    }

    /// Timing runs alone (scripts/test runs it after the parallel suites, with SPORTELLO_TIMING_TESTS=1): on a
    /// machine busy with other suites the medians measure the load, not the portal.
    @Test("Recovery: an existing and an unknown identifier get the same page and the same time (medians of interleaved samples)",
          .enabled(if: ProcessInfo.processInfo.environment["SPORTELLO_TIMING_TESTS"] == "1"),
          arguments: ["unidata", "unogas", "tunda", "windtre", "tim"])
    func existingAndUnknownAreIndistinguishable(tenant: String) async throws {
        try await PortalHarness.with(engine: .sqlite, tenant: tenant) { portal in
            let (role, byEmail) = try #require(Self.recoveringRoles[tenant])
            let email = uniqueEmail("tempi")
            let username = byEmail && portal.definition.login.identifiers == [.email] ? email : "tempi.\(UUID().uuidString.prefix(6).lowercased())"
            _ = try await portal.withUser(role: role, username: username, email: email,
                                          question: SecurityQuestions.italian[2], answer: "Carbonara")
            let existing = byEmail ? email : username
            let samples = RecoverySamples()
            let rounds = 12
            try await portal.test { browser in
                for round in 0..<rounds {
                    portal.clock.advance(by: 61)   // a new throttle window: the samples measure the work, not the limit
                    // Interleaved, alternating which goes first, so load on the machine falls on both alike.
                    for known in round.isMultiple(of: 2) ? [true, false] : [false, true] {
                        let visitor = Browser(client: browser.client)
                        _ = try await visitor.get("/access/password_recovery")
                        let identifier = known ? existing : (byEmail ? uniqueEmail("nessuno") : "nessuno.\(UUID().uuidString.prefix(6).lowercased())")
                        let start = ContinuousClock.now
                        let answer = try await visitor.post("/access/password_recovery", ["step": "0", "identifier": identifier])
                        let elapsed = ContinuousClock.now - start
                        let page = try await visitor.follow(answer)
                        samples.add(known: known, elapsed: elapsed, status: answer.status, page: Self.comparable(page.body))
                    }
                }
            }
            #expect(samples.statuses(known: true) == samples.statuses(known: false))
            #expect(samples.pages(known: true) == samples.pages(known: false), "the same page for an account and for no account")
            let known = samples.median(known: true), unknown = samples.median(known: false)
            let gap = abs(known - unknown)
            print("recovery timing \(tenant): existing median \(known) ms, unknown median \(unknown) ms, gap \(gap) ms")
            #expect(gap <= max(3, 0.05 * min(known, unknown)), "medians \(known) ms and \(unknown) ms are separable")
        }
    }

    @Test("Recovery mail is capped per account: the sixth request in an hour sends nothing and answers the same; a re-send past the cap is a 429 for every identifier",
          arguments: TestEngine.available)
    func recoveryMailCapped(engine: TestEngine) async throws {
        try await PortalHarness.with(engine: engine, tenant: "tunda") { portal in
            let email = uniqueEmail("bombardata")
            _ = try await portal.withUser(role: "main_account", username: email, email: email)
            for round in 0..<6 {
                portal.clock.advance(by: 1)
                try await portal.test { browser in
                    let page = try await browser.follow(try await browser.post("/access/password_recovery", ["step": "0", "identifier": email]))
                    #expect(page.body.contains("Se i dati corrispondono"), "round \(round): the same page")
                }
            }
            let outbox = try await portal.database.read(tenant: portal.definition.id) { try await $0.outbox() }
            #expect(outbox.filter { $0.recipient == email && $0.kind == "password_reset" }.count == Int(FlowSteps.flowMailsPerHour))
            let audit = try await portal.database.read(tenant: portal.definition.id) { try await $0.auditLog() }
            #expect(audit.contains { $0.action == "recovery.mail_capped" })
            for identifier in [email, uniqueEmail("nessuno")] {
                try await portal.test { browser in
                    _ = try await browser.post("/access/password_recovery", ["step": "0", "identifier": identifier])
                    var last = Browser.Page(status: .ok, location: nil, body: "")
                    for _ in 0..<Int(FlowSteps.flowMailsPerHour) + 1 {
                        last = try await browser.post("/access/password_recovery", ["step": "1", "resend": "1"])
                    }
                    #expect(last.status == .tooManyRequests, "re-sending past the cap says to wait, for an account and for no account alike")
                    #expect(last.body.contains("potrai riprovare tra"))
                }
            }
        }
    }
}

/// Timings and pages of the recovery samples, collected inside one `portal.test` block.
final class RecoverySamples: @unchecked Sendable {  // filled and read by one test task at a time
    private var elapsed: [Bool: [Double]] = [:]
    private var statusSets: [Bool: Set<Int>] = [:]
    private var pageSets: [Bool: Set<String>] = [:]

    func add(known: Bool, elapsed duration: Duration, status: HTTPResponse.Status, page: String) {
        let milliseconds = Double(duration.components.seconds) * 1_000 + Double(duration.components.attoseconds) / 1e15
        elapsed[known, default: []].append(milliseconds)
        statusSets[known, default: []].insert(status.code)
        pageSets[known, default: []].insert(page)
    }

    func median(known: Bool) -> Double {
        let sorted = (elapsed[known] ?? []).sorted()
        guard !sorted.isEmpty else { return 0 }
        return sorted.count.isMultiple(of: 2) ? (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2 : sorted[sorted.count / 2]
    }

    func statuses(known: Bool) -> Set<Int> { statusSets[known] ?? [] }
    func pages(known: Bool) -> Set<String> { pageSets[known] ?? [] }
}
