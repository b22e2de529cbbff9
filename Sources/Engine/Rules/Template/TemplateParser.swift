/// Turns template source (UTF-8 bytes) into ``TemplateNode``s.
///
/// Works on bytes: every delimiter Cortex accepts is ASCII, so cutting the source at a delimiter
/// never splits a character, and the text between tags is copied through unchanged.
struct TemplateParser {
    private let source: [UInt8]
    private let maximumDepth: Int
    private var index = 0
    /// Where the current source line starts, for standalone-tag detection.
    private var lineStart = 0
    private var open = Array("{{".utf8)
    private var close = Array("}}".utf8)

    /// Open sections, innermost last, each with the nodes gathered so far.
    private var stack: [(path: [String], inverted: Bool, offset: Int, children: [TemplateNode])] = []
    private var nodes: [TemplateNode] = []
    private var text: [UInt8] = []

    init(source: [UInt8], maximumDepth: Int) {
        self.source = source
        self.maximumDepth = maximumDepth
    }

    mutating func parse() throws(TemplateError) -> [TemplateNode] {
        while index < source.count {
            guard let tagStart = find(open, from: index) else {
                appendText(upTo: source.count)
                break
            }
            appendText(upTo: tagStart)
            try parseTag(at: tagStart)
        }
        flushText()
        if let unclosed = stack.last {
            throw .invalid("section \"\(unclosed.path.joined(separator: "."))\" is never closed", at: unclosed.offset)
        }
        return nodes
    }

    // MARK: - Tags

    private enum Sigil {
        case variable(escaped: Bool), section, inverted, close, comment, partial, delimiters
    }

    private mutating func parseTag(at tagStart: Int) throws(TemplateError) {
        var cursor = tagStart + open.count
        var sigil = Sigil.variable(escaped: true)
        var closing = close
        if cursor < source.count {
            switch source[cursor] {
            case UInt8(ascii: "{"): sigil = .variable(escaped: false); closing = Array("}".utf8) + close; cursor += 1
            case UInt8(ascii: "&"): sigil = .variable(escaped: false); cursor += 1
            case UInt8(ascii: "#"): sigil = .section; cursor += 1
            case UInt8(ascii: "^"): sigil = .inverted; cursor += 1
            case UInt8(ascii: "/"): sigil = .close; cursor += 1
            case UInt8(ascii: "!"): sigil = .comment; cursor += 1
            case UInt8(ascii: ">"): sigil = .partial; cursor += 1
            case UInt8(ascii: "="): sigil = .delimiters; closing = Array("=".utf8) + close; cursor += 1
            default: break
            }
        }
        guard let contentEnd = find(closing, from: cursor) else {
            throw .invalid("a tag is never closed", at: tagStart)
        }
        let content = trimmed(source[cursor..<contentEnd])
        index = contentEnd + closing.count

        if case .variable(let escaped) = sigil {
            flushText()
            try append(.variable(path: try path(content, at: tagStart), escaped: escaped))
            return
        }
        // Section, inverted, close, comment, partial and delimiter tags alone on their line take
        // the line with them, so a template's layout does not leave blank lines in the output.
        removeStandaloneLine(tagStart: tagStart)
        switch sigil {
        case .variable: break
        case .comment: break
        case .partial:
            throw .invalid("partials ({{> name}}) are not supported", at: tagStart)
        case .delimiters:
            let parts = content.split(whereSeparator: { $0 == 0x20 || $0 == 0x09 })
            guard parts.count == 2, !parts.contains(where: { $0.contains(UInt8(ascii: "=")) }) else {
                throw .invalid("a delimiter tag must be {{=open close=}}", at: tagStart)
            }
            open = Array(parts[0])
            close = Array(parts[1])
        case .section, .inverted:
            flushText()
            guard stack.count < maximumDepth else {
                throw .tooLarge("nests sections deeper than \(maximumDepth)")
            }
            let name = try path(content, at: tagStart)
            if case .inverted = sigil {
                stack.append((name, true, tagStart, []))
            } else {
                stack.append((name, false, tagStart, []))
            }
        case .close:
            flushText()
            let name = try path(content, at: tagStart)
            guard let section = stack.popLast() else {
                throw .invalid("{{/\(name.joined(separator: "."))}} closes no section", at: tagStart)
            }
            guard section.path == name else {
                throw .invalid(
                    "{{/\(name.joined(separator: "."))}} closes section \"\(section.path.joined(separator: "."))\"",
                    at: tagStart)
            }
            try append(.section(path: section.path, children: section.children, inverted: section.inverted))
        }
    }

    /// A tag's name as a path: `a.b.c`, or `[]` for `.`.
    private func path(_ content: ArraySlice<UInt8>, at offset: Int) throws(TemplateError) -> [String] {
        let name = String(decoding: content, as: UTF8.self)
        if name == "." { return [] }
        let segments = name.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        guard !name.isEmpty, !segments.contains(where: \.isEmpty),
            !name.unicodeScalars.contains(where: { $0.properties.isWhitespace || $0 == "{" || $0 == "}" })
        else { throw .invalid("\"\(name)\" is not a valid tag name", at: offset) }
        return segments
    }

    // MARK: - Text and standalone lines

    private mutating func appendText(upTo end: Int) {
        guard index < end else { return }
        var position = index
        while position < end {
            if source[position] == 0x0A { lineStart = position + 1 }
            position += 1
        }
        text.append(contentsOf: source[index..<end])
        index = end
    }

    /// When only spaces and tabs stand between the line's start and the tag, and between the
    /// tag and the line's end, drops both along with the line break.
    private mutating func removeStandaloneLine(tagStart: Int) {
        guard source[lineStart..<tagStart].allSatisfy(isBlank) else { return }
        var after = index
        while after < source.count, isBlank(source[after]) { after += 1 }
        if after < source.count {
            if source[after] == 0x0A {
                after += 1
            } else if source[after] == 0x0D, after + 1 < source.count, source[after + 1] == 0x0A {
                after += 2
            } else {
                return
            }
        }
        text.removeLast(tagStart - lineStart)
        index = after
        lineStart = after
    }

    private func isBlank(_ byte: UInt8) -> Bool { byte == 0x20 || byte == 0x09 }

    private mutating func flushText() {
        guard !text.isEmpty else { return }
        let piece = text
        text = []
        if stack.isEmpty { nodes.append(.text(piece)) } else { stack[stack.count - 1].children.append(.text(piece)) }
    }

    private mutating func append(_ node: TemplateNode) throws(TemplateError) {
        if stack.isEmpty { nodes.append(node) } else { stack[stack.count - 1].children.append(node) }
    }

    // MARK: - Bytes

    private func find(_ needle: [UInt8], from start: Int) -> Int? {
        guard let first = needle.first, needle.count <= source.count else { return nil }
        var position = start
        while position + needle.count <= source.count {
            if source[position] == first, source[position..<position + needle.count].elementsEqual(needle) {
                return position
            }
            position += 1
        }
        return nil
    }

    private func trimmed(_ bytes: ArraySlice<UInt8>) -> ArraySlice<UInt8> {
        var slice = bytes
        while let first = slice.first, isBlank(first) || first == 0x0A || first == 0x0D { slice = slice.dropFirst() }
        while let last = slice.last, isBlank(last) || last == 0x0A || last == 0x0D { slice = slice.dropLast() }
        return slice
    }
}
