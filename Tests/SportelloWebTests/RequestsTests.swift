import Foundation
import Hummingbird
import HummingbirdTesting
import Testing
import SportelloApplication
import SportelloCore
@testable import SportelloStore
@testable import SportelloWeb

// MARK: Helpers (file-private)

private let requestsPassword = "Vecchia2026!"

extension PortalHarness {
    /// A customer and one user of `role` in it; returns (customer id, user id, username).
    fileprivate func requestsAccount(role: String, toggles: [String] = [], customerType: String? = nil) async throws -> (customer: Int64, user: Int64, username: String) {
        let typeId = customerType ?? definition.roles[role]?.customerTypes?.first
            ?? definition.customerTypes.first { $0.value.kind == .business }?.key ?? definition.customerTypes.keys.first ?? ""
        let local = "r.\(UUID().uuidString.prefix(8).lowercased())"
        let username = definition.login.identifiers == [.email] ? "\(local)@example.it" : local
        let hash = try await services.passwords.hash(requestsPassword)
        let key = UsernameRules.key(for: username, caseSensitive: definition.login.caseSensitive)
        return try await database.write(tenant: definition.id, now: Int64(clock.now().timeIntervalSince1970)) { transaction in
            let customer = try await transaction.insertCustomer(CustomerRecord(customerType: typeId, customerCode: "R-\(local)",
                                                                               companyName: "Richieste \(local) Srl", createdAt: 0))
            let user = try await transaction.insertUser(UserRecord(customerId: customer, username: username, usernameKey: key,
                                                                   email: "\(local)@example.it", passwordHash: hash, role: role,
                                                                   toggles: toggles, createdAt: 0))
            return (customer, user, username)
        }
    }

    /// Another user of an existing customer.
    fileprivate func requestsColleague(customer: Int64, role: String, toggles: [String] = []) async throws -> String {
        let local = "c.\(UUID().uuidString.prefix(8).lowercased())"
        let username = definition.login.identifiers == [.email] ? "\(local)@example.it" : local
        let hash = try await services.passwords.hash(requestsPassword)
        let key = UsernameRules.key(for: username, caseSensitive: definition.login.caseSensitive)
        _ = try await database.write(tenant: definition.id, now: Int64(clock.now().timeIntervalSince1970)) { transaction in
            try await transaction.insertUser(UserRecord(customerId: customer, username: username, usernameKey: key, email: "\(local)@example.it",
                                                        passwordHash: hash, role: role, toggles: toggles, createdAt: 0))
        }
        return username
    }

    fileprivate func requestsOf(_ customer: Int64) async throws -> [RequestRecord] {
        try await database.read(tenant: definition.id) { try await $0.requests(customerId: customer) }
    }

    fileprivate func requestsSetStatus(_ id: Int64, _ status: String, note: String? = nil) async throws {
        try await database.write(tenant: definition.id, now: Int64(clock.now().timeIntervalSince1970)) {
            try await $0.changeRequestStatus(id: id, to: status, note: note)
        }
    }
}

extension Browser {
    /// Posts a `multipart/form-data` form with files, as a browser does for forms with attachments.
    fileprivate func requestsMultipart(_ path: String, _ fields: [(String, String)], files: [(name: String, fileName: String, type: String, data: Data)]) async throws -> Page {
        if cookies["sportello_csrf"] == nil { _ = try await get("/login") }
        let boundary = "----sportello\(UUID().uuidString)"
        var body = Data()
        func add(_ text: String) { body.append(Data(text.utf8)) }
        for (name, value) in [("_csrf", cookies["sportello_csrf"] ?? "")] + fields {
            add("--\(boundary)\r\nContent-Disposition: form-data; name=\"\(name)\"\r\n\r\n\(value)\r\n")
        }
        for file in files {
            add("--\(boundary)\r\nContent-Disposition: form-data; name=\"\(file.name)\"; filename=\"\(file.fileName)\"\r\nContent-Type: \(file.type)\r\n\r\n")
            body.append(file.data)
            add("\r\n")
        }
        add("--\(boundary)--\r\n")
        var headers = HTTPFields()
        headers[.cookie] = cookies.map { "\($0.key)=\($0.value)" }.joined(separator: "; ")
        headers[.contentType] = "multipart/form-data; boundary=\(boundary)"
        let response = try await client.execute(uri: path, method: .post, headers: headers, body: ByteBuffer(bytes: body))
        return Page(status: response.status, location: response.headers[.location], body: String(buffer: response.body))
    }

    fileprivate func requestsRaw(_ path: String) async throws -> (status: HTTPResponse.Status, headers: HTTPFields, body: Data) {
        var headers = HTTPFields()
        headers[.cookie] = cookies.map { "\($0.key)=\($0.value)" }.joined(separator: "; ")
        let response = try await client.execute(uri: path, method: .get, headers: headers, body: nil)
        return (response.status, response.headers, Data(buffer: response.body))
    }

    fileprivate func requestsJSON(_ method: HTTPRequest.Method, _ path: String, token: String?, body: [String: Any]? = nil) async throws -> (status: HTTPResponse.Status, json: [String: Any]) {
        var headers = HTTPFields()
        if let token { headers[.authorization] = "Bearer \(token)" }
        var buffer: ByteBuffer?
        if let body {
            headers[.contentType] = "application/json"
            buffer = ByteBuffer(bytes: try JSONSerialization.data(withJSONObject: body))
        }
        let response = try await client.execute(uri: path, method: method, headers: headers, body: buffer)
        return (response.status, (try? JSONSerialization.jsonObject(with: Data(buffer: response.body))) as? [String: Any] ?? [:])
    }

    fileprivate func requestsToken(_ username: String) async throws -> String {
        let answer = try await requestsJSON(.post, "/api/v1/session", token: nil, body: ["identifier": username, "password": requestsPassword])
        return try #require(answer.json["token"] as? String)
    }
}

/// A value set inside one `portal.test` block and read in the next.
private final class RequestsBox: @unchecked Sendable { var id: Int64 = 0 }

private func errorFields(_ json: [String: Any]) -> [String: String] {
    let fields = (json["error"] as? [String: Any])?["fields"] as? [[String: Any]] ?? []
    return Dictionary(fields.compactMap { entry in (entry["field"] as? String).map { ($0, entry["code"] as? String ?? "") } }, uniquingKeysWith: { a, _ in a })
}

private func requestId(from location: String?) -> Int64? {
    guard let location, location.hasPrefix("/requests/") else { return nil }
    return Int64(location.dropFirst("/requests/".count).prefix { $0.isNumber })
}

/// A tiny valid-looking file of each kind (the signatures the portal checks).
private let pdf = Data("%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n".utf8)
private let png = Data([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) + Data(repeating: 7, count: 64)
private let jpg = Data([0xFF, 0xD8, 0xFF, 0xE0]) + Data(repeating: 1, count: 64)
private let validIMEI = "490154203237518"

private let ticketFields: [String: String] = [
    "topic": "Errata tariffazione", "domain": "Mobile", "invoice": "FT-2026-0001", "notes": "Addebito doppio a ottobre",
    "site": "Via Roma 1, 20121 Milano", "referent_name": "Mario Rossi", "referent_email": "mario.rossi@example.it",
    "requester_name": "Anna Bianchi", "notify": "email",
]

private let simFields: [String: String] = [
    "service": "Voce", "reason": "Furto", "line": "3331234567", "delivery_site": "Via Roma 1, Milano",
    "referent_name": "Mario Rossi", "referent_phone": "3339876543", "notify": "sms",
]

@Suite("Requests and tickets from the tenants' YAML forms")
struct RequestsTests {
    @Test("WINDTRE: one open ticket at a time — the second is refused with a link to the open one, allowed again once it is closed",
          arguments: TestEngine.available)
    func oneOpenRequest(engine: TestEngine) async throws {
        try await PortalHarness.with(engine: engine, tenant: "windtre") { portal in
            let account = try await portal.requestsAccount(role: "user_admin")
            try await portal.test { browser in
                try await browser.logIn(account.username)
                let list = try await browser.get("/requests")
                #expect(list.status == .ok)
                #expect(list.body.contains("/requests/new/administrative_commercial") && list.body.contains("/requests/new/imei_block"))
                let first = try await browser.post("/requests/new/administrative_commercial", ticketFields)
                #expect(first.status == .seeOther)
                let id = try #require(requestId(from: first.location))
                // Pages and mail name the provider's own request number (per tenant), not the row id.
                let number = try #require(try await portal.requestsOf(account.customer).first { $0.id == id }?.displayNumber)
                let created = try await browser.get(first.location!)
                #expect(created.body.contains("Richiesta n. \(number) inserita"))

                let form = try await browser.get("/requests/new/sim_replacement")
                #expect(form.status == .ok)
                #expect(form.body.contains("Hai già una richiesta aperta") && form.body.contains("href=\"/requests/\(id)\""))
                #expect(!form.body.contains("name=\"service\""), "no form while another ticket is open")
                let second = try await browser.post("/requests/new/sim_replacement", simFields)
                #expect(second.status == .conflict)
                #expect(second.body.contains("la n. \(number)") && second.body.contains("href=\"/requests/\(id)\""))
                let listed = try await browser.get("/requests")
                #expect(listed.body.contains("Hai già una richiesta aperta"), "the list says why the ticket forms are closed")

                // Another group keeps its own limit.
                let option = try await browser.post("/requests/new/options_activation", ["lines": "3331234567", "option": "Giga Extra"])
                #expect(option.status == .seeOther, "option requests are a separate group")
            }
            let stored = try await portal.requestsOf(account.customer)
            #expect(stored.count == 2)
            let ticket = try #require(stored.first { $0.form == "administrative_commercial" })
            // Notified by e-mail as chosen: the referent named in the form gets the confirmation, in the tenant's language.
            let outbox = try await portal.database.read(tenant: portal.definition.id) { try await $0.outbox() }
            let received = outbox.filter { $0.kind == "request_received" }
            #expect(received.count == 1, "one confirmation: the option request notifies nobody by e-mail")
            let confirmation = try #require(received.first)
            #expect(confirmation.recipient == "mario.rossi@example.it")
            #expect(confirmation.subject.contains("Richiesta n. \(ticket.displayNumber) ricevuta"))
            #expect(confirmation.bodyText.contains("/requests/\(ticket.id!)") && confirmation.bodyText.contains("Errata tariffazione"))
            #expect(ticket.status == "assigned", "the first step of the form's lifecycle")
            #expect(ticket.formGroup == "tickets")
            try await portal.requestsSetStatus(ticket.id!, "in_progress")
            try await portal.test { browser in
                try await browser.logIn(account.username)
                #expect(try await browser.post("/requests/new/sim_replacement", simFields).status == .conflict, "in progress is still open")
            }
            try await portal.requestsSetStatus(ticket.id!, "closed")
            try await portal.test { browser in
                try await browser.logIn(account.username)
                let third = try await browser.post("/requests/new/sim_replacement", simFields)
                #expect(third.status == .seeOther, "a new ticket once the open one is closed")
            }
            #expect(try await portal.requestsOf(account.customer).count == 3)
        }
    }

    @Test("WINDTRE: notes of at most 300 characters — the error sits next to the field and nothing typed is lost",
          arguments: TestEngine.available)
    func notesLimit(engine: TestEngine) async throws {
        try await PortalHarness.with(engine: engine, tenant: "windtre") { portal in
            let account = try await portal.requestsAccount(role: "telco_manager")
            try await portal.test { browser in
                try await browser.logIn(account.username)
                let form = try await browser.get("/requests/new/sim_replacement")
                #expect(form.body.contains("maxlength=\"300\"") && form.body.contains("Massimo 300 caratteri."))
                var fields = simFields
                fields["notes"] = String(repeating: "a", count: 301)
                fields["referent_name"] = "Giuseppe Verdi"
                let refused = try await browser.post("/requests/new/sim_replacement", fields)
                #expect(refused.status == .unprocessableContent)
                #expect(refused.body.contains("id=\"f-notes-error\""))
                #expect(refused.body.contains("supera i 300 caratteri consentiti (ne hai scritti 301)"))
                #expect(refused.body.contains("aria-describedby=\"f-notes-hint f-notes-error\""))
                #expect(refused.body.contains("value=\"Giuseppe Verdi\""), "what was typed is shown again")
                #expect(refused.body.contains(String(repeating: "a", count: 301)), "the notes too")
                #expect(!refused.body.contains("id=\"f-service-error\""), "only the wrong field is marked")
                fields["notes"] = String(repeating: "b", count: 150) + "\r\n" + String(repeating: "c", count: 149)
                let accepted = try await browser.post("/requests/new/sim_replacement", fields)
                #expect(accepted.status == .seeOther, "300 characters with a line break are accepted")
                let english = try await browser.get("/requests/new/sim_replacement?lang=en")
                #expect(english.body.contains("You already have an open request"), "the same rule in English")
            }
            let stored = try #require(try await portal.requestsOf(account.customer).first)
            let payload = try #require(try JSONSerialization.jsonObject(with: Data(stored.payload.utf8)) as? [String: Any])
            let fields = try #require(payload["fields"] as? [String: Any])
            #expect((fields["notes"] as? String)?.count == 300)
            #expect((fields["referent"] as? [String: String])?["phone"] == "3339876543")
            #expect(payload["notify"] as? String == "sms")
        }
    }

    @Test("WINDTRE: every problem of a form at once (required fields, choices, IMEI, SMS without a mobile)",
          arguments: TestEngine.available)
    func everyProblemAtOnce(engine: TestEngine) async throws {
        try await PortalHarness.with(engine: engine, tenant: "windtre") { portal in
            let account = try await portal.requestsAccount(role: "user_admin")
            try await portal.test { browser in
                try await browser.logIn(account.username)
                let empty = try await browser.post("/requests/new/sim_replacement", ["notify": "sms", "service": "Fax"])
                #expect(empty.status == .unprocessableContent)
                for field in ["service", "reason", "line", "delivery_site", "referent_name"] {
                    #expect(empty.body.contains("id=\"f-\(field)-error\""), "\(field) is marked")
                }
                #expect(empty.body.contains("Scegli una delle opzioni proposte."), "an option that is not offered")
                var fields = simFields
                fields["referent_phone"] = ""
                let noPhone = try await browser.post("/requests/new/sim_replacement", fields)
                #expect(noPhone.body.contains("id=\"f-referent_phone-error\""), "SMS needs the referent's mobile")
                let imei = try await browser.requestsMultipart("/requests/new/imei_block", [("service", "Dati"), ("imei", "490154203237519")],
                                                               files: [])
                #expect(imei.status == .unprocessableContent)
                #expect(imei.body.contains("Il codice IMEI non è valido"))
                #expect(imei.body.contains("id=\"f-request_form-error\"") && imei.body.contains("id=\"f-police_report-error\""))
            }
            #expect(try await portal.requestsOf(account.customer).isEmpty)
        }
    }

    @Test("WINDTRE: IMEI block attachments — type, size and content checked; stored, listed and downloadable by the owner customer only",
          arguments: TestEngine.available)
    func attachments(engine: TestEngine) async throws {
        try await PortalHarness.with(engine: engine, tenant: "windtre") { portal in
            let account = try await portal.requestsAccount(role: "user_admin")
            let outsider = try await portal.requestsAccount(role: "user_admin")
            let fields = [("service", "Voce"), ("imei", validIMEI), ("notify", "email"), ("notes", "Furto del 20/11")]
            let big = Data("%PDF-1.4\n".utf8) + Data(repeating: 0x20, count: 5 << 20)
            let box = RequestsBox()
            try await portal.test { browser in
                try await browser.logIn(account.username)
                let form = try await browser.get("/requests/new/imei_block")
                #expect(form.body.contains("enctype=\"multipart/form-data\"") && form.body.contains("accept=\".pdf,.jpg,.png\""))
                #expect(form.body.contains("Formati ammessi: PDF, JPG, PNG; dimensione massima 5 MB."))
                let tooBig = try await browser.requestsMultipart("/requests/new/imei_block", fields, files: [
                    ("request_form", "modulo.pdf", "application/pdf", big), ("id_document", "documento.png", "image/png", png),
                    ("police_report", "denuncia.jpg", "image/jpeg", jpg)])
                #expect(tooBig.status == .unprocessableContent)
                #expect(tooBig.body.contains("Il file supera la dimensione massima di 5 MB."))
                let wrongType = try await browser.requestsMultipart("/requests/new/imei_block", fields, files: [
                    ("request_form", "modulo.exe", "application/octet-stream", Data("MZ".utf8)), ("id_document", "documento.png", "image/png", png),
                    ("police_report", "denuncia.pdf", "application/pdf", png)])
                #expect(wrongType.status == .unprocessableContent)
                #expect(wrongType.body.contains("Formato non ammesso: allega un file PDF, JPG, PNG."))
                #expect(wrongType.body.contains("non corrisponde a un PDF"), "a PNG renamed .pdf is refused")
                let accepted = try await browser.requestsMultipart("/requests/new/imei_block", fields, files: [
                    ("request_form", "modulo blocco.pdf", "application/pdf", pdf), ("id_document", "C:\\Users\\mario\\documento.png", "image/png", png),
                    ("police_report", "denuncia.jpeg", "image/jpeg", jpg)])
                #expect(accepted.status == .seeOther)
                box.id = try #require(requestId(from: accepted.location))
                let id = box.id
                let detail = try await browser.get("/requests/\(id)")
                #expect(detail.body.contains("modulo blocco.pdf") && detail.body.contains("documento.png") && detail.body.contains("denuncia.jpeg"))
                #expect(!detail.body.contains("C:\\Users"), "only the file's own name is kept")
                #expect(detail.body.contains(validIMEI) && detail.body.contains("Furto del 20/11"))
            }
            let id = box.id
            let documents = try await portal.database.read(tenant: portal.definition.id) { try await $0.requestAttachments(requestId: id) }
            #expect(documents.count == 3)
            let pdfDocument = try #require(documents.first { $0.fileName == "modulo blocco.pdf" })
            #expect(pdfDocument.content == pdf && pdfDocument.contentType == "application/pdf" && pdfDocument.ownerKind == "request")
            try await portal.test { browser in
                try await browser.logIn(account.username)
                let download = try await browser.requestsRaw("/requests/\(id)/attachments/\(pdfDocument.id!)")
                #expect(download.status == .ok && download.body == pdf)
                #expect(download.headers[.contentType] == "application/pdf")
                #expect(download.headers[.contentDisposition]?.hasPrefix("attachment;") == true)
                let otherRequest = try await browser.requestsRaw("/requests/\(id + 1000)/attachments/\(pdfDocument.id!)")
                #expect(otherRequest.status == .notFound)
            }
            try await portal.test { browser in
                try await browser.logIn(outsider.username)
                #expect(try await browser.get("/requests/\(id)").status == .notFound, "another customer's request does not exist for them")
                let download = try await browser.requestsRaw("/requests/\(id)/attachments/\(pdfDocument.id!)")
                #expect(download.status == .notFound && download.body != pdf)
                let token = try await browser.requestsToken(outsider.username)
                let api = try await browser.requestsJSON(.get, "/api/v1/requests/\(id)", token: token)
                #expect(api.status == .notFound && (api.json["error"] as? [String: Any])?["code"] as? String == "not_found")
                let list = try await browser.get("/requests")
                #expect(!list.body.contains("/requests/\(id)\""))
            }
        }
    }

    @Test("the status history is shown step by step, with the lifecycle and the notes", arguments: TestEngine.available)
    func history(engine: TestEngine) async throws {
        try await PortalHarness.with(engine: engine, tenant: "windtre") { portal in
            let account = try await portal.requestsAccount(role: "user_admin")
            let box = RequestsBox()
            try await portal.test { browser in
                try await browser.logIn(account.username)
                box.id = try #require(requestId(from: try await browser.post("/requests/new/administrative_commercial", ticketFields).location))
            }
            let id = box.id
            portal.clock.advance(by: 86_400)
            try await portal.requestsSetStatus(id, "in_progress", note: "Presa in carico dal back office")
            try await portal.test { browser in
                try await browser.logIn(account.username)
                let detail = try await browser.get("/requests/\(id)")
                #expect(detail.body.contains("Assegnata") && detail.body.contains("In lavorazione") && detail.body.contains("Presa in carico dal back office"))
                #expect(detail.body.contains("aria-current=\"step\">In lavorazione"))
                #expect(detail.body.contains("Errata tariffazione") && detail.body.contains("Mario Rossi · mario.rossi@example.it"))
                let list = try await browser.get("/requests")
                #expect(list.body.contains("In lavorazione"))
            }
            portal.clock.advance(by: 86_400)
            try await portal.requestsSetStatus(id, "closed", note: "Rimborso disposto")
            try await portal.test { browser in
                try await browser.logIn(account.username)
                let token = try await browser.requestsToken(account.username)
                let api = try await browser.requestsJSON(.get, "/api/v1/requests/\(id)", token: token)
                #expect(api.status == .ok)
                let history = api.json["history"] as? [[String: Any]] ?? []
                #expect(history.compactMap { $0["status"] as? String } == ["assigned", "in_progress", "closed"])
                #expect(history.last?["note"] as? String == "Rimborso disposto")
                let request = api.json["request"] as? [String: Any] ?? [:]
                #expect(request["open"] as? Bool == false && request["closed_at"] != nil)
                let closed = try await browser.requestsJSON(.get, "/api/v1/requests?status=closed", token: token)
                #expect((closed.json["requests"] as? [[String: Any]])?.count == 1)
                let open = try await browser.requestsJSON(.get, "/api/v1/requests?status=open", token: token)
                #expect((open.json["requests"] as? [[String: Any]])?.isEmpty == true)
            }
        }
    }

    @Test("WINDTRE: option activation for at most ten of the customer's own lines", arguments: TestEngine.available)
    func optionLines(engine: TestEngine) async throws {
        try await PortalHarness.with(engine: engine, tenant: "windtre") { portal in
            let account = try await portal.requestsAccount(role: "user_admin")
            let numbers = (0..<11).map { "33300000\(String(format: "%02d", $0))" }
            try await portal.database.write(tenant: portal.definition.id) { transaction in
                let contract = try await transaction.insertContract(ContractRecord(customerId: account.customer, code: "CTR-\(account.customer)",
                                                                                   offer: "Business", kind: "mobile", startsOn: "2025-01-01"))
                for number in numbers {
                    try await transaction.insertLine(LineRecord(customerId: account.customer, contractId: contract, kind: "sim", identifier: number))
                }
            }
            try await portal.test { browser in
                try await browser.logIn(account.username)
                let form = try await browser.get("/requests/new/options_activation")
                #expect(form.body.contains("type=\"checkbox\" name=\"lines\" value=\"\(numbers[0])\""))
                #expect(form.body.contains("Al massimo 10 numeri."))
                let tooMany = try await browser.post("/requests/new/options_activation", ["lines": numbers.joined(separator: "\n"), "option": "Giga Extra"])
                #expect(tooMany.status == .unprocessableContent)
                #expect(tooMany.body.contains("al massimo 10 numeri alla volta (ne hai indicati 11)"))
                let foreign = try await browser.post("/requests/new/options_activation", ["lines": "3471112223", "option": "Giga Extra"])
                #expect(foreign.body.contains("non risultano tra le tue linee: 3471112223"))
                let ten = try await browser.post("/requests/new/options_activation", ["lines": numbers.prefix(10).joined(separator: ","), "option": "Giga Extra"])
                #expect(ten.status == .seeOther)
                let again = try await browser.post("/requests/new/options_deactivation", ["lines": numbers[10], "option": "Giga Extra"])
                #expect(again.status == .conflict, "one option request in progress at a time, activation or deactivation")
            }
            let stored = try #require(try await portal.requestsOf(account.customer).first)
            #expect(stored.status == "in_progress" && stored.subject.contains("Giga Extra"))
        }
    }

    @Test("TIM: a line field stores the line chosen, also when line identifiers are not phone numbers", arguments: TestEngine.available)
    func chosenLineIsStored(engine: TestEngine) async throws {
        try await PortalHarness.with(engine: engine, tenant: "tim") { portal in
            let account = try await portal.requestsAccount(role: "rappresentante_legale")
            let identifiers = ["FTTH-MI-000101", "FTTH-MI-000202", "0287654321"]
            try await portal.database.write(tenant: portal.definition.id) { transaction in
                let contract = try await transaction.insertContract(ContractRecord(customerId: account.customer, code: "CTR-\(account.customer)",
                                                                                   offer: "Business", kind: "fixed", startsOn: "2025-01-01"))
                for identifier in identifiers {
                    try await transaction.insertLine(LineRecord(customerId: account.customer, contractId: contract, kind: "fixed_line", identifier: identifier))
                }
            }
            let report: [String: String] = ["fault_type": "Linea assente", "since": "2026-11-30", "description": "Nessun segnale",
                                            "referent_name": "Mario Rossi", "referent_phone": "3339876543", "notify": "sms"]
            try await portal.test { browser in
                try await browser.logIn(account.username)
                let second = try await browser.post("/requests/new/fault_report", report.merging(["line": identifiers[1]]) { $1 })
                #expect(second.status == .seeOther)
                let byNumber = try await browser.post("/requests/new/fault_report", report.merging(["line": "+39 02 8765 4321"]) { $1 })
                #expect(byNumber.status == .seeOther, "a phone number matches however it is written")
                let foreign = try await browser.post("/requests/new/fault_report", report.merging(["line": "FTTH-MI-999999"]) { $1 })
                #expect(foreign.status == .unprocessableContent, "a line of no one's is refused, not replaced by the first")
            }
            let stored = try await portal.requestsOf(account.customer).map { RequestsController.decode($0.payload)["fields"] as? [String: Any] ?? [:] }
            let chosen = Set(stored.compactMap { $0["line"] as? String })
            #expect(chosen == [identifiers[1], identifiers[2]])
        }
    }

    @Test("numbers typed in a form keep their decimals: 12,5 and 12.5 are twelve and a half, thousands are grouped")
    func numbersKeepDecimals() {
        #expect(RequestForms.number("12.5") == Decimal(string: "12.5"))
        #expect(RequestForms.number("12,5") == Decimal(string: "12.5"))
        #expect(RequestForms.number("1.234,56") == Decimal(string: "1234.56"))
        #expect(RequestForms.number("1,234.56") == Decimal(string: "1234.56"))
        #expect(RequestForms.number("1.234.567") == Decimal(1_234_567))
        #expect(RequestForms.number("-3") == Decimal(-3))
        #expect(RequestForms.number(" 42 ") == Decimal(42))
        for wrong in ["", "12,", "1.2.3", "12a", "1,23,4.5", "--1", "1.23.456"] {
            #expect(RequestForms.number(wrong) == nil, "\(wrong) is not a number")
        }
    }

    @Test("who sees the requests page: by role and toggles, 404 where the tenant has no requests", arguments: TestEngine.available)
    func pageAccess(engine: TestEngine) async throws {
        // TIM's Utilizzatore reports faults (a form of its own) but does not track every request.
        for (tenant, role, toggles, expected) in [("tim", "utilizzatore", [String](), HTTPResponse.Status.ok),
                                                  ("tim", "amministratore_full", [], .ok), ("unogas", "cliente", [], .notFound),
                                                  ("unidata", "referente_amministratore", [], .notFound), ("tunda", "sub_account", [], .forbidden),
                                                  ("tunda", "sub_account", ["technical_tickets"], .ok), ("windtre", "telco_manager", [], .ok)] {
            try await PortalHarness.with(engine: engine, tenant: tenant) { portal in
                let account = try await portal.requestsAccount(role: role, toggles: toggles)
                try await portal.test { browser in
                    try await browser.logIn(account.username)
                    let page = try await browser.get("/requests")
                    #expect(page.status == expected, "\(tenant) \(role) \(toggles)")
                    let token = try await browser.requestsToken(account.username)
                    #expect(try await browser.requestsJSON(.get, "/api/v1/requests", token: token).status == expected)
                    if tenant == "tim" && expected == .ok {
                        // Each role sees exactly the forms of the features it holds.
                        for (formId, form) in portal.definition.requests ?? OrderedMap() {
                            let granted = portal.tenant.authorization.isAllowed(
                                try portal.tenant.authorization.principal(role: role, toggles: Set(toggles)), form.feature)
                            #expect(page.body.contains("/requests/new/\(formId)\"") == granted, "\(role) \(formId)")
                        }
                    }
                }
            }
        }
    }

    @Test("staff move a request along its lifecycle: history with the note, e-mail to the referent, unknown or unchanged statuses refused",
          arguments: TestEngine.available)
    func staffStatusChange(engine: TestEngine) async throws {
        try await PortalHarness.with(engine: engine, tenant: "windtre") { portal in
            let account = try await portal.requestsAccount(role: "user_admin")
            try await portal.test { browser in
                try await browser.logIn(account.username)
                #expect(try await browser.post("/requests/new/administrative_commercial", ticketFields).status == .seeOther)
            }
            let ticket = try #require(try await portal.requestsOf(account.customer).first)
            let move = MoveRequest(services: portal.services.application)
            let tenant = portal.tenant.served
            let moved = try await move(tenant: tenant, acting: .staff, requestId: ticket.id!, status: "in_progress",
                                       note: "Verifica in corso con l'amministrazione")
            #expect(moved.status == "in_progress")
            for (status, code) in [("archiviata", "unknown_status"), ("in_progress", "unchanged")] {
                let refusal = await #expect(throws: UseCaseRefusal.self) { try await move(tenant: tenant, acting: .staff, requestId: ticket.id!, status: status, note: nil) }
                #expect(refusal?.code == code)
            }
            let missing = await #expect(throws: UseCaseRefusal.self) { try await move(tenant: tenant, acting: .staff, requestId: 999_999, status: "closed", note: nil) }
            #expect(missing?.code == "not_found")
            let customerAdmin = try portal.tenant.authorization.principal(role: "user_admin")
            let notStaff = await #expect(throws: UseCaseRefusal.self) {
                try await move(tenant: tenant, acting: .user(principal: customerAdmin, userId: nil, customerId: ticket.customerId),
                               requestId: ticket.id!, status: "closed", note: nil)
            }
            #expect(notStaff?.code == "forbidden", "a customer's user cannot move requests, even with the use case at hand")
            try await move(tenant: tenant, acting: .staff, requestId: ticket.id!, status: "closed", note: nil)

            let outbox = try await portal.database.read(tenant: portal.definition.id) { try await $0.outbox() }
            let notices = outbox.filter { $0.kind == "request_status_changed" }
            #expect(notices.count == 2 && notices.allSatisfy { $0.recipient == "mario.rossi@example.it" })
            #expect(notices.contains { $0.bodyText.contains("Verifica in corso con l'amministrazione") && $0.subject.contains("In lavorazione") })
            try await portal.test { browser in
                try await browser.logIn(account.username)
                let detail = try await browser.get("/requests/\(ticket.id!)")
                #expect(detail.body.contains("Verifica in corso con l&#39;amministrazione"), "the note is in the history")
            }
            let stored = try #require(try await portal.requestsOf(account.customer).first)
            #expect(stored.status == "closed" && stored.closedAt != nil)
        }
    }

    @Test("TIM: the offer activation form is filled in on the offers page only (the generic form would skip its checks)",
          arguments: TestEngine.available)
    func formsWithAPageOfTheirOwn(engine: TestEngine) async throws {
        try await PortalHarness.with(engine: engine, tenant: "tim") { portal in
            // Only the Legal Representative activates offers (seed 004: "attivare offerte esclusive").
            let account = try await portal.requestsAccount(role: "rappresentante_legale")
            try await portal.test { browser in
                try await browser.logIn(account.username)
                let list = try await browser.get("/requests")
                #expect(list.status == .ok)
                #expect(list.body.contains("/requests/new/sim_change") && !list.body.contains("/requests/new/offer_activation"))
                let form = try await browser.get("/requests/new/offer_activation")
                #expect(form.status == .seeOther && form.location == "/offers")
                let posted = try await browser.post("/requests/new/offer_activation", ["offer": "X", "lines": "0612345678"])
                #expect(posted.status == .notFound)
                let token = try await browser.requestsToken(account.username)
                let api = try await browser.requestsJSON(.post, "/api/v1/requests", token: token,
                                                         body: ["form": "offer_activation", "fields": ["offer": "X"]])
                #expect(api.status == .unprocessableContent)
                let forms = try await browser.requestsJSON(.get, "/api/v1/requests/forms", token: token)
                let ids = (forms.json["forms"] as? [[String: Any]])?.compactMap { $0["id"] as? String } ?? []
                #expect(forms.status == .ok && ids.contains("sim_change") && !ids.contains("offer_activation"))
            }
            #expect(try await portal.requestsOf(account.customer).isEmpty)
        }
    }

    @Test("Tunda: a sub-account sees only the forms and tickets its switches allow; tickets have no open limit",
          arguments: TestEngine.available)
    func tundaSubAccount(engine: TestEngine) async throws {
        try await PortalHarness.with(engine: engine, tenant: "tunda") { portal in
            let main = try await portal.requestsAccount(role: "main_account")
            let sub = try await portal.requestsColleague(customer: main.customer, role: "sub_account", toggles: ["technical_tickets"])
            let box = RequestsBox()
            try await portal.test { browser in
                try await browser.logIn(main.username)
                let first = try await browser.requestsMultipart("/requests/new/technical_ticket", [("subject", "Sito lento"), ("message", "Il sito risponde in 10 s")],
                                                                files: [("attachment", "errori.log", "text/plain", Data("GET / 504\n".utf8))])
                #expect(first.status == .seeOther)
                let second = try await browser.requestsMultipart("/requests/new/technical_ticket", [("subject", "Posta"), ("message", "Non ricevo e-mail")], files: [])
                #expect(second.status == .seeOther, "Tunda's tickets have no max_open")
                let admin = try await browser.post("/requests/new/administration_ticket", ["topic": "Accorpamento di più proforma in un unico pagamento", "message": "Unire le proforma di novembre"])
                box.id = try #require(requestId(from: admin.location))
                let tooLong = try await browser.requestsMultipart("/requests/new/technical_ticket", [("subject", String(repeating: "x", count: 201)), ("message", "m")], files: [])
                #expect(tooLong.body.contains("supera i 200 caratteri"))
            }
            let adminTicket = box.id
            let outbox = try await portal.database.read(tenant: portal.definition.id) { try await $0.outbox() }
            #expect(outbox.filter { $0.kind == "request_received" && $0.recipient == main.username }.count == 3,
                    "each accepted ticket is confirmed to the user who opened it (the refused one is not)")
            try await portal.test { browser in
                try await browser.logIn(sub)
                let list = try await browser.get("/requests")
                #expect(list.status == .ok)
                #expect(list.body.contains("/requests/new/technical_ticket") && !list.body.contains("/requests/new/administration_ticket"))
                #expect(list.body.contains("Sito lento") && !list.body.contains("Unire le proforma"))
                #expect(try await browser.get("/requests/new/administration_ticket").status == .forbidden)
                #expect(try await browser.post("/requests/new/administration_ticket", ["topic": "Altro", "message": "x"]).status == .forbidden)
                #expect(try await browser.get("/requests/\(adminTicket)").status == .notFound, "an administration ticket is not the sub-account's to read")
            }
        }
    }

    @Test("API: forms with their limits, 422 with every field problem, base64 attachments, 409 max_open, CSRF for cookie calls",
          arguments: TestEngine.available)
    func api(engine: TestEngine) async throws {
        try await PortalHarness.with(engine: engine, tenant: "windtre") { portal in
            let account = try await portal.requestsAccount(role: "user_admin")
            try await portal.test { browser in
                let token = try await browser.requestsToken(account.username)
                let forms = try await browser.requestsJSON(.get, "/api/v1/requests/forms", token: token)
                #expect(forms.status == .ok)
                let list = forms.json["forms"] as? [[String: Any]] ?? []
                #expect(Set(list.compactMap { $0["id"] as? String }) == ["sim_replacement", "imei_block", "administrative_commercial", "options_activation", "options_deactivation"])
                let ticket = try #require(list.first { $0["id"] as? String == "administrative_commercial" })
                let notes = try #require((ticket["fields"] as? [[String: Any]])?.first { $0["name"] as? String == "notes" })
                #expect(notes["max_length"] as? Int == 300 && ticket["max_open"] as? Int == 1 && ticket["group"] as? String == "tickets")
                let imeiForm = try #require(list.first { $0["id"] as? String == "imei_block" })
                let attachment = try #require((imeiForm["fields"] as? [[String: Any]])?.first { $0["name"] as? String == "police_report" })
                #expect(attachment["max_size_mb"] as? Int == 5 && attachment["accept"] as? [String] == ["pdf", "jpg", "png"])

                let invalid = try await browser.requestsJSON(.post, "/api/v1/requests", token: token, body: [
                    "form": "imei_block", "fields": ["service": "Fax", "imei": "123", "notes": String(repeating: "n", count: 301),
                                                     "request_form": ["file_name": "x.pdf"]]])
                #expect(invalid.status == .unprocessableContent)
                let problems = errorFields(invalid.json)
                #expect(problems["service"] == "not_an_option" && problems["imei"] == "invalid_imei" && problems["notes"] == "too_long")
                #expect(problems["request_form"] == "invalid_attachment" && problems["id_document"] == "file_required" && problems["police_report"] == "file_required")
                #expect(problems["notify"] == "choice_required")

                let created = try await browser.requestsJSON(.post, "/api/v1/requests", token: token, body: [
                    "form": "imei_block", "notify": "email",
                    "fields": ["service": "Voce", "imei": validIMEI,
                               "request_form": ["file_name": "modulo.pdf", "content_base64": pdf.base64EncodedString()],
                               "id_document": ["file_name": "ci.png", "content_base64": png.base64EncodedString()],
                               "police_report": ["file_name": "denuncia.jpg", "content_base64": jpg.base64EncodedString()]]])
                #expect(created.status == .created)
                let request = try #require(created.json["request"] as? [String: Any])
                let id = try #require(request["id"] as? Int)
                let number = try #require(request["number"] as? Int)
                #expect(request["status"] as? String == "assigned" && request["open"] as? Bool == true)
                let attachments = created.json["attachments"] as? [[String: Any]] ?? []
                #expect(attachments.count == 3 && attachments.contains { $0["field"] as? String == "police_report" && $0["content_type"] as? String == "image/jpeg" })
                let url = try #require(attachments.first { $0["field"] as? String == "request_form" }?["url"] as? String)
                var headers = HTTPFields()
                headers[.authorization] = "Bearer \(token)"
                let file = try await browser.client.execute(uri: url, method: .get, headers: headers, body: nil)
                #expect(file.status == .ok && Data(buffer: file.body) == pdf)

                let blocked = try await browser.requestsJSON(.post, "/api/v1/requests", token: token, body: [
                    "form": "administrative_commercial", "notify": "email",
                    "fields": ["topic": "Altro", "domain": "Fisso", "invoice": "FT-1", "site": "Via Po 2, Torino",
                               "referent": ["name": "Mario Rossi", "email": "mario@example.it"], "requester": ["name": "Anna Bianchi"]]])
                #expect(blocked.status == .conflict)
                #expect((blocked.json["error"] as? [String: Any])?["code"] as? String == "max_open")
                #expect(((blocked.json["error"] as? [String: Any])?["message"] as? String)?.contains("n. \(number)") == true)

                let all = try await browser.requestsJSON(.get, "/api/v1/requests", token: token)
                #expect((all.json["requests"] as? [[String: Any]])?.map { $0["id"] as? Int } == [id])
                let unknown = try await browser.requestsJSON(.post, "/api/v1/requests", token: token, body: ["form": "teletrasporto", "fields": [:]])
                #expect(unknown.status == .unprocessableContent && errorFields(unknown.json)["form"] == "unknown_form")

                // A cookie session without the CSRF header is refused.
                try await browser.logIn(account.username)
                var cookieHeaders = HTTPFields()
                cookieHeaders[.cookie] = browser.cookies.map { "\($0.key)=\($0.value)" }.joined(separator: "; ")
                cookieHeaders[.contentType] = "application/json"
                let forged = try await browser.client.execute(uri: "/api/v1/requests", method: .post, headers: cookieHeaders,
                                                              body: ByteBuffer(string: #"{"form":"options_activation","fields":{"lines":["3331234567"],"option":"X"}}"#))
                #expect(forged.status == .forbidden)
            }
            #expect(try await portal.requestsOf(account.customer).count == 1)
            try await portal.test { browser in
                let document = try await browser.requestsJSON(.get, "/api/v1/openapi.json", token: nil)
                let paths = document.json["paths"] as? [String: Any] ?? [:]
                #expect(paths["/requests"] != nil && paths["/requests/forms"] != nil && paths["/requests/{id}"] != nil)
                #expect(paths["/users"] != nil && paths["/users/{id}"] != nil && paths["/users/invitations"] != nil)
                let schemas = (document.json["components"] as? [String: Any])?["schemas"] as? [String: Any] ?? [:]
                #expect(schemas["NewRequest"] != nil && schemas["UserChange"] != nil)
            }
        }
    }
}
