import Foundation
import SportelloCore

/// A page template that could not be parsed, with its 1-based line and column.
public struct PageTemplateError: Error, CustomStringConvertible, Equatable {
    public var line: Int
    public var column: Int
    public var reason: String
    public var description: String { "\(line):\(column): \(reason)" }
}

/// The portal's page templates, compiled once at load.
///
/// The syntax and whitespace rules are swift-mustache's (which the mail templates still use): variables,
/// `{{{raw}}}` and `{{&raw}}`, sections and inverted sections, comments, partials with their indentation,
/// parents `{{<layout}}` with blocks `{{$main}}`, and delimiter changes. What makes a page cheap to render:
/// names are split into paths when the template is parsed, and values are recognised by their exact
/// type (`String`, `Bool`, `[String: Any]`…) instead of by protocol casts on every tag. Transforms,
/// lambdas and dynamic partials are not supported and are refused at load.
struct PageTemplateLibrary: Sendable {
    private var templates: [String: PageTemplate] = [:]

    /// Parses `source` and registers it under `name`, replacing a template of the same name.
    mutating func register(_ source: String, named name: String) throws(PageTemplateError) {
        templates[name] = try PageTemplate(source)
    }

    /// Partials and parents that templates name but the library does not have.
    func missingPartials() -> [(template: String, partial: String)] {
        templates.sorted { $0.key < $1.key }.flatMap { name, template in
            template.partialNames.filter { templates[$0] == nil }.sorted().map { (template: name, partial: $0) }
        }
    }

    /// Renders the template `name` with `data` as the root of the context stack (and `layout` under it, so
    /// the page's own values win); nil when there is no such template.
    func render(_ data: TemplateData, layout: TemplateData? = nil, withTemplate name: String) -> String? {
        guard let template = templates[name] else { return nil }
        var renderer = PageRenderer(library: templates, stack: layout.map { [$0, data] } ?? [data])
        renderer.render(template.nodes, blocks: nil, indentation: nil)
        return renderer.output
    }
}

/// A template's parsed nodes.
struct PageTemplate: Sendable {
    let nodes: [PageTemplateNode]

    init(_ source: String) throws(PageTemplateError) {
        var parser = PageTemplateParser(source)
        nodes = try parser.parseTemplate()
    }

    /// Every partial and parent named anywhere in the template.
    var partialNames: Set<String> {
        var names: Set<String> = []
        func visit(_ nodes: [PageTemplateNode]) {
            for node in nodes {
                switch node {
                case .text, .variable: break
                case .section(_, let body, _): visit(body)
                case .partial(let name, _, let blocks):
                    names.insert(name)
                    blocks?.values.forEach(visit)
                case .block(_, let body, _): visit(body)
                }
            }
        }
        visit(nodes)
        return names
    }
}

/// A name as a template writes it: `.` (the current value), `a.b.c`, or `.a` (only the current value's child).
struct TemplateName: Sendable {
    let parts: [String]
    let anchored: Bool

    init(_ text: String) {
        anchored = text.count > 1 && text.hasPrefix(".")
        parts = text == "." ? [] : text.split(separator: ".").map(String.init)
    }
}

indirect enum PageTemplateNode: Sendable {
    case text(String)
    case variable(TemplateName, escaped: Bool)
    case section(TemplateName, body: [PageTemplateNode], inverted: Bool)
    /// A partial, or a parent when `blocks` holds the block bodies it overrides.
    case partial(String, indentation: String?, blocks: [String: [PageTemplateNode]]?)
    /// A block a parent offers: its default body unless the child overrides it.
    case block(String, body: [PageTemplateNode], indentation: String?)
}

// MARK: - Parsing

/// Mustache's parser, over UTF-8 bytes, following swift-mustache's rules for standalone lines so that
/// pages keep their whitespace exactly.
private struct PageTemplateParser {
    private let bytes: [UInt8]
    private var position = 0

    init(_ source: String) { bytes = Array(source.utf8) }

    private struct State {
        var sectionName: String?
        /// Where the open section's tag starts, for the error when it is never closed.
        var openedAt = 0
        var newLine = true
        var insideParent = false
        var parentTopLevel = false
        var parentIndent: Int?
        var start: [UInt8] = Array("{{".utf8)
        var end: [UInt8] = Array("}}".utf8)

        func entering(section name: String, at position: Int, newLine keep: Bool) -> State {
            var state = self
            state.sectionName = name
            state.openedAt = position
            state.parentTopLevel = false
            if !keep { state.newLine = false }
            return state
        }

        func entering(parent name: String, at position: Int) -> State {
            var state = self
            state.sectionName = name
            state.openedAt = position
            state.newLine = true
            state.insideParent = true
            state.parentTopLevel = true
            return state
        }
    }

    /// An intermediate token: block definitions only appear inside a parent.
    private enum Token {
        case node(PageTemplateNode)
        case blockDefinition(String, [PageTemplateNode])
    }

    mutating func parseTemplate() throws(PageTemplateError) -> [PageTemplateNode] {
        try nodes(of: parse(State()))
    }

    private func nodes(of tokens: [Token]) throws(PageTemplateError) -> [PageTemplateNode] {
        var nodes: [PageTemplateNode] = []
        for token in tokens {
            switch token {
            case .node(let node): nodes.append(node)
            case .blockDefinition: throw error("a block definition outside a parent")
            }
        }
        return nodes
    }

    private var atEnd: Bool { position >= bytes.count }
    private var current: UInt8 { position < bytes.count ? bytes[position] : 0 }

    private func isNewline(at index: Int) -> Bool {
        guard index < bytes.count else { return false }
        return bytes[index] == 0x0A || (bytes[index] == 0x0D && index + 1 < bytes.count && bytes[index + 1] == 0x0A)
    }

    /// The newline at `position`: one byte, or two for `\r\n`.
    private var newlineLength: Int { bytes[position] == 0x0D ? 2 : 1 }

    private func text(_ range: Range<Int>) -> String { String(decoding: bytes[range], as: UTF8.self) }

    private func error(_ reason: String, at index: Int? = nil) -> PageTemplateError {
        let index = min(index ?? position, bytes.count)
        var line = 1, lineStart = 0
        for (offset, byte) in bytes[..<index].enumerated() where byte == 0x0A {
            line += 1
            lineStart = offset + 1
        }
        let column = String(decoding: bytes[lineStart..<index], as: UTF8.self).count + 1
        return PageTemplateError(line: line, column: column, reason: reason)
    }

    private mutating func skip(while predicate: (UInt8) -> Bool) -> Range<Int> {
        let start = position
        while position < bytes.count, predicate(bytes[position]) { position += 1 }
        return start..<position
    }

    private static func isSpaceOrTab(_ byte: UInt8) -> Bool { byte == 0x20 || byte == 0x09 }
    private static func isWhitespace(_ byte: UInt8) -> Bool { byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D }
    private static func isNameByte(_ byte: UInt8) -> Bool {
        switch byte {
        case 0x30...0x39, 0x41...0x5A, 0x61...0x7A, 0x2E, 0x2D, 0x5F, 0x3F, 0x2A, 0x28, 0x29: true  // 0-9 A-Z a-z . - _ ? * ( )
        default: false
        }
    }

    private mutating func read(_ literal: [UInt8]) -> Bool {
        guard position + literal.count <= bytes.count, bytes[position..<position + literal.count].elementsEqual(literal) else { return false }
        position += literal.count
        return true
    }

    /// Text up to a newline (left in place) or the opening delimiter (consumed).
    private mutating func readText(_ state: State) -> Range<Int> {
        let start = position
        while position < bytes.count {
            if isNewline(at: position) { return start..<position }
            if bytes[position] == state.start[0], position + state.start.count <= bytes.count,
               bytes[position..<position + state.start.count].elementsEqual(state.start) {
                let range = start..<position
                position += state.start.count
                return range
            }
            position += 1
        }
        return start..<position
    }

    private mutating func readName(_ state: State) throws(PageTemplateError) -> String {
        _ = skip(while: Self.isWhitespace)
        let start = position
        let name = text(skip(while: Self.isNameByte))
        _ = skip(while: Self.isWhitespace)
        guard read(state.end) else {
            throw error("the tag is not closed with `\(String(decoding: state.end, as: UTF8.self))` (names use letters, digits and . - _ ?)")
        }
        if name.contains("(") || name.contains(")") {
            throw error("transforms such as `\(name)` are not supported in page templates", at: start)
        }
        if name.isEmpty { throw error("a tag without a name", at: start) }
        return name
    }

    private mutating func readPartialName(_ state: State) throws(PageTemplateError) -> String {
        _ = skip(while: Self.isWhitespace)
        let start = position
        let name = text(skip { Self.isNameByte($0) || $0 == 0x2F })
        _ = skip(while: Self.isWhitespace)
        guard read(state.end) else { throw error("the partial's tag is not closed") }
        if name.hasPrefix("*") { throw error("dynamic partials are not supported in page templates", at: start) }
        if name.isEmpty { throw error("a partial without a name", at: start) }
        return name
    }

    /// At the end of the template, or only spaces and tabs up to a newline: consumes them and the newline.
    private mutating func lineFinished() -> Bool {
        if atEnd { return true }
        var probe = position
        while probe < bytes.count, Self.isSpaceOrTab(bytes[probe]) { probe += 1 }
        guard isNewline(at: probe) else { return false }
        position = probe + (bytes[probe] == 0x0D ? 2 : 1)
        return true
    }

    private mutating func standalone(_ state: State) -> Bool { state.newLine && lineFinished() }

    private mutating func parse(_ initial: State) throws(PageTemplateError) -> [Token] {
        var tokens: [Token] = []
        var state = initial
        var whitespaceBefore = ""
        func appendText(_ string: String) { tokens.append(.node(.text(string))) }
        while !atEnd {
            if state.newLine {
                let whitespace = text(skip(while: Self.isSpaceOrTab))
                if state.insideParent, !state.parentTopLevel {
                    if let indent = state.parentIndent {
                        whitespaceBefore = String(whitespace.dropFirst(indent))
                    } else {
                        state.parentIndent = whitespace.count
                    }
                } else {
                    whitespaceBefore = whitespace
                }
            }
            let run = readText(state)
            if isNewline(at: position) {
                let length = newlineLength
                appendText(whitespaceBefore + text(run) + text(position..<position + length))
                state.newLine = true
                position += length
                continue
            }
            if !run.isEmpty {
                appendText(whitespaceBefore + text(run))
                whitespaceBefore = ""
                state.newLine = false
            }
            if atEnd { break }
            let tagPosition = position - state.start.count
            var setNewLine = false
            switch current {
            case UInt8(ascii: "#"), UInt8(ascii: "^"):
                let inverted = current == UInt8(ascii: "^")
                position += 1
                let name = try readName(state)
                if standalone(state) {
                    setNewLine = true
                } else if !whitespaceBefore.isEmpty {
                    appendText(whitespaceBefore)
                    whitespaceBefore = ""
                }
                let body = try nodes(of: parse(state.entering(section: name, at: tagPosition, newLine: setNewLine)))
                tokens.append(.node(.section(TemplateName(name), body: body, inverted: inverted)))

            case UInt8(ascii: "/"):
                position += 1
                let nameStart = position
                let name = try readName(state)
                guard name == state.sectionName else {
                    throw error(state.sectionName.map { "`{{/\(name)}}` closes a section, but `\($0)` is the one open" }
                                ?? "`{{/\(name)}}` closes a section that is not open", at: nameStart)
                }
                if !standalone(state), !whitespaceBefore.isEmpty { appendText(whitespaceBefore) }
                return tokens

            case UInt8(ascii: "!"):
                position += 1
                var closed = false
                while !atEnd, !closed {
                    closed = read(state.end)
                    if !closed { position += 1 }
                }
                if !closed { throw error("the comment is not closed", at: tagPosition) }
                setNewLine = standalone(state)

            case UInt8(ascii: "{"), UInt8(ascii: "&"):
                let triple = current == UInt8(ascii: "{")
                if !whitespaceBefore.isEmpty {
                    appendText(whitespaceBefore)
                    whitespaceBefore = ""
                }
                position += 1
                let name = try readName(state)
                if triple, !read(Array("}".utf8)) { throw error("`{{{\(name)` needs three closing braces") }
                tokens.append(.node(.variable(TemplateName(name), escaped: false)))

            case UInt8(ascii: ">"):
                position += 1
                let name = try readPartialName(state)
                if !whitespaceBefore.isEmpty { appendText(whitespaceBefore) }
                let indentation: String? = standalone(state) ? whitespaceBefore : nil
                setNewLine = indentation != nil
                tokens.append(.node(.partial(name, indentation: indentation, blocks: nil)))
                whitespaceBefore = ""

            case UInt8(ascii: "<"):
                position += 1
                let name = try readPartialName(state)
                if !whitespaceBefore.isEmpty { appendText(whitespaceBefore) }
                setNewLine = standalone(state)
                var blocks: [String: [PageTemplateNode]] = [:]
                for token in try parse(state.entering(parent: name, at: tagPosition)) {
                    switch token {
                    case .blockDefinition(let block, let body): blocks[block] = body
                    case .node(.text): break
                    case .node: throw error("only blocks (`{{$name}}…{{/name}}`) may stand inside the parent `{{<\(name)}}`", at: tagPosition)
                    }
                }
                tokens.append(.node(.partial(name, indentation: whitespaceBefore, blocks: blocks)))
                whitespaceBefore = ""

            case UInt8(ascii: "$"):
                position += 1
                let name = try readName(state)
                if state.parentTopLevel {
                    setNewLine = standalone(state)
                    let body = try nodes(of: parse(state.entering(section: name, at: tagPosition, newLine: setNewLine)))
                    tokens.append(.blockDefinition(name, body))
                } else {
                    if !whitespaceBefore.isEmpty { appendText(whitespaceBefore) }
                    setNewLine = standalone(state)
                    let body = try nodes(of: parse(state.entering(section: name, at: tagPosition, newLine: setNewLine)))
                    tokens.append(.node(.block(name, body: body, indentation: whitespaceBefore)))
                    whitespaceBefore = ""
                }

            case UInt8(ascii: "="):
                position += 1
                _ = skip(while: Self.isWhitespace)
                let opening = Array(bytes[skip { !Self.isWhitespace($0) }])
                _ = skip(while: Self.isWhitespace)
                let closing = Array(bytes[skip { !Self.isWhitespace($0) && $0 != UInt8(ascii: "=") }])
                _ = skip(while: Self.isWhitespace)
                guard !opening.isEmpty, !closing.isEmpty, read(Array("=".utf8)), read(state.end) else {
                    throw error("a delimiter change is written `{{=<% %>=}}`", at: tagPosition)
                }
                state.start = opening
                state.end = closing
                state.parentTopLevel = false
                setNewLine = standalone(state)

            case UInt8(ascii: "%"):
                position += 1
                _ = skip(while: Self.isWhitespace)
                let pragma = text(skip { $0 != UInt8(ascii: "}") && $0 != state.end[0] })
                guard read(state.end) else { throw error("the pragma is not closed", at: tagPosition) }
                let parts = pragma.split(separator: ":").map { $0.trimmingCharacters(in: .whitespaces) }
                guard parts.count == 2, parts[0] == "CONTENT_TYPE", parts[1] == "HTML" else {
                    throw error("pages are always HTML; the only pragma allowed is `{{% CONTENT_TYPE: HTML}}`", at: tagPosition)
                }
                setNewLine = standalone(state)

            default:
                if !whitespaceBefore.isEmpty {
                    appendText(whitespaceBefore)
                    whitespaceBefore = ""
                }
                let name = try readName(state)
                tokens.append(.node(.variable(TemplateName(name), escaped: true)))
            }
            state.newLine = setNewLine
        }
        if let open = initial.sectionName { throw error("`\(open)` is opened here but never closed with `{{/\(open)}}`", at: initial.openedAt) }
        return tokens
    }
}

// MARK: - Rendering

/// One rendering: the output so far and the context stack.
private struct PageRenderer {
    let library: [String: PageTemplate]
    var output = ""
    var stack: [TemplateData]

    init(library: [String: PageTemplate], stack: [TemplateData]) {
        self.library = library
        self.stack = stack
        output.reserveCapacity(8192)
    }

    mutating func render(_ nodes: [PageTemplateNode], blocks: [String: [PageTemplateNode]]?, indentation: String?) {
        guard let indentation, !indentation.isEmpty else {
            for node in nodes { render(node, blocks: blocks, indentation: indentation) }
            return
        }
        // Inside an indented partial: every piece that starts a new line gets the indentation first.
        // `output` is moved aside, not copied: appending to `outer` afterwards extends its buffer in place.
        var outer = output
        output = ""
        var local = ""
        for node in nodes {
            output.removeAll(keepingCapacity: true)
            render(node, blocks: blocks, indentation: indentation)
            if !output.isEmpty, local.utf8.last == 0x0A { local += indentation }
            local += output
        }
        outer += local
        output = outer
    }

    private mutating func render(_ node: PageTemplateNode, blocks: [String: [PageTemplateNode]]?, indentation: String?) {
        switch node {
        case .text(let text):
            output += text
        case .variable(let name, let escaped):
            guard let value = lookUp(name) else { return }
            if case .text(let text) = value {
                output += escaped ? HTMLEscaping.escape(text) : text
            } else {
                output += escaped ? HTMLEscaping.escape(value.printed) : value.printed
            }
        case .section(let name, let body, let inverted):
            let value = lookUp(name)
            if inverted {
                switch value {
                case nil, .bool(false)?: render(body, blocks: blocks, indentation: indentation)
                case .list(let items)? where items.isEmpty:
                    stack.append(value!)
                    render(body, blocks: blocks, indentation: indentation)
                    stack.removeLast()
                default: break
                }
                return
            }
            guard let value else { return }
            switch value {
            case .bool(false), .null: break
            case .bool(true): render(body, blocks: blocks, indentation: indentation)
            case .list(let items):
                for item in items {
                    stack.append(item)
                    render(body, blocks: blocks, indentation: indentation)
                    stack.removeLast()
                }
            case .text, .object:
                stack.append(value)
                render(body, blocks: blocks, indentation: indentation)
                stack.removeLast()
            }
        case .partial(let name, let partialIndentation, let overrides):
            guard let template = library[name] else { return }
            let indentation = partialIndentation.map { (indentation ?? "") + $0 } ?? indentation
            // The outermost override of a block wins: a child's blocks replace its parent's.
            var inherited = blocks
            if let overrides {
                inherited = (blocks ?? [:]).merging(overrides) { outer, _ in outer }
            }
            render(template.nodes, blocks: inherited, indentation: indentation)
        case .block(let name, let body, let blockIndentation):
            let indentation = blockIndentation.map { (indentation ?? "") + $0 } ?? indentation
            render(blocks?[name] ?? body, blocks: blocks, indentation: indentation)
        }
    }

    /// Finds the first value on the stack, from the top, that has the name's first part, then walks the rest.
    private func lookUp(_ name: TemplateName) -> TemplateData? {
        guard let first = name.parts.first else { return stack.last }
        var value: TemplateData
        if name.anchored {
            guard let child = stack.last?.child(first) else { return nil }
            value = child
        } else {
            var found: TemplateData?
            for object in stack.reversed() {
                if let child = object.child(first) {
                    found = child
                    break
                }
            }
            guard let found else { return nil }
            value = found
        }
        for part in name.parts.dropFirst() {
            guard let child = value.child(part) else { return nil }
            value = child
        }
        return value
    }
}
