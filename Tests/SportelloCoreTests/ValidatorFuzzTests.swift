import Foundation
import Testing
@testable import SportelloCore

/// Seeded randomness (SplitMix64), so a failing document can be rebuilt from the seed printed with the failure.
private struct FuzzRandom {
    private var generator: SplitMix64

    init(seed: UInt64) { generator = SplitMix64(seed: seed) }

    mutating func next() -> UInt64 { generator.next() }

    /// A number in `0..<bound` (bound > 0).
    mutating func below(_ bound: Int) -> Int { Int(next() % UInt64(bound)) }

    mutating func chance(_ percent: Int) -> Bool { below(100) < percent }

    mutating func pick<T>(_ items: [T]) -> T { items[below(items.count)] }
}

/// One way of breaking a document. `breaksYAML` is true when the result can never be valid YAML.
private enum Mutation: CaseIterable {
    case deleteLine, duplicateLine, swapLines, moveLine, reindent, insertTab, insertPunctuation, truncate,
         replaceScalar, flipByte, insertScalar, appendUnclosedFlow

    var breaksYAML: Bool { self == .appendUnclosedFlow }

    /// Weighted so that about half the documents stay YAML and reach the schema and semantic checks.
    static let weighted: [Mutation] = [
        .deleteLine, .deleteLine, .deleteLine, .duplicateLine, .duplicateLine, .swapLines, .swapLines, .moveLine,
        .reindent, .reindent, .insertTab, .insertPunctuation, .insertPunctuation, .truncate,
        .replaceScalar, .replaceScalar, .replaceScalar, .replaceScalar, .replaceScalar, .replaceScalar,
        .flipByte, .flipByte, .insertScalar, .appendUnclosedFlow,
    ]
}

/// Seeded, line-oriented mutations of a YAML document.
private struct Mutator {
    var random: FuzzRandom
    var log: [String] = []

    static let punctuation = [":", ": ", "[", "]", "{", "}", "\"", "'", "- ", "#", "&a ", "*a", "!!", "|", ">", "%", "@", "`", ",", "? ", "---", "...", "\\"]
    static let junk = [
        "", "~", "null", "yes", "no", "on", "true", "[]", "{}", "[[[", "}}", "-1", "0", "-0", "007", "0x7fffffffffffffff",
        "9223372036854775807", "-9223372036854775808", "99999999999999999999", "1e400", "NaN", ".inf", "3.14",
        "\"unterminated", "'single", "\"\"", "\"\\u00e9\\x\"", "é", "日本語", "🙂", "\u{200B}", "\u{FEFF}", "a: b: c", "- - -",
        "&anchor value", "*missing_alias", "!!binary AAAA", "!tag x", "<<: *x", "%YAML", "30 days", "24", "mo", "-5d",
        "#0a3d91", "UPPER.case", "with space", "dot..dot", "trailing.", "a,b,c", "{a: 1, b: [2, 3]}", "[x, {y: z}]",
    ]

    init(seed: UInt64) { random = FuzzRandom(seed: seed) }

    mutating func hugeText() -> String {
        let piece = random.pick(["x", "é", "9", "ab ", "[", "{a: "])
        return String(repeating: piece, count: 1000 + random.below(4000))
    }

    mutating func junkScalar() -> String {
        switch random.below(10) {
        case 0: return hugeText()
        case 1: return String(repeating: "9", count: 19 + random.below(40))
        case 2:
            let scalars = (0..<(1 + random.below(12))).map { _ in randomScalar() }
            return String(String.UnicodeScalarView(scalars))
        default: return random.pick(Self.junk)
        }
    }

    /// Any Unicode scalar, weighted towards ASCII and the characters YAML cares about; never a surrogate.
    mutating func randomScalar() -> Unicode.Scalar {
        switch random.below(6) {
        case 0: return Unicode.Scalar(UInt8(random.below(0x20)))                    // control characters, NUL included
        case 1: return Unicode.Scalar(UInt32(0x80 + random.below(0x780)))!           // Latin and friends
        case 2: return random.pick(["\u{FEFF}", "\u{2028}", "\u{85}", "\u{A0}", "\u{1F600}", "\u{FFFD}", "\u{10FFFF}"])
        default: return Unicode.Scalar(UInt8(0x20 + random.below(0x5F)))              // printable ASCII
        }
    }

    mutating func apply(_ mutation: Mutation, to text: String) -> String {
        var lines = text.components(separatedBy: "\n")
        let index = random.below(max(lines.count, 1))
        func column(in line: String) -> String.Index {
            line.index(line.startIndex, offsetBy: random.below(line.count + 1))
        }
        switch mutation {
        case .deleteLine:
            log.append("delete line \(index + 1)")
            lines.remove(at: index)
        case .duplicateLine:
            log.append("duplicate line \(index + 1)")
            lines.insert(lines[index], at: index)
        case .swapLines:
            let other = random.chance(50) ? min(index + 1, lines.count - 1) : random.below(lines.count)
            log.append("swap lines \(index + 1) and \(other + 1)")
            lines.swapAt(index, other)
        case .moveLine:
            let line = lines.remove(at: index)
            let target = random.below(lines.count + 1)
            log.append("move line \(index + 1) to \(target + 1)")
            lines.insert(line, at: target)
        case .reindent:
            let delta = random.pick([-4, -2, -1, 1, 2, 3, 6])
            log.append("reindent line \(index + 1) by \(delta)")
            if delta > 0 {
                lines[index] = String(repeating: " ", count: delta) + lines[index]
            } else {
                let spaces = lines[index].prefix { $0 == " " }.count
                lines[index] = String(lines[index].dropFirst(min(spaces, -delta)))
            }
        case .insertTab:
            let atStart = random.chance(60)
            log.append("insert tab in line \(index + 1)\(atStart ? " indentation" : "")")
            if atStart {
                lines[index] = "\t" + lines[index]
            } else {
                lines[index].insert("\t", at: column(in: lines[index]))
            }
        case .insertPunctuation:
            let mark = random.pick(Self.punctuation)
            log.append("insert \(mark.debugDescription) in line \(index + 1)")
            lines[index].insert(contentsOf: mark, at: column(in: lines[index]))
        case .truncate:
            let scalars = Array(text.unicodeScalars)
            let cut = random.below(scalars.count + 1)
            log.append("truncate at scalar \(cut) of \(scalars.count)")
            return String(String.UnicodeScalarView(scalars[..<cut]))
        case .replaceScalar:
            let candidates = lines.indices.filter { lines[$0].contains(": ") && !lines[$0].trimmingCharacters(in: .whitespaces).hasPrefix("#") }
            guard let target = candidates.isEmpty ? nil : random.pick(candidates) else { return text }
            let line = lines[target]
            let colon = line.range(of: ": ", options: random.chance(50) ? [] : .backwards)!
            let value = junkScalar()
            log.append("replace value in line \(target + 1) with \(value.count > 30 ? "\(value.count) characters" : value.debugDescription)")
            lines[target] = String(line[..<colon.upperBound]) + value
        case .flipByte:
            // Flip one bit of an ASCII byte, staying below 0x80 so the text remains valid UTF-8.
            var bytes = Array(text.utf8)
            let ascii = bytes.indices.filter { bytes[$0] < 0x80 }
            guard !ascii.isEmpty else { return text }
            let position = random.pick(ascii)
            let bit = UInt8(1) << UInt8(random.below(7))
            log.append("flip bit \(bit) of byte \(position)")
            bytes[position] ^= bit
            return String(decoding: bytes, as: UTF8.self)
        case .insertScalar:
            let scalar = randomScalar()
            log.append("insert U+\(String(scalar.value, radix: 16, uppercase: true)) in line \(index + 1)")
            lines[index].insert(Character(scalar), at: column(in: lines[index]))
        case .appendUnclosedFlow:
            log.append("append an unclosed flow list")
            return text + "\nzzz_unclosed: [a, b\n"
        }
        return lines.joined(separator: "\n")
    }
}

@Suite("Validator fuzz")
struct ValidatorFuzzTests {
    static let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static let definitionFiles: [String] = {
        let directory = repositoryRoot.appendingPathComponent("tenants")
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        return names.filter { $0.hasSuffix(".yaml") }.sorted()
    }()

    /// At least 2,100 documents in all, however many definition files there are.
    static var documentsPerFile: Int { (2_100 + definitionFiles.count - 1) / max(definitionFiles.count, 1) }
    static let baseSeed: UInt64 = 0x5EED_5017_E110_0001

    static func read(_ name: String) throws -> String {
        try String(contentsOf: repositoryRoot.appendingPathComponent("tenants").appendingPathComponent(name), encoding: .utf8)
    }

    static func fragmentName(in text: String) -> String? {
        text.components(separatedBy: "\n").first { $0.hasPrefix("fragment:") }
            .map { $0.dropFirst("fragment:".count).split(separator: "#").first?.trimmingCharacters(in: .whitespaces) ?? "" }
    }

    /// Lines as YAML counts them: CR, LF, CR LF, NEL, LS and PS all end a line (editors may disagree on the last three).
    static func yamlLineCount(_ text: String) -> Int {
        var count = 1
        var previous: Unicode.Scalar?
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\n": if previous != "\r" { count += 1 }
            case "\r", "\u{85}", "\u{2028}", "\u{2029}": count += 1
            default: break
            }
            previous = scalar
        }
        return count
    }

    @Test("the repository has definitions to fuzz")
    func definitionsExist() {
        #expect(Self.definitionFiles.count >= 2)
        #expect(Self.definitionFiles.count * Self.documentsPerFile >= 2_000)
    }

    @Test("malformed definitions never crash or hang the loader and always get located diagnostics",
          .timeLimit(.minutes(2)), arguments: definitionFiles)
    func fuzz(_ name: String) async throws {
        // A mutated tenant is loaded with the fragments it may extend; a mutated fragment with the smallest tenant
        // that extends it, so the fragment is merged, walked and validated too.
        let all = try Self.definitionFiles.map { (file: "tenants/\($0)", text: try Self.read($0)) }
        let original = try #require(all.first { $0.file == "tenants/\(name)" })
        let fragmentName = Self.fragmentName(in: original.text)
        let companions = all.filter { $0.file != original.file }.filter { source in
            if let fragmentName {
                return Self.fragmentName(in: source.text) == nil && source.text.contains("extends:") && source.text.contains(fragmentName)
            }
            return Self.fragmentName(in: source.text) != nil
        }.sorted { $0.text.count < $1.text.count }.prefix(fragmentName == nil ? Int.max : 1)
        let originals = [original] + companions
        let target = 0
        let loader = TenantLoader(capabilities: .portal, knownPlugins: ["sap-billing", "usage-feed", "payments"])
        let clock = ContinuousClock()
        let fileSeed = Self.baseSeed ^ UInt64(truncatingIfNeeded: name.utf8.reduce(5381) { ($0 &* 33) &+ Int($1) }) << 20
        var slowest: Duration = .zero
        var invalidYAML = 0
        let started = clock.now

        for document in 0..<Self.documentsPerFile {
            // Seconds of parsing in a row would hold a cooperative thread (two on a 2-core machine) from the suites
            // running beside this one, whose timers then fire late.
            await Task.yield()
            let seed = fileSeed &+ UInt64(document)
            var mutator = Mutator(seed: seed)
            var text = originals[target].text
            var mustFail = false
            let count = mutator.random.pick([1, 1, 1, 1, 1, 1, 2, 2, 2, 3])
            for _ in 0..<count {
                let mutation = mutator.random.pick(Mutation.weighted)
                text = mutator.apply(mutation, to: text)
                mustFail = mutation.breaksYAML
            }
            let context = ("\(name) document \(document) (seed 0x\(String(seed, radix: 16))): \(mutator.log.joined(separator: "; "))")

            var sources = originals
            sources[target].text = text
            let loadStart = clock.now
            let result = loader.load(sources: sources)
            let elapsed = clock.now - loadStart
            slowest = max(slowest, elapsed)
            #expect(elapsed < .seconds(2), "\(context): load took \(elapsed)")

            let lineCounts = Dictionary(uniqueKeysWithValues: sources.map { ($0.file, Self.yamlLineCount($0.text)) })
            for diagnostic in result.diagnostics {
                let lines = lineCounts[diagnostic.location.file]
                #expect(lines != nil, "\(context): diagnostic for a file that was not loaded: \(diagnostic)")
                #expect(diagnostic.location.line >= 1 && diagnostic.location.column >= 1, "\(context): \(diagnostic)")
                #expect(diagnostic.location.line <= (lines ?? 0) + 1, "\(context): line past the end of the file: \(diagnostic)")
                #expect(!diagnostic.message.isEmpty, "\(context): \(diagnostic.code) has no message")
                #expect(!diagnostic.code.isEmpty, "\(context): \(diagnostic) has no code")
            }

            // Whether the text is YAML at all, decided by the parser alone; the loader must then report it.
            var bag = DiagnosticBag()
            let parses = ConfigParser.parse(text, file: sources[target].file, diagnostics: &bag) != nil
            if !parses { invalidYAML += 1 }
            let errorsInTarget = result.errors.filter { $0.location.file == sources[target].file }
            if !parses || mustFail {
                #expect(!parses, "\(context): an unclosed flow list was accepted as YAML")
                #expect(!errorsInTarget.isEmpty, "\(context): invalid YAML but no error")
            }
            if !errorsInTarget.isEmpty {
                #expect(!result.tenants.contains { $0.file == sources[target].file }, "\(context): a tenant with errors was still loaded")
            }
        }
        let total = clock.now - started
        print("fuzz \(name) with \(originals.dropFirst().map(\.file)): \(Self.documentsPerFile) documents, \(invalidYAML) not YAML, total \(total), slowest \(slowest)")
    }
}

