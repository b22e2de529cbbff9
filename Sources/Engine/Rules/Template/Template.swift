/// A Mustache template (https://mustache.github.io/mustache.5.html), parsed once and rendered
/// against JSON with hard bounds on what a render may cost.
///
/// Cortex renders templates per recipient from text that callers (and, later, console authors)
/// write, so a template is hostile input: `{{#a}}` nested seven deep over a ten-item list is a
/// 200-byte request that would otherwise loop ten million times. Every bound is checked while
/// rendering, so an over-budget render stops at the bound instead of finishing first:
/// section nesting depth (at parse time), output bytes, and work (one unit per node visited,
/// section item entered and object member scanned in a name lookup).
///
/// Supported: variables (`{{name}}`, `{{{name}}}`, `{{& name}}`), dotted names and `{{.}}`,
/// sections and inverted sections, comments, set delimiters, and standalone-line removal.
/// Partials are refused: Cortex has no partials to resolve.
public struct Template: Sendable {
    /// The parsed tree; rendering walks it.
    let nodes: [TemplateNode]

    /// Parses `source`; throws when it is not valid Mustache or nests sections too deep.
    public init(_ source: String, limits: TemplateLimits = .body) throws(TemplateError) {
        var parser = TemplateParser(source: Array(source.utf8), maximumDepth: limits.maximumDepth)
        nodes = try parser.parse()
    }

    /// Renders the template with `model` as the root context.
    ///
    /// - Parameters:
    ///   - escapeHTML: whether `{{name}}` escapes `& < > " '` (HTML bodies); `{{{name}}}` never does.
    ///   - limits: the output and work bounds; over either, the render stops with `.tooLarge`.
    public func render(_ model: JSON, escapeHTML: Bool, limits: TemplateLimits) throws(TemplateError) -> String {
        var renderer = TemplateRenderer(escapeHTML: escapeHTML, limits: limits, root: model)
        try renderer.render(nodes)
        return String(decoding: renderer.output, as: UTF8.self)
    }

    /// The names of variables used outside any section (`{{first_name}}`), in order; inside a
    /// section a name may belong to the section's item, so those are not listed.
    public var topLevelVariableNames: [String] {
        nodes.compactMap { node in
            if case .variable(let path, _) = node, !path.isEmpty { return path.joined(separator: ".") }
            return nil
        }
    }
}

/// The bounds a template is parsed and rendered within.
public struct TemplateLimits: Sendable, Equatable {
    /// The deepest nesting of sections accepted at parse time.
    public var maximumDepth: Int
    /// The largest output, in UTF-8 bytes.
    public var maximumOutputBytes: Int
    /// The most work units one render may spend (see ``Template``).
    public var maximumWork: Int

    public init(maximumDepth: Int = 8, maximumOutputBytes: Int, maximumWork: Int = 200_000) {
        self.maximumDepth = maximumDepth
        self.maximumOutputBytes = maximumOutputBytes
        self.maximumWork = maximumWork
    }

    /// A mail subject: one header line holds at most 998 octets (RFC 5322 §2.1.1).
    public static let subject = TemplateLimits(maximumOutputBytes: 998)
    /// An HTML or text body: at most 1 MiB each, the size of the largest request Cortex takes.
    public static let body = TemplateLimits(maximumOutputBytes: 1 << 20)
}

/// Why a template cannot be parsed or rendered.
public struct TemplateError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        /// Not valid Mustache (an unclosed section, a mismatched close, a partial, ...).
        case invalid
        /// Over a bound: nesting depth, output size or work.
        case tooLarge
    }

    public let kind: Kind
    /// A sentence for a person, without the field name (the caller knows the field).
    public let message: String

    public var description: String { message }

    static func invalid(_ message: String, at offset: Int) -> TemplateError {
        TemplateError(kind: .invalid, message: "\(message) at byte \(offset)")
    }

    static func tooLarge(_ message: String) -> TemplateError {
        TemplateError(kind: .tooLarge, message: message)
    }
}

/// One piece of a parsed template.
indirect enum TemplateNode: Sendable {
    case text([UInt8])
    /// A variable; an empty path is the implicit iterator `{{.}}`.
    case variable(path: [String], escaped: Bool)
    case section(path: [String], children: [TemplateNode], inverted: Bool)
}
