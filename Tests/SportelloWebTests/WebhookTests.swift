import Foundation
import Synchronization
import Testing
import SportelloApplication
import SportelloCore
@testable import SportelloStore
@testable import SportelloWeb

/// No jitter: back-off delays are exact.
private struct NoJitter: SecureRandomSource {
    func bytes(_ count: Int) -> [UInt8] { [UInt8](repeating: 0, count: count) }
}

/// The example tenant binding `plugins/webhook_receiver.yaml` with `binding` (YAML under the plugin's id), loaded as
/// `sportello validate` and `serve` load tenants.
private func tenantBinding(_ binding: String) throws -> (definition: TenantDefinition, catalogue: PluginCatalogue) {
    let catalogue = SandboxPSP.catalogue()
    let text = SchemaExport.exampleTenant.replacingOccurrences(of: "retention:\n", with: "plugins:\n  webhook_receiver:\n\(binding)retention:\n")
    let result = TenantLoader(capabilities: .portal, plugins: catalogue).load(sources: [(file: "example.yaml", text: text)])
    #expect(result.diagnostics.isEmpty, "\(result.diagnostics)")
    return (try #require(result.tenants.first?.definition), catalogue)
}

/// The receiver's webhook consumer for `tenant`, subscribed as `binding` says, connected to the running receiver.
private func receiverConsumer(tenant: String, binding: String = "    events: [request.created, invoice.issued]\n") throws -> WebhookConsumer {
    let (definition, catalogue) = try tenantBinding(binding)
    let consumers = WebhookConsumers(tenants: [renamed(definition, to: tenant)], plugins: catalogue, environment: try WebhookReceiver.pluginEnvironment())
    #expect(consumers.unavailable.isEmpty, "\(consumers.unavailable)")
    return try #require(consumers.consumers.first)
}

/// Records a `request.created` event for each customer given, each in its own transaction, now; returns their ids.
private func record(_ database: Database, _ tenant: String, customers: [Int64], type: EventType = .requestCreated) async throws -> [Int64] {
    var ids: [Int64] = []
    for (index, customer) in customers.enumerated() {
        let id = try await database.write(tenant: tenant) { transaction in
            try await transaction.recordEvent(EventDraft(type, customerId: customer, subject: "request", id: Int64(100 + index), actorUserId: 7, facts: [
                "request_id": .integer(Int64(100 + index)), "number": .integer(Int64(index + 1)), "form": "guasto",
                "subject": "Il modem di Mario Rossi non va", "status": "open", "user_id": .integer(7),
            ]))
        }
        ids.append(try #require(id))
    }
    return ids
}

private func dispatcher(_ database: Database, _ tenant: String, _ consumer: WebhookConsumer, maxAttempts: Int = 5) -> EventDispatcher {
    EventDispatcher(database: database, consumers: [consumer], tenants: { [tenant] }, random: NoJitter(),
                    settings: .init(firstRetryDelay: 10, maximumRetryDelay: 60, maxAttempts: maxAttempts))
}

private func delivery(_ database: Database, _ tenant: String, _ event: Int64) async throws -> EventDelivery {
    try #require(try await database.read(tenant: tenant) { try await $0.eventDeliveries(eventIds: [event]) }.first { $0.consumer == "webhook:webhook_receiver" })
}

/// Runs the real `sportello` executable on `location`'s database; returns its standard output.
private func sportello(_ arguments: [String], database location: DatabaseLocation) throws -> String {
    let binary = try #require(EventKillTests.sportelloBinary, "build the sportello executable first (swift build)")
    var environment = ProcessInfo.processInfo.environment
    if case .postgres = location, (environment["SPORTELLO_DATA_KEY"] ?? "").isEmpty, (environment["SPORTELLO_DATA_KEY_FILE"] ?? "").isEmpty {
        environment["SPORTELLO_DATA_KEY"] = testDataKey
    }
    let databaseArgument: String
    switch location {
    case .sqlite(let path): databaseArgument = path
    case .postgres(let url): databaseArgument = url
    }
    let process = Process()
    process.executableURL = binary
    process.currentDirectoryURL = repositoryRoot
    process.arguments = arguments + ["--database", databaseArgument]
    process.environment = environment
    let output = Pipe()
    process.standardOutput = output
    process.standardError = FileHandle.nullDevice
    try process.run()
    let data = output.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    #expect(process.terminationStatus == 0, "sportello \(arguments.joined(separator: " ")) exited \(process.terminationStatus)")
    return String(decoding: data, as: UTF8.self)
}

@Suite("Webhook plugins: what is sent, and conditions")
struct WebhookPayloadTests {
    private func event(_ type: EventType = .requestCreated, facts: [String: EventFact]) -> RecordedEvent {
        RecordedEvent(id: 42, tenant: "acme", type: type, customerId: 12, subjectKind: "request", subjectId: 9, actorUserId: nil,
                      facts: facts, occurredAt: 1_796_605_200, fannedOut: true)
    }

    @Test("the JSON has every key of schema 1; personal facts are left out and named unless the binding sends personal data")
    func payloadSchema() throws {
        let recorded = event(facts: ["request_id": 9, "subject": "Mario Rossi's modem", "note": .null, "referent_phone": "3331234567",
                                     "value.plate": "AB123CD", "status": "open", "simulated": false])
        let plain = try #require(try JSONSerialization.jsonObject(with: WebhookPayload.body(for: recorded, personalData: false)) as? [String: Any])
        #expect(Set(plain.keys) == ["schema", "id", "tenant", "type", "occurred_at", "occurred_at_unix", "customer_id", "subject", "actor_user_id", "data", "redacted"])
        #expect(plain["schema"] as? Int == 1 && plain["id"] as? Int == 42 && plain["tenant"] as? String == "acme" && plain["type"] as? String == "request.created")
        #expect(plain["occurred_at"] as? String == "2026-12-07T01:00:00Z" && plain["occurred_at_unix"] as? Int == 1_796_605_200)
        #expect(plain["actor_user_id"] is NSNull, "absent values are null, the key is always there")
        #expect((plain["subject"] as? [String: Any])?["kind"] as? String == "request" && (plain["subject"] as? [String: Any])?["id"] as? Int == 9)
        let data = try #require(plain["data"] as? [String: Any])
        #expect(Set(data.keys) == ["request_id", "status", "simulated"])
        #expect(plain["redacted"] as? [String] == ["referent_phone", "subject", "value.plate"], "a null personal fact is not listed")
        let text = String(decoding: WebhookPayload.body(for: recorded, personalData: false), as: UTF8.self)
        #expect(!text.contains("Rossi") && !text.contains("333") && !text.contains("AB123CD"))

        let full = try #require(try JSONSerialization.jsonObject(with: WebhookPayload.body(for: recorded, personalData: true)) as? [String: Any])
        #expect((full["data"] as? [String: Any])?["subject"] as? String == "Mario Rossi's modem" && (full["redacted"] as? [String])?.isEmpty == true)
        #expect(WebhookPayload.idempotencyKey(for: recorded) == "acme:42")
    }

    @Test("validation knows exactly the event types the store records")
    func eventTypes() {
        #expect(WebhookEvents.types == EventType.all.map(\.rawValue))
    }

    @Test("a binding's events and conditions select what is sent; unbound tenants send nothing; no URL or key: not connected")
    func subscriptions() throws {
        let (definition, catalogue) = try tenantBinding("    events: [invoice.issued, invoice.paid]\n    when: {source: import, simulated: \"!true\", total_cents: \">=100\"}\n")
        let environment = ["SPORTELLO_WEBHOOK_URL": "http://127.0.0.1:9/hooks", "SPORTELLO_WEBHOOK_SECRET": "k"]
        let consumers = WebhookConsumers(tenants: [definition, renamed(definition, to: "other")].map { $0.id == "other" ? Self.unbound($0) : $0 },
                                         plugins: catalogue, environment: environment)
        let consumer = try #require(consumers.consumers.first)
        #expect(consumers.consumers.count == 1 && consumer.id == "webhook:webhook_receiver" && consumer.url == "http://127.0.0.1:9/hooks")
        #expect(Array(consumer.subscriptions.keys) == [definition.id], "only the tenant that binds it")
        func issued(_ source: String, tenant: String? = nil) -> RecordedEvent {
            var recorded = event(.invoiceIssued, facts: ["source": .string(source), "simulated": false, "total_cents": 12200])
            recorded.tenant = tenant ?? definition.id
            return recorded
        }
        #expect(consumer.accepts(issued("import")))
        #expect(!consumer.accepts(issued("order")), "a condition that does not hold")
        var small = issued("import"); small.facts["total_cents"] = 99
        #expect(!consumer.accepts(small), ">=100")
        var simulated = issued("import"); simulated.facts["simulated"] = true
        #expect(!consumer.accepts(simulated), "!true")
        #expect(!consumer.accepts(issued("import", tenant: "other")), "a tenant that does not bind it")
        var paid = issued("import"); paid.type = .invoicePaid
        #expect(consumer.accepts(paid))
        var request = issued("import"); request.type = .requestCreated
        #expect(!consumer.accepts(request), "a type not chosen")

        let missing = WebhookConsumers(tenants: [definition], plugins: catalogue, environment: ["SPORTELLO_WEBHOOK_URL": "http://127.0.0.1:9/hooks"])
        #expect(missing.consumers.isEmpty && missing.unavailable == ["webhook_receiver": "SPORTELLO_WEBHOOK_SECRET is not set"])
        #expect(WebhookConsumers(tenants: [Self.unbound(definition)], plugins: catalogue, environment: environment).consumers.isEmpty,
                "no tenant binds it: no consumer")
    }

    @Test("with tenants that reload, each event follows its tenant's binding as it is now: bound later sends, unbound later stops")
    func subscriptionsFollowReloads() throws {
        let (definition, catalogue) = try tenantBinding("    events: [invoice.issued]\n")
        let environment = ["SPORTELLO_WEBHOOK_URL": "http://127.0.0.1:9/hooks", "SPORTELLO_WEBHOOK_SECRET": "k"]
        let current = Mutex<[String: TenantDefinition]>([definition.id: Self.unbound(definition)])
        let consumers = WebhookConsumers(tenants: [Self.unbound(definition)], plugins: catalogue, environment: environment,
                                         currentTenant: { id in current.withLock { $0[id] } })
        let consumer = try #require(consumers.consumers.first, "connected although no tenant binds it yet: one may later")
        #expect(consumers.summary.first?.contains("no tenant yet") == true)
        var issued = event(.invoiceIssued, facts: ["source": "import", "total_cents": 100])
        issued.tenant = definition.id
        #expect(!consumer.accepts(issued), "not bound yet")
        current.withLock { $0[definition.id] = definition }
        #expect(consumer.accepts(issued), "bound by a reload")
        current.withLock { $0[definition.id] = nil }
        #expect(!consumer.accepts(issued), "the tenant was removed")
        #expect(WebhookConsumers(tenants: [], plugins: catalogue, environment: [:], currentTenant: { _ in nil }).unavailable.isEmpty,
                "a plugin nobody binds is not reported as missing its variables")
    }

    static func unbound(_ definition: TenantDefinition) -> TenantDefinition {
        var copy = definition
        copy.plugins = nil
        return copy
    }
}

@Suite("Webhook plugins: signed events to the real receiver, outages, refusals and replay", .serialized, .enabled(if: WebhookReceiver.isAvailable))
struct WebhookDeliveryTests {
    @Test("events reach the receiver signed and verifiable, in order per customer, with the documented headers and no personal data",
          arguments: TestEngine.available)
    func signedAndOrdered(engine: TestEngine) async throws {
        try await WebhookReceiver.control("ok")
        try await engine.withDatabase { database in
            let tenant = uniqueTenant("hooks")
            let consumer = try receiverConsumer(tenant: tenant)
            let ids = try await record(database, tenant, customers: [1, 2, 1, 2, 1])
            let skipped = try await record(database, tenant, customers: [1], type: .userBlocked)
            let report = await dispatcher(database, tenant, consumer).deliverDue()
            #expect(report.delivered.count == 5 && report.deferred.isEmpty && report.dead.isEmpty, "\(report)")

            let (received, _) = try await WebhookReceiver.events(tenant: tenant)
            #expect(received.map(\.id).sorted() == ids, "every subscribed event once; \(skipped) (user.blocked) is not subscribed")
            for customer: Int64 in [1, 2] {
                let expected = zip(ids, [1, 2, 1, 2, 1] as [Int64]).filter { $0.1 == customer }.map(\.0)
                #expect(received.filter { $0.customerId == customer }.map(\.id) == expected, "customer \(customer)'s events in order")
            }
            let secret = try #require(WebhookReceiver.secret)
            for item in received {
                #expect(item.deliveries == 1)
                #expect(item.headers["Idempotency-Key"] == "\(tenant):\(item.id)" && item.headers["Sportello-Event-Id"] == String(item.id))
                #expect(item.headers["Sportello-Event-Type"] == "request.created" && item.headers["Sportello-Tenant"] == tenant)
                #expect(item.headers["Content-Type"] == "application/json")
                let refusal = PluginSignature(secret: secret).verify(timestamp: item.headers["Sportello-Timestamp"], signature: item.headers["Sportello-Signature"],
                                                                     body: Array(item.body.utf8), now: Int64(Date().timeIntervalSince1970), window: 300)
                #expect(refusal == nil, "the receiver's copy verifies with the shared secret")
                #expect(PluginSignature(secret: "another").verify(timestamp: item.headers["Sportello-Timestamp"], signature: item.headers["Sportello-Signature"],
                                                                  body: Array(item.body.utf8), now: Int64(Date().timeIntervalSince1970), window: 300) == .mismatch)
                #expect(item.payload["type"] as? String == "request.created" && item.payload["tenant"] as? String == tenant)
                #expect(!item.body.contains("Mario Rossi"), "the request's subject is personal: left out")
                #expect(item.payload["redacted"] as? [String] == ["subject"])
                #expect((item.payload["data"] as? [String: Any])?["form"] as? String == "guasto")
            }
            let states = try await database.read(tenant: tenant) { try await $0.eventDeliveries(eventIds: ids) }
            #expect(states.count == 5 && states.allSatisfy { $0.status == .delivered && $0.consumer == "webhook:webhook_receiver" })
        }
    }

    @Test("the receiver down (503, then too slow, then 429): retried with back-off, a customer's later events wait, all delivered once it is back",
          arguments: TestEngine.available)
    func outageAndRecovery(engine: TestEngine) async throws {
        try await engine.withDatabase { database in
            let tenant = uniqueTenant("hooks")
            let consumer = try receiverConsumer(tenant: tenant)
            let ids = try await record(database, tenant, customers: [1, 1, 2])
            let events = dispatcher(database, tenant, consumer)
            try await WebhookReceiver.control("fail")
            var report = await events.deliverDue()
            #expect(Set(report.deferred.map(\.eventId)) == [ids[0], ids[2]], "the head of each customer is tried and deferred; \(ids[1]) waits")
            var head = try await delivery(database, tenant, ids[0])
            #expect(head.status == .pending && head.attempts == 1 && head.lastError?.hasPrefix("http_503: http://127.0.0.1:") == true, "\(head)")
            #expect(head.lastError?.contains("/hooks") == false, "only the receiver's origin is stored")

            try await WebhookReceiver.control("slow", delay: 6)  // the manifest's request timeout is 5s
            report = await events.deliverDue(now: Date().addingTimeInterval(15))
            head = try await delivery(database, tenant, ids[0])
            #expect(head.attempts == 2 && head.lastError?.hasPrefix("timeout:") == true, "\(head)")
            try await Task.sleep(for: .seconds(2))  // the receiver finishes its slow answers to requests the portal gave up on

            try await WebhookReceiver.control("fail", status: 429)
            report = await events.deliverDue(now: Date().addingTimeInterval(60))
            head = try await delivery(database, tenant, ids[0])
            #expect(head.status == .pending && head.attempts == 3 && head.lastError?.hasPrefix("http_429") == true, "429 is retried: \(head)")
            // The slow receiver took the heads after the portal had given up: the portal sends them again, and the
            // receiver recognises them by their Idempotency-Key (at least once, never twice in its store).
            let late = try await WebhookReceiver.events(tenant: tenant).events
            #expect(Set(late.map(\.id)) == [ids[0], ids[2]], "only the heads reached it, late; the failing answers stored nothing")

            try await WebhookReceiver.control("ok")
            report = await events.deliverDue(now: Date().addingTimeInterval(200))
            #expect(report.delivered.count == 3 && report.dead.isEmpty, "\(report)")
            let received = try await WebhookReceiver.events(tenant: tenant).events
            #expect(received.filter { $0.customerId == 1 }.map(\.id) == [ids[0], ids[1]], "in order once back")
            #expect(received.map(\.id).sorted() == ids, "each event stored once")
            let counts = Dictionary(uniqueKeysWithValues: received.map { ($0.id, $0.deliveries) })
            #expect(counts == [ids[0]: 2, ids[1]: 1, ids[2]: 2], "the heads came twice, one key each time")
            head = try await delivery(database, tenant, ids[0])
            #expect(head.status == .delivered && head.attempts == 4 && head.lastError == nil)
        }
    }

    @Test("the manifest's retry: (backoff 20s, max_backoff 25s, max_attempts 2) replaces the dispatcher's schedule: deferred 20 s, then dead and listed",
          arguments: TestEngine.available)
    func manifestRetrySchedule(engine: TestEngine) async throws {
        let stock = try receiverConsumer(tenant: "unused")
        var manifest = stock.manifest
        manifest.retry = PluginRetry(maxAttempts: 2, backoff: DurationSpec(20, .seconds), maxBackoff: DurationSpec(25, .seconds))
        let defaults = RetrySchedule(firstDelay: 10, maximumDelay: 60, maxAttempts: 5)
        let schedule = WebhookConsumer(manifest: manifest, url: stock.url, secret: "x", subscriptions: [:]).retrySchedule(over: defaults)
        #expect(schedule == RetrySchedule(firstDelay: 20, maximumDelay: 25, maxAttempts: 2))
        #expect((1...3).map { schedule.delay(afterAttempt: $0, jitter: 0) } == [20, 25, 25])
        manifest.retry = PluginRetry(maxAttempts: 7)
        #expect(WebhookConsumer(manifest: manifest, url: stock.url, secret: "x", subscriptions: [:]).retrySchedule(over: defaults)
                == RetrySchedule(firstDelay: 10, maximumDelay: 60, maxAttempts: 7), "keys left out keep the dispatcher's")

        try await engine.withDatabase { database in
            let tenant = uniqueTenant("hooks")
            let bound = try receiverConsumer(tenant: tenant)
            var manifest = bound.manifest
            manifest.retry = PluginRetry(maxAttempts: 2, backoff: DurationSpec(20, .seconds), maxBackoff: DurationSpec(25, .seconds))
            let secret = try #require(try WebhookReceiver.pluginEnvironment()["SPORTELLO_WEBHOOK_SECRET"])
            let consumer = WebhookConsumer(manifest: manifest, url: bound.url, secret: secret, subscriptions: bound.subscriptions)
            let ids = try await record(database, tenant, customers: [5])
            let events = dispatcher(database, tenant, consumer)
            try await WebhookReceiver.control("fail")
            do {
                let start = Date()
                var report = await events.deliverDue(now: start)
                #expect(report.deferred.map(\.eventId) == ids, "\(report)")
                let first = try await delivery(database, tenant, ids[0])
                #expect(first.nextAttemptAt == Int64(start.timeIntervalSince1970) + 20, "the manifest's backoff, not the dispatcher's 10 s")
                report = await events.deliverDue(now: Date(timeIntervalSince1970: TimeInterval(first.nextAttemptAt)))
                #expect(report.dead.map(\.eventId) == ids, "dead after the manifest's 2 attempts (the dispatcher would try 5): \(report)")
                let dead = try await delivery(database, tenant, ids[0])
                #expect(dead.status == .dead && dead.attempts == 2 && dead.lastError?.hasPrefix("http_503") == true, "\(dead)")
            } catch {
                try? await WebhookReceiver.control("ok")
                throw error
            }
            try await WebhookReceiver.control("ok")
        }
    }

    @Test("a permanent refusal (422) is dead at once and listed; `sportello events replay --consumer webhook:…` sends it again, delivered",
          arguments: TestEngine.available)
    func refusedThenReplayed(engine: TestEngine) async throws {
        let location = try engine.location()
        let database = try await openTestDatabase(location)
        _ = try await database.migrate()
        do {
            let tenant = uniqueTenant("hooks")
            let consumer = try receiverConsumer(tenant: tenant)
            let ids = try await record(database, tenant, customers: [3, 3])
            let events = dispatcher(database, tenant, consumer)
            try await WebhookReceiver.control("refuse")
            var report = await events.deliverDue()
            #expect(report.dead.map(\.eventId) == [ids[0], ids[1]], "each refused for good, the second no longer held by the first: \(report)")
            let dead = try await delivery(database, tenant, ids[0])
            #expect(dead.status == .dead && dead.attempts == 1 && dead.lastError?.hasPrefix("http_422: ") == true, "\(dead)")

            let listed = try sportello(["events", "list", "--tenant", tenant, "--failed"], database: location)
            #expect(listed.contains("→ webhook:webhook_receiver: dead after 1 attempt(s); last error: http_422"), "\(listed)")

            try await WebhookReceiver.control("ok")
            let replayed = try sportello(["events", "replay", "--tenant", tenant, "--consumer", "webhook:webhook_receiver", "--event", String(ids[0])],
                                         database: location)
            #expect(replayed.contains("1 dead delivery pending again"), "\(replayed)")
            report = await events.deliverDue()
            #expect(report.delivered.map(\.eventId) == [ids[0]])
            #expect(try await delivery(database, tenant, ids[1]).status == .dead, "only the event replayed")
            let all = try sportello(["events", "replay", "--tenant", tenant, "--consumer", "webhook:webhook_receiver"], database: location)
            #expect(all.contains("1 dead delivery pending again"), "\(all)")
            report = await events.deliverDue()
            #expect(report.delivered.map(\.eventId) == [ids[1]])
            let received = try await WebhookReceiver.events(tenant: tenant).events
            #expect(received.map(\.id) == ids && received.allSatisfy { $0.deliveries == 1 })

            try await WebhookReceiver.control("refuse", status: 404)
            let more = try await record(database, tenant, customers: [4])
            report = await events.deliverDue()
            let refused = try await delivery(database, tenant, more[0])
            #expect(report.dead.map(\.eventId) == more && refused.lastError?.hasPrefix("http_404") == true, "any 4xx but 408/429 is for good")
            try await WebhookReceiver.control("ok")
        } catch {
            try? await WebhookReceiver.control("ok")
            await database.close()
            throw error
        }
        await database.close()
    }

    @Test("the receiver rejects a forged, tampered, stale or unsigned delivery with 401 and stores nothing")
    func receiverRejectsBadSignatures() async throws {
        try await WebhookReceiver.control("ok")
        let secret = try #require(WebhookReceiver.secret)
        let tenant = uniqueTenant("forged")
        let body = Data(#"{"id":1,"tenant":"\#(tenant)","type":"invoice.paid"}"#.utf8)
        let now = Int64(Date().timeIntervalSince1970)
        func headers(_ signature: String, at timestamp: Int64 = now) -> [(String, String)] {
            [("Sportello-Timestamp", String(timestamp)), ("Sportello-Signature", signature), ("Idempotency-Key", "\(tenant):1")]
        }
        let before = try await WebhookReceiver.events(tenant: tenant).rejected
        #expect(try await WebhookReceiver.post(body: body, headers: headers(PluginSignature(secret: "not-the-secret").sign(timestamp: now, body: body))) == 401)
        let tampered = Data(#"{"id":1,"tenant":"\#(tenant)","type":"invoice.issued"}"#.utf8)
        #expect(try await WebhookReceiver.post(body: tampered, headers: headers(PluginSignature(secret: secret).sign(timestamp: now, body: body))) == 401)
        #expect(try await WebhookReceiver.post(body: body, headers: headers(PluginSignature(secret: secret).sign(timestamp: now - 3600, body: body), at: now - 3600)) == 401,
                "an old delivery replayed outside the window")
        #expect(try await WebhookReceiver.post(body: body, headers: [("Idempotency-Key", "\(tenant):1")]) == 401)
        let after = try await WebhookReceiver.events(tenant: tenant)
        #expect(after.events.isEmpty && after.rejected >= before + 4)
        #expect(try await WebhookReceiver.post(body: body, headers: headers(PluginSignature(secret: secret).sign(timestamp: now, body: body))) == 200,
                "the same body rightly signed is taken")
        #expect(try await WebhookReceiver.events(tenant: tenant).events.map(\.id) == [1])
    }
}
