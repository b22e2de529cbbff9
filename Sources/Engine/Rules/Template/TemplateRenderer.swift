/// Walks a parsed template over a JSON context stack, spending a bounded budget.
///
/// The budget is charged as the work happens, so a render that would run for seconds or write
/// megabytes stops at the bound: the cost of a template is the product of the list lengths its
/// nested sections walk, which no check of the source alone can see.
struct TemplateRenderer {
    private(set) var output: [UInt8] = []
    private let escapeHTML: Bool
    private let limits: TemplateLimits
    private var work = 0
    /// The context stack, innermost last; names are looked up from the innermost outwards.
    private var contexts: [JSON]

    init(escapeHTML: Bool, limits: TemplateLimits, root: JSON) {
        self.escapeHTML = escapeHTML
        self.limits = limits
        self.contexts = [root]
    }

    mutating func render(_ nodes: [TemplateNode]) throws(TemplateError) {
        for node in nodes {
            try spend(1)
            switch node {
            case .text(let bytes):
                try write(bytes)
            case .variable(let path, let escaped):
                guard let value = try lookup(path) else { continue }
                try write(value, escaped: escaped && escapeHTML)
            case .section(let path, let children, let inverted):
                let value = try lookup(path)
                if inverted {
                    if Self.isFalsy(value) { try render(children) }
                    continue
                }
                guard let value, !Self.isFalsy(value) else { continue }
                if case .array(let items) = value {
                    for item in items {
                        try spend(1)
                        try renderChildren(children, in: item)
                    }
                } else {
                    try renderChildren(children, in: value)
                }
            }
        }
    }

    private mutating func renderChildren(_ children: [TemplateNode], in context: JSON) throws(TemplateError) {
        contexts.append(context)
        defer { contexts.removeLast() }
        try render(children)
    }

    /// Mustache's falsy values, as JSON has them: missing, `null`, `false` and `[]`.
    private static func isFalsy(_ value: JSON?) -> Bool {
        switch value {
        case nil, .null?, .bool(false)?: true
        case .array(let items)?: items.isEmpty
        default: false
        }
    }

    /// Resolves `a.b.c`: `a` in the innermost context that has it, then `b` and `c` inside it.
    private mutating func lookup(_ path: [String]) throws(TemplateError) -> JSON? {
        guard let head = path.first else { return contexts.last }
        var found: JSON?
        for context in contexts.reversed() {
            guard case .object(let object) = context else {
                try spend(1)
                continue
            }
            if let value = try member(head, of: object) {
                found = value
                break
            }
        }
        for name in path.dropFirst() {
            guard case .object(let object)? = found else { return nil }
            found = try member(name, of: object)
        }
        return found
    }

    /// A member by exact name, charging one unit per member scanned: a model with a large
    /// object looked up in a long loop is work like any other.
    private mutating func member(_ name: String, of object: JSONObject) throws(TemplateError) -> JSON? {
        for (index, member) in object.members.enumerated() where member.key == name {
            try spend(index + 1)
            return member.value
        }
        try spend(object.members.count + 1)
        return nil
    }

    private mutating func spend(_ units: Int) throws(TemplateError) {
        work += units
        guard work <= limits.maximumWork else {
            throw .tooLarge("takes more than \(limits.maximumWork) steps to render (sections nested over long lists)")
        }
    }

    // MARK: - Output

    private mutating func write(_ bytes: [UInt8]) throws(TemplateError) {
        try reserve(bytes.count)
        output.append(contentsOf: bytes)
    }

    private mutating func write(_ value: JSON, escaped: Bool) throws(TemplateError) {
        let text: String
        switch value {
        case .null: return
        case .bool(let flag): text = flag ? "true" : "false"
        case .number(let literal): text = literal
        case .string(let string): text = string
        case .array, .object: text = value.serialized()
        }
        guard escaped else {
            try reserve(text.utf8.count)
            output.append(contentsOf: text.utf8)
            return
        }
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "&"): try write(Self.ampersand)
            case UInt8(ascii: "<"): try write(Self.lessThan)
            case UInt8(ascii: ">"): try write(Self.greaterThan)
            case UInt8(ascii: "\""): try write(Self.quote)
            case UInt8(ascii: "'"): try write(Self.apostrophe)
            default:
                try reserve(1)
                output.append(byte)
            }
        }
    }

    private func reserve(_ count: Int) throws(TemplateError) {
        guard output.count + count <= limits.maximumOutputBytes else {
            throw .tooLarge("renders to more than \(limits.maximumOutputBytes) bytes")
        }
    }

    private static let ampersand = Array("&amp;".utf8)
    private static let lessThan = Array("&lt;".utf8)
    private static let greaterThan = Array("&gt;".utf8)
    private static let quote = Array("&quot;".utf8)
    private static let apostrophe = Array("&#39;".utf8)
}
