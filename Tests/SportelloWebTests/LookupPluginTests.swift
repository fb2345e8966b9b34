import Foundation
import Hummingbird
import HummingbirdTesting
import Testing
import SportelloApplication
import SportelloCore
@testable import SportelloStore
@testable import SportelloWeb

// Lookup plugins (issue 18 §3) against the real sandbox lookup service (scripts/lookup_service.py), each test in a scope
// of its own so the service's failure modes and request counts are the test's alone.

private func customerOf(_ portal: PortalHarness, _ username: String) async throws -> Int64 {
    try await portal.database.read(tenant: portal.definition.id) { transaction in
        let key = UsernameRules.key(for: username, caseSensitive: portal.definition.login.caseSensitive)
        return try #require(try await transaction.user(usernameKey: key)).customerId
    }
}

private func seedHosting(_ portal: PortalHarness) async throws {
    let now = Int64(portal.clock.now().timeIntervalSince1970)
    try await portal.database.write(tenant: portal.definition.id, now: now) { transaction in
        try await DemoDataGenerator(tenant: portal.definition, now: now, hasher: portal.services.passwords).seedHosting(in: transaction)
    }
}

private func token(_ client: some TestClientProtocol, _ username: String) async throws -> String {
    let login = try await JSONCall.send(client, .post, "/api/v1/session", body: ["identifier": username, "password": "Vecchia2026!"])
    return try #require(login.json["token"] as? String)
}

/// A manifest with a circuit breaker that opens after `failures` and a short request timeout.
private func tight(failures: Int = 2, cooldown: Int = 30, request: Int = 1) -> (inout PluginManifest) -> Void {
    { manifest in
        manifest.lookup?.circuitBreaker = CircuitBreakerSettings(failures: failures, cooldown: DurationSpec(cooldown, .seconds))
        manifest.timeouts = PluginTimeouts(connect: DurationSpec(2, .seconds), request: DurationSpec(request, .seconds))
    }
}

@Suite("Lookup client: the four operations, signatures, circuit breaker and timeout", .enabled(if: SandboxLookup.isAvailable))
struct LookupClientTests {
    @Test("each operation is answered by the sandbox service with typed, checked answers marked sandbox")
    func operations() async throws {
        let scope = SandboxLookup.newScope()
        let lookups = try SandboxLookup.services(scope: scope)
        let now: Int64 = 1_800_000_000
        let domains = try #require(lookups["sandbox_domains"])
        #expect(domains.isSandbox && domains.operation == .domainAvailability)
        let google = try await domains.ask(DomainAvailabilityRequest(domain: "google.it", locale: "it"), now: now)
        #expect(google.available == false && google.reason == "registered" && google.sandbox == true)
        let free = try await domains.ask(DomainAvailabilityRequest(domain: "nome-libero-\(scope).it", locale: "it"), now: now)
        #expect(free.available)

        let diagnosis = try #require(lookups["sandbox_line_diagnosis"])
        let fault = try await diagnosis.ask(LineDiagnosisRequest(line: "0612345678", customerCode: "C1", locale: "en"), now: now)
        #expect(fault.outcome == "fault" && fault.checks.contains { $0.code == "sync" && $0.outcome == "fault" })
        #expect(fault.summary?.contains("does not synchronise") == true && fault.reference?.hasPrefix("SBX-DIAG-") == true)
        let fine = try await diagnosis.ask(LineDiagnosisRequest(line: "0612345671", customerCode: nil, locale: "it"), now: now)
        #expect(fine.outcome == "ok" && fine.checks.allSatisfy { $0.outcome == "ok" })

        let options = try #require(lookups["sandbox_option_compatibility"])
        let compatibility = try await options.ask(OptionCompatibilityRequest(option: "Roaming Europa", lines: ["3331110001", "3331110008", "3331110009"],
                                                                             locale: "it"), now: now)
        #expect(compatibility.result(for: "3331110001")?.compatible == true)
        #expect(compatibility.result(for: "3331110008")?.compatible == false && compatibility.result(for: "3331110008")?.reason?.contains("Roaming") == true)
        #expect(compatibility.result(for: "3331110009")?.compatible == false)

        let crm = try #require(lookups["sandbox_crm"])
        let match = try await crm.ask(CustomerVerificationRequest(fields: ["customer_code": "sbx-100200", "tax_id": "SNDMRA80A41H501U",
                                                                           "first_name": "maria", "last_name": "SANDBOX"], locale: "it"), now: now)
        #expect(match.match && match.customer?.code == "SBX-100200" && match.customer?.lastName == "Sandbox")
        let wrong = try await crm.ask(CustomerVerificationRequest(fields: ["customer_code": "SBX-100200", "tax_id": "RSSMRA80A01H501U"], locale: "it"), now: now)
        #expect(!wrong.match && wrong.customer == nil)

        #expect(try await SandboxLookup.requests(scope) == 7, "every question reached the service")
        // A client asked a question of another operation refuses without calling.
        await #expect(throws: LookupError.self) { try await domains.ask(LineDiagnosisRequest(line: "1", customerCode: nil, locale: "it"), now: now) }
        #expect(try await SandboxLookup.requests(scope) == 7)
    }

    @Test("a question signed with another key is refused by the service: lookup_unavailable")
    func wrongSignature() async throws {
        let scope = SandboxLookup.newScope()
        let url = try #require(SandboxLookup.url)
        let manifest = try #require(SandboxPSP.catalogue()["sandbox_domains"])
        let forged = LookupClient(manifest: manifest, baseURL: "\(url)/s/\(scope)", secret: "not-the-shared-secret")
        let error = await #expect(throws: LookupError.self) {
            try await forged.ask(DomainAvailabilityRequest(domain: "rossi.it", locale: "it"), now: 0)
        }
        #expect(error?.code == .unavailable && error?.message.contains("401") == true)
        #expect(try await SandboxLookup.requests(scope) == 1)
    }

    @Test("service down: failures open the circuit, the next call does not reach the server, one trial after the cooldown closes it")
    func circuitBreaker() async throws {
        let scope = SandboxLookup.newScope()
        let client = try #require(try SandboxLookup.services(scope: scope, adjust: tight(failures: 2, cooldown: 30))["sandbox_domains"])
        let question = DomainAvailabilityRequest(domain: "rossi.it", locale: "it")
        try await SandboxLookup.control(scope, mode: "fail")
        var now: Int64 = 1_800_000_000
        for _ in 0..<2 {
            let error = await #expect(throws: LookupError.self) { try await client.ask(question, now: now) }
            #expect(error?.code == .unavailable)
        }
        #expect(try await SandboxLookup.requests(scope) == 2)
        #expect(client.breaker.current == .open(until: now + 30))
        let open = await #expect(throws: LookupError.self) { try await client.ask(question, now: now + 29) }
        #expect(open?.code == .circuitOpen)
        #expect(try await SandboxLookup.requests(scope) == 2, "an open circuit does not call the provider")
        // After the cooldown one trial goes out; it fails, so the circuit opens again for a full cooldown.
        now += 30
        let trial = await #expect(throws: LookupError.self) { try await client.ask(question, now: now) }
        #expect(trial?.code == .unavailable)
        #expect(try await SandboxLookup.requests(scope) == 3)
        #expect(client.breaker.current == .open(until: now + 30))
        // The provider is back: the next trial after the cooldown succeeds and closes the circuit.
        try await SandboxLookup.control(scope, mode: "ok")
        now += 30
        #expect(try await client.ask(question, now: now).available)
        #expect(client.breaker.current == .closed(failures: 0))
        #expect(try await client.ask(question, now: now + 1).available)
        #expect(try await SandboxLookup.requests(scope) == 5)
    }

    @Test("slow service: lookup_timeout within the manifest's request timeout")
    func timeout() async throws {
        let scope = SandboxLookup.newScope()
        let client = try #require(try SandboxLookup.services(scope: scope, adjust: tight(failures: 5, request: 1))["sandbox_line_diagnosis"])
        // The service takes 30 s; the bound leaves room for a machine loaded by the whole suite (seen: 15 s for 1 s).
        try await SandboxLookup.control(scope, mode: "slow", delay: 30)
        let started = ContinuousClock.now
        let error = await #expect(throws: LookupError.self) {
            try await client.ask(LineDiagnosisRequest(line: "0611111111", customerCode: nil, locale: "it"), now: 0)
        }
        let elapsed = ContinuousClock.now - started
        #expect(error?.code == .timeout)
        #expect(elapsed >= .milliseconds(900) && elapsed < .seconds(20), "gave up after the 1 s request timeout, not the 30 s the service takes (\(elapsed))")
        #expect(client.breaker.current == .closed(failures: 1))
    }
}

@Suite("Tunda: domain availability asks the registry through the lookup plugin", .enabled(if: SandboxLookup.isAvailable))
struct LookupDomainTests {
    @Test("taken and free names as the sandbox registry says, labelled prova/sandbox on the page and the API; a free name is ordered",
          arguments: TestEngine.available)
    func answered(engine: TestEngine) async throws {
        let scope = SandboxLookup.newScope()
        try await PortalHarness.with(engine: engine, tenant: "tunda", lookupScope: scope) { portal in
            try await seedHosting(portal)
            let main = try await portal.userForRole("main_account")
            try await portal.test { browser in
                try await browser.logIn(main)
                let google = try await browser.get("/domains?name=google.it")
                #expect(google.body.contains("google.it è già registrato") && google.body.contains("Risposta di prova (sandbox)"))
                let reserved = try await browser.get("/domains?name=reserved-nome.it")
                #expect(reserved.body.contains("è riservato"))
                let free = try await browser.get("/domains?name=www.Nuovo-\(scope).it")
                #expect(free.body.contains("nuovo-\(scope).it è libero") && free.body.contains("Risposta di prova (sandbox)"))
                let ordered = try await browser.post("/domains/register", ["name": "nuovo-\(scope).it", "years": "1"])
                #expect(ordered.location?.hasPrefix("/services/orders?done=domain_ordered") == true)
                let taken = try await browser.post("/domains/register", ["name": "amazon.it", "years": "1"])
                #expect(taken.status == .unprocessableContent && taken.body.contains("amazon.it è già registrato"))
                let api = try await JSONCall.send(browser.client, .get, "/api/v1/domains/availability?name=www.google.it", token: try await token(browser.client, main))
                #expect(api.json["available"] as? Bool == false && api.json["reason"] as? String == "taken" && api.json["sandbox"] as? Bool == true)
                #expect((api.json["sandbox_label"] as? String)?.contains("sandbox") == true)
            }
            #expect(try await SandboxLookup.requests(scope) == 6, "check ×3, order ×2, API ×1: each asked the registry")
            let customer = try await customerOf(portal, main)
            let (domains, audit) = try await portal.database.read(tenant: portal.definition.id) {
                (try await $0.domains(customerId: customer), try await $0.auditLog())
            }
            #expect(domains.map(\.name) == ["nuovo-\(scope).it"])
            #expect(audit.contains { $0.action == "domain.ordered" && $0.detail?.contains("registry=sandbox") == true })
        }
    }

    @Test("registry down: the customer is told, nothing is ordered; the circuit opens and answers at once; back after the cooldown",
          arguments: TestEngine.available)
    func down(engine: TestEngine) async throws {
        let scope = SandboxLookup.newScope()
        try await PortalHarness.with(engine: engine, tenant: "tunda", lookupScope: scope, adjust: tight(failures: 2, cooldown: 60)) { portal in
            try await seedHosting(portal)
            let main = try await portal.userForRole("main_account")
            try await SandboxLookup.control(scope, mode: "fail")
            try await portal.test { browser in
                try await browser.logIn(main)
                let check = try await browser.get("/domains?name=rossi-\(scope).it")
                #expect(check.status == .ok && check.body.contains("Il registro dei domini non risponde") && !check.body.contains("è libero: puoi"))
                let order = try await browser.post("/domains/register", ["name": "rossi-\(scope).it", "years": "1"])
                #expect(order.status == .unprocessableContent && order.body.contains("Non è stato ordinato nulla"))
                #expect(order.body.contains("value=\"rossi-\(scope).it\""), "the form keeps the name to retry")
                #expect(try await SandboxLookup.requests(scope) == 2)
                let open = try await browser.get("/domains?name=rossi-\(scope).it")
                #expect(open.body.contains("Il registro dei domini non risponde"))
                #expect(try await SandboxLookup.requests(scope) == 2, "the open circuit answered without calling the registry")
                let api = try await JSONCall.send(browser.client, .get, "/api/v1/domains/availability?name=rossi-\(scope).it", token: try await token(browser.client, main))
                #expect(api.json["available"] as? Bool == false && api.json["reason"] as? String == "registry_unavailable")
                #expect(api.json["lookup_error"] as? String == "lookup_circuit_open")
                try await SandboxLookup.control(scope, mode: "ok")
                portal.clock.advance(by: 61)
                let back = try await browser.get("/domains?name=rossi-\(scope).it")
                #expect(back.body.contains("rossi-\(scope).it è libero"))
            }
            let customer = try await customerOf(portal, main)
            let orders = try await portal.database.read(tenant: portal.definition.id) { try await $0.orders(customerId: customer) }
            #expect(orders.isEmpty, "nothing was ordered while the registry was down")
        }
    }

    @Test("no registry plugin connected: the page says the check is not active and the name cannot be ordered", arguments: TestEngine.available)
    func notConnected(engine: TestEngine) async throws {
        try await PortalHarness.with(engine: engine, tenant: "tunda") { portal in
            try await seedHosting(portal)
            let main = try await portal.userForRole("main_account")
            try await portal.test { browser in
                try await browser.logIn(main)
                let google = try await browser.get("/domains?name=google.it")
                #expect(google.body.contains("non è attiva in questo portale") && !google.body.contains("è libero: puoi"))
                #expect(try await browser.post("/domains/register", ["name": "google.it", "years": "1"]).status == .unprocessableContent)
            }
        }
    }
}

@Suite("TIM: the fixed-line diagnosis shows the line-test plugin's answer", .enabled(if: SandboxLookup.isAvailable))
struct LookupDiagnosisTests {
    private static func fixedLines(_ portal: PortalHarness, customer: Int64) async throws -> (ok: Int64, fault: Int64) {
        let serial = Int.random(in: 100_000...999_999)
        return try await portal.database.write(tenant: portal.definition.id) { transaction in
            let contract = try await transaction.insertContract(ContractRecord(customerId: customer, code: "K-\(serial)", offer: "TIM Business",
                                                                               kind: "fixed", status: .active, startsOn: "2024-01-01"))
            let ok = try await transaction.insertLine(LineRecord(customerId: customer, contractId: contract, kind: "fixed_line", identifier: "06\(serial)1"))
            let fault = try await transaction.insertLine(LineRecord(customerId: customer, contractId: contract, kind: "fixed_line", identifier: "06\(serial)8"))
            return (ok, fault)
        }
    }

    @Test("a failing network test is shown with the provider's words and a sandbox notice, and offers the fault report; the API says so",
          arguments: TestEngine.available)
    func answered(engine: TestEngine) async throws {
        let scope = SandboxLookup.newScope()
        try await PortalHarness.with(engine: engine, tenant: "tim", lookupScope: scope) { portal in
            let user = try await portal.userForRole("rappresentante_legale")
            let lines = try await Self.fixedLines(portal, customer: try await customerOf(portal, user))
            try await portal.test { browser in
                try await browser.logIn(user)
                let list = try await browser.get("/support/diagnosis")
                #expect(list.status == .ok && !list.body.contains("non è collegato"))
                let fault = try await browser.follow(try await browser.post("/support/diagnosis/lines/\(lines.fault)", [:]))
                #expect(fault.body.contains("Sincronizzazione con la centrale") && fault.body.contains("La linea non si aggancia alla centrale."))
                #expect(fault.body.contains("Test di rete di prova (sandbox)") && fault.body.contains("SBX-DIAG-"))
                #expect(fault.body.contains("Problema rilevato") && fault.body.contains("/fault-report\""), "a network fault offers the report")
                let ok = try await browser.follow(try await browser.post("/support/diagnosis/lines/\(lines.ok)", [:]))
                #expect(ok.body.contains("Nessun disturbo rilevato.") && ok.body.contains("Tono di linea presente."))
                let api = try await JSONCall.send(browser.client, .post, "/api/v1/support/diagnoses", token: try await token(browser.client, user),
                                                  body: ["line_id": lines.fault])
                #expect(api.status == .created && api.json["network"] as? String == "answered" && api.json["sandbox"] as? Bool == true)
                #expect(api.json["simulated"] as? Bool == true && (api.json["simulated_label"] as? String)?.contains("sandbox") == true)
                let checks = api.json["checks"] as? [[String: Any]] ?? []
                #expect(checks.contains { $0["id"] as? String == "network" && $0["outcome"] as? String == "fault" })
            }
            #expect(try await SandboxLookup.requests(scope) == 2, "the API's run within 30 s of the page's shows the first")
        }
    }

    @Test("line-test system down or slow: the page says so, shows the portal's own checks, and a rerun asks again", arguments: TestEngine.available)
    func down(engine: TestEngine) async throws {
        let scope = SandboxLookup.newScope()
        try await PortalHarness.with(engine: engine, tenant: "tim", lookupScope: scope, adjust: tight(failures: 5, request: 1)) { portal in
            let user = try await portal.userForRole("rappresentante_legale")
            let lines = try await Self.fixedLines(portal, customer: try await customerOf(portal, user))
            try await SandboxLookup.control(scope, mode: "fail")
            try await portal.test { browser in
                try await browser.logIn(user)
                let down = try await browser.follow(try await browser.post("/support/diagnosis/lines/\(lines.fault)", [:]))
                #expect(down.status == .ok && down.body.contains("Il sistema di test della linea non risponde"))
                #expect(down.body.contains("Stato della linea"), "the portal's own checks are still shown")
                try await SandboxLookup.control(scope, mode: "slow", delay: 40)
                let started = ContinuousClock.now
                let slow = try await browser.follow(try await browser.post("/support/diagnosis/lines/\(lines.fault)", [:]))
                #expect(ContinuousClock.now - started < .seconds(25), "the page gave up after the 1 s timeout, not the 40 s the service takes")
                #expect(slow.body.contains("Il sistema di test della linea non risponde"))
                try await SandboxLookup.control(scope, mode: "ok")
                let back = try await browser.follow(try await browser.post("/support/diagnosis/lines/\(lines.fault)", [:]))
                #expect(back.body.contains("La linea non si aggancia alla centrale."), "a rerun asked again at once")
            }
            let customer = try await customerOf(portal, user)
            let history = try await portal.database.read(tenant: portal.definition.id) { try await $0.lineDiagnoses(customerId: customer) }
            #expect(history.count == 3)
        }
    }
}

@Suite("WINDTRE: option activation checks compatibility on every chosen line first", .enabled(if: SandboxLookup.isAvailable))
struct LookupOptionTests {
    @Test("an incompatible line refuses the request with every line's result; compatible lines go through with the results in the history",
          arguments: TestEngine.available)
    func compatibility(engine: TestEngine) async throws {
        let scope = SandboxLookup.newScope()
        try await PortalHarness.with(engine: engine, tenant: "windtre", lookupScope: scope) { portal in
            let user = try await portal.userForRole("user_admin")
            try await portal.test { browser in
                try await browser.logIn(user)
                let refused = try await browser.post("/requests/new/options_activation", ["lines": "3331110001, 3331110009", "option": "Giga Extra"])
                #expect(refused.status == .unprocessableContent)
                #expect(refused.body.contains("3331110001: compatibile") && refused.body.contains("3331110009: non compatibile"))
                #expect(refused.body.contains("verifica di prova, sandbox") && refused.body.contains("La richiesta non è stata inviata"))
                let accepted = try await browser.post("/requests/new/options_activation", ["lines": "3331110001\n3331110002", "option": "Giga Extra"])
                #expect(accepted.status == .seeOther)
                let shown = try await browser.follow(accepted)
                #expect(shown.body.contains("3331110002: compatibile") && shown.body.contains("sandbox"))
            }
            let customer = try await customerOf(portal, user)
            let requests = try await portal.database.read(tenant: portal.definition.id) { try await $0.requests(customerId: customer) }
            #expect(requests.count == 1 && requests.first?.form == "options_activation")
            #expect(try await SandboxLookup.requests(scope) == 2)
        }
    }

    @Test("compatibility system down: the request is not sent and the form says why; deactivation never asks", arguments: TestEngine.available)
    func down(engine: TestEngine) async throws {
        let scope = SandboxLookup.newScope()
        try await PortalHarness.with(engine: engine, tenant: "windtre", lookupScope: scope) { portal in
            let user = try await portal.userForRole("user_admin")
            try await SandboxLookup.control(scope, mode: "fail")
            try await portal.test { browser in
                try await browser.logIn(user)
                let down = try await browser.post("/requests/new/options_activation", ["lines": "3331110001", "option": "Giga Extra"])
                #expect(down.status == .unprocessableContent && down.body.contains("il sistema non risponde"))
                #expect(down.body.contains("Giga Extra"), "the form keeps what was typed")
                let off = try await browser.post("/requests/new/options_deactivation", ["lines": "3331110009", "option": "Giga Extra"])
                #expect(off.status == .seeOther, "deactivation is not bound to the compatibility check")
            }
            #expect(try await SandboxLookup.requests(scope) == 1)
            let customer = try await customerOf(portal, user)
            let requests = try await portal.database.read(tenant: portal.definition.id) { try await $0.requests(customerId: customer) }
            #expect(requests.map(\.form) == ["options_deactivation"])
        }
    }
}

@Suite("Unogas: registration verifies the customer against the provider's CRM when the flow is bound to it", .enabled(if: SandboxLookup.isAvailable))
struct LookupCRMRegistrationTests {
    /// unogas.yaml with the CRM bound to its registration flow, as its comment shows, loaded and checked like any tenant.
    static func unogasWithCRM() throws -> TenantDefinition {
        let text = try String(contentsOf: repositoryRoot.appendingPathComponent("tenants/unogas.yaml"), encoding: .utf8)
            .replacingOccurrences(of: "\ntests:\n", with: "\nplugins:\n  sandbox_crm: {flows: [registration]}\n\ntests:\n")
        let result = TenantLoader(capabilities: .portal, plugins: SandboxPSP.catalogue()).load(sources: [(file: "tenants/unogas.yaml", text: text)])
        try #require(!result.diagnostics.contains { $0.severity == .error }, "\(result.diagnostics)")
        return try #require(result.tenants.first?.definition)
    }

    @Test("the CRM's customer is verified (sandbox notice on the form), its record created once; a mismatch is neutral; CRM down says so and saves nothing",
          arguments: TestEngine.available)
    func registration(engine: TestEngine) async throws {
        let scope = SandboxLookup.newScope()
        let lookups = try SandboxLookup.services(scope: scope)
        let portal = try await PortalHarness(engine: engine, tenant: "unogas", definition: try Self.unogasWithCRM(), lookups: lookups)
        do {
            // A local record with the same data is not what verifies: only the CRM's word counts.
            _ = try await portal.withCustomer(CustomerRecord(customerType: "person", customerCode: "GAS-7777", firstName: "Mario", lastName: "Rossi",
                                                             taxCode: "RSSMRA80A01H501U", email: uniqueEmail("locale"), createdAt: 0))
            try await portal.test { browser in
                let form = try await browser.get("/access/registration")
                #expect(form.status == .ok && form.body.contains("Verifica di prova (sandbox)"))
                let local = try await browser.post("/access/registration", ["step": "0", "customer_code": "GAS-7777", "first_name": "Mario",
                                                                           "last_name": "Rossi", "tax_id": "RSSMRA80A01H501U"])
                #expect(local.status == .unprocessableContent && local.body.contains("non corrispondono a un cliente"))
                try await SandboxLookup.control(scope, mode: "fail")
                let down = try await browser.post("/access/registration", ["step": "0", "customer_code": "SBX-100200", "first_name": "Maria",
                                                                          "last_name": "Sandbox", "tax_id": "SNDMRA80A41H501U"])
                #expect(down.status == .serviceUnavailable && down.body.contains("il sistema non risponde"))
                try await SandboxLookup.control(scope, mode: "ok")
                let verified = try await browser.follow(try await browser.post("/access/registration", [
                    "step": "0", "customer_code": "sbx-100200", "first_name": "MARIA", "last_name": "Sandbox", "tax_id": "sndmra80a41h501u"]))
                #expect(verified.body.contains(ContactMasking.email("maria.sandbox@example.com")), "the activation goes to the CRM's address")
            }
            #expect(try await SandboxLookup.requests(scope) == 3)
            let (customer, audit) = try await portal.database.read(tenant: portal.definition.id) {
                (try await $0.customer(code: "SBX-100200"), try await $0.auditLog())
            }
            #expect(customer?.lastName == "Sandbox" && customer?.email == "maria.sandbox@example.com" && customer?.customerType == "person")
            #expect(audit.filter { $0.action == "customer.created_from_crm" }.count == 1 && audit.contains { $0.detail?.contains("(sandbox)") == true })
        } catch {
            await portal.close()
            throw error
        }
        await portal.close()
    }
}
