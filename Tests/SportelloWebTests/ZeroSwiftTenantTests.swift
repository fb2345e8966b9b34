import Foundation
import Testing
import SportelloCore
@testable import SportelloStore
@testable import SportelloWeb

/// Assicurazioni Esempio Vela (`tenants/vela.yaml`), an insurer: a vertical no Swift code was written for. Its
/// policies, vehicles, claims, premiums and documents, its roles, registration and custom fields come from the
/// YAML and the default templates alone.
private let zeroSwiftTenantId = "vela"

/// The tenant's own names: the ones Swift would have to spell if serving it needed code of its own.
private struct OwnNames {
    var tenant: [String]
    var features: [String]
    var recordKinds: [String]
    var roles: [String]
    var customerFields: [String]
    var userFields: [String]
    var requestForms: [String]

    init(_ definition: TenantDefinition) {
        tenant = [definition.id]
        features = Array(definition.features.keys)
        recordKinds = Array(definition.recordKinds.keys)
        roles = Array(definition.roles.keys)
        customerFields = Array((definition.customerFields ?? OrderedMap()).keys)
        userFields = Array((definition.userFields ?? OrderedMap()).keys)
        requestForms = Array((definition.requests ?? OrderedMap()).keys)
    }

    var all: [String] { tenant + features + recordKinds + roles + customerFields + userFields + requestForms }
}

/// The string literals and identifiers of Swift source, comments left out: enough of Swift's lexical grammar for
/// this repository (line and nested block comments, single-line, multi-line and raw strings, interpolations that
/// hold strings of their own, backticked identifiers).
struct SwiftSourceTokens {
    /// The text of every literal segment, escapes resolved; an interpolated literal gives one segment per stretch
    /// of text between interpolations (`"/records/\(kind)/x"` gives `/records/` and `/x`).
    var literals: [String] = []
    /// Every identifier outside comments and literals.
    var identifiers: Set<String> = []
    /// `literals` as `literalMentions` reads them (see `matched`).
    private(set) var matchedLiterals: [String] = []

    private var characters: [Character]
    private var index = 0

    init(source: String) {
        characters = Array(source)
        code(untilClosingParenthesis: false)
        matchedLiterals = Self.matched(literals)
        characters = []
    }

    private func peek(_ offset: Int = 0) -> Character? {
        index + offset < characters.count ? characters[index + offset] : nil
    }

    private func starts(with text: String) -> Bool {
        var offset = 0
        for character in text {
            guard peek(offset) == character else { return false }
            offset += 1
        }
        return true
    }

    /// Code up to the end of the file, or up to the `)` that closes an interpolation.
    private mutating func code(untilClosingParenthesis: Bool) {
        var depth = 0
        while let character = peek() {
            if starts(with: "//") {
                while let next = peek(), !next.isNewline { index += 1 }
            } else if starts(with: "/*") {
                blockComment()
            } else if character == "#" || character == "\"" {
                var hashes = 0
                while peek(hashes) == "#" { hashes += 1 }
                if peek(hashes) == "\"" {
                    index += hashes
                    string(hashes: hashes)
                } else {
                    index += max(hashes, 1)
                }
            } else if character == "`" || character.isLetter || character == "_" {
                identifier()
            } else if character == "(" {
                depth += 1
                index += 1
            } else if character == ")" {
                index += 1
                if untilClosingParenthesis {
                    if depth == 0 { return }
                    depth -= 1
                }
            } else {
                index += 1
            }
        }
    }

    private mutating func blockComment() {
        var depth = 0
        while peek() != nil {
            if starts(with: "/*") { depth += 1; index += 2 }
            else if starts(with: "*/") { depth -= 1; index += 2; if depth == 0 { return } }
            else { index += 1 }
        }
    }

    private mutating func identifier() {
        let backticked = peek() == "`"
        if backticked { index += 1 }
        var name = ""
        while let next = peek(), next.isLetter || next.isNumber || next == "_" {
            name.append(next)
            index += 1
        }
        if backticked, peek() == "`" { index += 1 }
        if !name.isEmpty { identifiers.insert(name) }
    }

    /// A string literal from its opening quote(s), `hashes` `#` already passed.
    private mutating func string(hashes: Int) {
        let delimiterHashes = String(repeating: "#", count: hashes)
        let multiline = starts(with: "\"\"\"")
        index += multiline ? 3 : 1
        let closing = (multiline ? "\"\"\"" : "\"") + delimiterHashes
        let escape = "\\" + delimiterHashes
        var segment = ""
        while let character = peek() {
            if starts(with: closing) {
                index += closing.count
                break
            }
            if !multiline, character.isNewline { break }  // an unterminated literal: stop at the line's end
            if starts(with: escape) {
                index += escape.count
                guard let escaped = peek() else { break }
                if escaped == "(" {
                    literals.append(segment)
                    segment = ""
                    index += 1
                    code(untilClosingParenthesis: true)
                    continue
                }
                index += 1
                switch escaped {
                case "n": segment.append("\n")
                case "t": segment.append("\t")
                case "r": segment.append("\r")
                case "0": segment.append("\0")
                case "u":  // \u{XXXX}
                    if peek() == "{" {
                        index += 1
                        var hex = ""
                        while let digit = peek(), digit != "}" { hex.append(digit); index += 1 }
                        index += 1
                        if let value = UInt32(hex, radix: 16), let scalar = Unicode.Scalar(value) { segment.unicodeScalars.append(scalar) }
                    }
                default:
                    if !escaped.isNewline { segment.append(escaped) }  // \" \\ \' and a multi-line literal's line continuation
                }
                continue
            }
            segment.append(character)
            index += 1
        }
        literals.append(segment)
    }

    /// The literal segments as matched: a multi-line literal (SQL, a template) line by line, each trimmed.
    private static func matched(_ literals: [String]) -> [String] {
        literals.flatMap { literal -> [String] in
            guard literal.contains(where: \.isNewline) else { return [literal] }
            return literal.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }
        }
    }

    /// Whether `name` appears in a literal: a literal that is the name, or a literal with no white space (a key, a
    /// route, a feature id, a SQL name) where the name stands as a whole word (`/records/claims`, `claims.view`).
    /// Prose with spaces (messages, documentation examples of the language) only counts when it is the name exactly;
    /// a multi-line literal is matched line by line.
    func literalMentions(_ name: String) -> Bool {
        matchedLiterals.contains { literal in
            literal == name || (!literal.contains(where: \.isWhitespace) && Self.containsWord(name, in: literal))
        }
    }

    /// Whether `name` occurs in `text` with no letter, digit or `_` right before or after it.
    static func containsWord(_ name: String, in text: String) -> Bool {
        var searchRange = text.startIndex..<text.endIndex
        while let found = text.range(of: name, range: searchRange) {
            let before = found.lowerBound == text.startIndex ? nil : text[text.index(before: found.lowerBound)]
            let after = found.upperBound == text.endIndex ? nil : text[found.upperBound]
            let isWordCharacter: (Character?) -> Bool = { $0.map { $0.isLetter || $0.isNumber || $0 == "_" } ?? false }
            if !isWordCharacter(before) && !isWordCharacter(after) { return true }
            searchRange = found.upperBound..<text.endIndex
        }
        return false
    }

    /// The Swift spellings of an id as an identifier: as written and in lowerCamelCase (`insured_vehicles`,
    /// `insuredVehicles`); none for an id with a `.` (a feature id cannot be an identifier).
    static func identifierSpellings(of id: String) -> [String] {
        guard !id.contains(".") else { return [] }
        let words = id.split(separator: "_")
        let camel = (words.first.map(String.init) ?? "") + words.dropFirst().map { $0.prefix(1).uppercased() + $0.dropFirst() }.joined()
        return Array(Set([id, camel]))
    }
}

/// Every Swift file under `Sources/`, lexed once.
private let sourceFiles: [(path: String, tokens: SwiftSourceTokens)] = {
    let root = repositoryRoot.appendingPathComponent("Sources")
    guard let walker = FileManager.default.enumerator(at: root, includingPropertiesForKeys: nil) else { return [] }
    var files: [(String, SwiftSourceTokens)] = []
    for case let url as URL in walker where url.pathExtension == "swift" {
        guard let text = try? String(contentsOf: url, encoding: .utf8) else { continue }
        files.append((String(url.path.dropFirst(root.path.count + 1)), SwiftSourceTokens(source: text)))
    }
    return files.sorted { $0.0 < $1.0 }
}()

/// Every other file under `Sources/` (resources), as text.
private let sourceResources: [(path: String, text: String)] = {
    let root = repositoryRoot.appendingPathComponent("Sources")
    guard let walker = FileManager.default.enumerator(at: root, includingPropertiesForKeys: [.isRegularFileKey]) else { return [] }
    var files: [(String, String)] = []
    for case let url as URL in walker where url.pathExtension != "swift" {
        guard (try? url.resourceValues(forKeys: [.isRegularFileKey]).isRegularFile) == true,
              let text = try? String(contentsOf: url, encoding: .utf8) else { continue }
        files.append((String(url.path.dropFirst(root.path.count + 1)), text))
    }
    return files
}()

/// The Swift files whose literals mention `name`, and those that use it (or its camel-case form) as an identifier.
private func swiftUses(of name: String, asIdentifier: Bool) -> [String] {
    let spellings = asIdentifier ? SwiftSourceTokens.identifierSpellings(of: name) : []
    var found = sourceFiles.filter { $0.tokens.literalMentions(name) }.map { "\($0.path) (literal)" }
    found += sourceFiles.filter { file in spellings.contains { file.tokens.identifiers.contains($0) } }.map { "\($0.path) (identifier)" }
    found += sourceResources.filter { SwiftSourceTokens.containsWord(name, in: $0.text) }.map { "\($0.path) (resource)" }
    return found
}

@Suite("A tenant from YAML alone")
struct ZeroSwiftTenantTests {
    static let yamlFile = repositoryRoot.appendingPathComponent("tenants/\(zeroSwiftTenantId).yaml").path
    static let now = CalendarDay(year: 2026, month: 11, day: 21).startInstant + 12 * 3600

    @Test("the source scan finds what is there and skips comments")
    func scannerFindsLiteralsAndSkipsComments() throws {
        let sample = #"""
        // let a = "commented_kind"
        /* block "block_kind" /* nested "nested_kind" */ still "nested_tail" */
        /// documentation mentions doc_kind
        let route = "/records/\(kind)/routed_kind"
        let nested = "\(label("inner_kind"))"
        let raw = #"raw_kind.view"#
        let prose = "a sentence about prose_kind"
        let exact = "exact kind"
        let multi = """
            multi_kind
            """
        func insuredVehicles() {}
        """#
        let tokens = SwiftSourceTokens(source: sample)
        for present in ["routed_kind", "inner_kind", "raw_kind", "raw_kind.view", "multi_kind", "exact kind"] {
            #expect(tokens.literalMentions(present), "\(present) is in a literal")
        }
        for absent in ["commented_kind", "block_kind", "nested_kind", "nested_tail", "doc_kind", "prose_kind", "kind_", "routed"] {
            #expect(!tokens.literalMentions(absent), "\(absent) is not in a literal")
        }
        #expect(tokens.identifiers.contains("insuredVehicles") && tokens.identifiers.contains("label"))
        #expect(!tokens.identifiers.contains("commented_kind") && !tokens.identifiers.contains("prose_kind"))
        #expect(SwiftSourceTokens.identifierSpellings(of: "insured_vehicles").sorted() == ["insuredVehicles", "insured_vehicles"])

        // The real sources: the platform's own names are found, so a miss below means absence, not a blind scan.
        #expect(sourceFiles.count > 100, "the scan reads Sources/")
        for builtIn in ["invoices.view", "dashboard.view", "customer_data.edit", "italian_plate", "tax_id"] {
            #expect(!swiftUses(of: builtIn, asIdentifier: false).isEmpty, "the built-in \(builtIn) is found in Sources/")
        }
        #expect(!swiftUses(of: "record_kind", asIdentifier: true).isEmpty, "an identifier (recordKind) is found in Sources/")
    }

    @Test("no Swift source names the tenant, its features, record kinds, roles, custom fields or forms")
    func noSwiftSymbolOfItsOwn() throws {
        let definition = try provider(zeroSwiftTenantId)
        let names = OwnNames(definition)
        for (category, ids) in [("features", names.features), ("record kinds", names.recordKinds), ("roles", names.roles),
                                ("customer fields", names.customerFields), ("user fields", names.userFields)] {
            #expect(!ids.isEmpty, "the tenant defines \(category) of its own")
        }
        // Multi-word ids, the tenant id and the roles (Italian words) would be Swift identifiers only if written for it;
        // single English words (claims, premiums) may name unrelated Swift variables, so only their literals count.
        let distinctive = Set(names.tenant + names.roles).union(names.all.filter { $0.contains("_") })
        for id in Set(names.all).sorted() {
            let uses = swiftUses(of: id, asIdentifier: distinctive.contains(id))
            #expect(uses.isEmpty, "'\(id)' of \(zeroSwiftTenantId).yaml appears in Sources/: \(uses.joined(separator: ", "))")
        }
    }

    @Test("the tenant loads with no diagnostic at all and its own assertions pass")
    func loadsClean() throws {
        let result = TenantLoader(capabilities: .portal).load(files: [Self.yamlFile])
        #expect(result.diagnostics.isEmpty, "\(result.diagnostics.map(\.description).joined(separator: "\n"))")
        let loaded = try #require(result.tenants.first { $0.definition.id == zeroSwiftTenantId })
        let outcome = TenantTestRunner(tenant: loaded).run()
        #expect(outcome.assertions > 0)
        #expect(outcome.failures.isEmpty, "\(outcome.failures.map(\.description).joined(separator: "\n"))")
        // And with every other tenant, as `sportello validate tenants` reads them: nothing about this file.
        let all = try loadRepositoryTenants()
        #expect(all.tenants.contains { $0.definition.id == zeroSwiftTenantId })
        #expect(all.diagnostics.filter { $0.location.file.hasSuffix("/\(zeroSwiftTenantId).yaml") }.isEmpty)
    }

    @Test("demo data gives records of every kind that pass their fields, the own scope records to show, and policies to register with",
          arguments: TestEngine.available)
    func demoDataCoversEveryKind(engine: TestEngine) async throws {
        let definition = renamed(try provider(zeroSwiftTenantId), to: uniqueTenant(zeroSwiftTenantId))
        try await engine.withDatabase { database in
            let summary = try await DemoDataGenerator(tenant: definition, now: Self.now, hasher: BcryptPasswordHasher(cost: 4))
                .generate(into: database)
            #expect(Set(summary.logins.map(\.role)) == Set(definition.roles.keys), "a demo login for every role")
            let model = AuthorizationModel(definition)
            let context = FieldContext(locale: "it", defaultLocale: "it", today: CalendarDay(instant: Self.now))
            try await database.read(tenant: definition.id) { (t) async throws in
                let customers = try await t.customers()
                #expect(Set(customers.map(\.customerType)) == Set(definition.customerTypes.keys))
                var byKind: [String: [TenantRecord]] = [:]
                var usersById: [Int64: UserRecord] = [:]
                for customer in customers {
                    let customerId = try #require(customer.id)
                    for user in try await t.users(customerId: customerId) { if let id = user.id { usersById[id] = user } }
                    for kind in definition.recordKindsOwnersFirst {
                        byKind[kind, default: []] += try await t.records(RecordQuery(kind: kind, customerId: customerId, limit: 1000)).items
                    }
                }
                for (kindId, kind) in definition.recordKinds {
                    let records = byKind[kindId] ?? []
                    #expect(!records.isEmpty, "demo records of \(kindId)")
                    for record in records {
                        #expect(throws: Never.self, "\(kindId) \(record.externalId) passes its fields") {
                            try kind.validate(record.values, in: context).get()
                        }
                        if let ownerKind = kind.ownerKind {
                            let owner = try #require(record.ownerRecordId, "\(kindId) \(record.externalId) has an owner")
                            #expect((byKind[ownerKind] ?? []).contains { $0.id == owner && $0.customerId == record.customerId })
                        }
                    }
                    // Users limited to their own records (the `own` scope) find some assigned to them.
                    for (roleId, _) in definition.roles {
                        let principal = try model.principal(role: roleId, toggles: [], customerType: nil)
                        guard kind.scope(for: principal, in: model) == .own else { continue }
                        let assigned = records.filter { record in record.userId.flatMap { usersById[$0]?.role } == roleId }
                        #expect(!assigned.isEmpty, "a \(roleId) has \(kindId) of their own to see")
                    }
                    if let chart = kind.chart, let customerId = records.first?.customerId {
                        let sums = try await t.recordSums(RecordQuery(kind: kindId, customerId: customerId), chart: chart, of: kind)
                        #expect(!sums.isEmpty, "the \(kindId) chart has data")
                    }
                }
                // Registration matches `policies.policy_number`: a customer nobody has registered yet is found by the
                // number of one of its policies, typed as a person would.
                let registered = Set(usersById.values.map(\.customerId))
                let unregistered = try #require(customers.first { !registered.contains($0.id ?? -1) })
                let policy = try #require(byKind["policies"]?.first { $0.customerId == unregistered.id })
                let match = try #require(definition.recordMatchField("policies.policy_number"))
                let spaced = String(policy.externalId.prefix(2)) + " " + String(policy.externalId.dropFirst(2)).lowercased()
                let canonical = try match.canonical(spaced, in: context).get()
                #expect(try await t.customers(withRecordOf: "policies", field: "policy_number", equalTo: canonical) == [try #require(unregistered.id)])
            }
        }
    }

    @Test("the portal serves it with the default templates: login, its logo, and every demo user's home page", arguments: TestEngine.available)
    func servesWithDefaultTemplates(engine: TestEngine) async throws {
        try await PortalHarness.with(engine: engine, tenant: zeroSwiftTenantId) { portal in
            let summary = try await DemoDataGenerator(tenant: portal.definition, now: Self.now, hasher: BcryptPasswordHasher(cost: 4))
                .generate(into: portal.database)
            try await portal.test { browser in
                let login = try await browser.get("/login")
                #expect(login.status == .ok && login.body.contains("Assicurazioni Esempio Vela"))
                let logo = try await browser.get("/static/logo.svg")
                #expect(logo.status == .ok && logo.body.contains("Esempio Vela"), "the tenant's own logo from templates/vela/static")
            }
            for demo in summary.logins {
                try await portal.test { browser in
                    try await browser.logIn(demo.username, DemoDataGenerator.password)
                    let home = try await browser.get("/")
                    #expect(home.status == .ok, "\(demo.role): the home page opens")
                    let label = try #require(portal.definition.roles[demo.role]).label.resolve("it")
                    #expect(home.body.contains(label), "\(demo.role): the role's name is shown")
                }
            }
        }
    }
}
