/// Reads a filter document (ENGINE.md §2) into a ``Filter``, or says exactly what is wrong and
/// where, as a JSON pointer (`/all/1/activity/where/product`).
///
/// The document comes from API callers and console authors, so it is bounded: nesting depth,
/// the number of filters, the length of `in` lists and of strings. Checks that need the
/// database (that a referenced list exists, that list references form no cycle) are the
/// store's; everything else is decided here, without I/O.
public struct FilterParser {
    public static let maximumDepth = 10
    public static let maximumNodes = 200
    public static let maximumListValues = 1000
    public static let maximumStringBytes = 1000
    public static let maximumPathSegments = 8

    private var nodes = 0

    /// Parses `json` as a filter document.
    public static func parse(_ json: JSON) throws(FilterError) -> Filter {
        var parser = FilterParser()
        return try parser.filter(json, at: Pointer(), depth: 1)
    }

    private mutating func filter(_ json: JSON, at pointer: Pointer, depth: Int) throws(FilterError) -> Filter {
        guard depth <= Self.maximumDepth else { throw .at(pointer, "nests filters deeper than \(Self.maximumDepth)") }
        nodes += 1
        guard nodes <= Self.maximumNodes else { throw .at(pointer, "holds more than \(Self.maximumNodes) filters") }
        guard let object = json.objectValue else {
            if case .array = json { throw .at(pointer, "must be one filter object, not an array") }
            throw .at(pointer, "must be a filter object")
        }
        if object["field"] != nil || object["op"] != nil || object["value"] != nil {
            try Self.onlyKeys(object, ["field", "op", "value"], at: pointer)
            return .field(try fieldCondition(object, at: pointer))
        }
        guard object.members.count == 1, let member = object.members.first else {
            throw .at(
                pointer,
                object.members.isEmpty
                    ? "is empty; use one of all, any, not, everyone, tag, list, field or activity"
                    : "must have exactly one of all, any, not, everyone, tag, list, field or activity")
        }
        let inner = pointer.appending(member.key)
        switch member.key {
        case "all", "any":
            guard case .array(let items) = member.value, !items.isEmpty else {
                throw .at(inner, "must be an array of at least one filter")
            }
            var children: [Filter] = []
            for (index, item) in items.enumerated() {
                children.append(try filter(item, at: inner.appending(String(index)), depth: depth + 1))
            }
            return member.key == "all" ? .all(children) : .any(children)
        case "not":
            return .not(try filter(member.value, at: inner, depth: depth + 1))
        case "everyone":
            guard member.value == .bool(true) else { throw .at(inner, "must be true") }
            return .everyone
        case "tag":
            return .tag(try Self.text(member.value, at: inner))
        case "list":
            guard case .number(let text) = member.value, let id = Int64(text), id > 0 else {
                throw .at(inner, "must be the id of a smart list, a positive whole number")
            }
            return .list(id)
        case "activity":
            return .activity(try activity(member.value, at: inner))
        default:
            throw .at(inner, "is not a filter; use one of all, any, not, everyone, tag, list, field or activity")
        }
    }

    // MARK: - Fields

    private func fieldCondition(_ object: JSONObject, at pointer: Pointer) throws(FilterError) -> FieldCondition {
        guard let name = object["field"]?.stringValue else { throw .at(pointer.appending("field"), "must name a field") }
        let field: ContactField
        if let fixed = ContactField.named[name] {
            field = fixed
        } else if name.hasPrefix("attributes.") {
            field = .attribute(try Self.path(String(name.dropFirst("attributes.".count)), at: pointer.appending("field")))
        } else {
            throw .at(
                pointer.appending("field"),
                "\"\(Self.shown(name))\" is not a field; use one of "
                    + ContactField.named.keys.sorted().joined(separator: ", ") + " or attributes.<key>")
        }
        let comparison = try Self.comparison(op: object["op"], value: object["value"], kind: field.kind, at: pointer)
        try Self.checkEnumeratedValues(field, comparison, at: pointer.appending("value"))
        return FieldCondition(field: field, comparison: comparison)
    }

    /// `lifecycle` and `consent` hold a few known words; a typo would silently match no one.
    private static func checkEnumeratedValues(_ field: ContactField, _ comparison: Comparison, at pointer: Pointer)
        throws(FilterError)
    {
        let allowed: [String]
        switch field {
        case .lifecycle: allowed = ["customer", "lead"]
        case .consent: allowed = ["unknown", "granted", "revoked"]
        default: return
        }
        let values: [FilterValue]
        switch comparison {
        case .eq(let value), .neq(let value): values = [value]
        case .in(let list), .notIn(let list): values = list
        default: return
        }
        for case .string(let text) in values where !allowed.contains(text) {
            throw .at(pointer, "\"\(shown(text))\" is not a value of this field; use one of \(allowed.joined(separator: ", "))")
        }
    }

    // MARK: - Activities

    private static let activityKeys = ["type", "where", "within_days", "since", "until", "count"]

    private func activity(_ json: JSON, at pointer: Pointer) throws(FilterError) -> ActivityCondition {
        guard let object = json.objectValue else { throw .at(pointer, "must be an object") }
        try Self.onlyKeys(object, Self.activityKeys, at: pointer)
        var condition = ActivityCondition(type: nil, conditions: [], since: nil, withinDays: nil, until: nil, count: nil)
        if let type = object["type"] { condition.type = try Self.text(type, at: pointer.appending("type")) }
        if let whereJSON = object["where"] {
            let wherePointer = pointer.appending("where")
            guard let fields = whereJSON.objectValue else { throw .at(wherePointer, "must be an object of metadata paths") }
            guard fields.members.count <= 20 else { throw .at(wherePointer, "holds more than 20 conditions") }
            for member in fields.members {
                let at = wherePointer.appending(member.key)
                let path = try Self.path(member.key, at: at)
                let comparison: Comparison
                if let operation = member.value.objectValue {
                    try Self.onlyKeys(operation, ["op", "value"], at: at)
                    comparison = try Self.comparison(op: operation["op"], value: operation["value"], kind: .json, at: at)
                } else {
                    comparison = .eq(try Self.scalar(member.value, at: at, kind: .json))
                }
                condition.conditions.append(MetadataCondition(path: path, comparison: comparison))
            }
        }
        if let days = object["within_days"] {
            guard object["since"] == nil else { throw .at(pointer.appending("within_days"), "cannot be given with since") }
            guard case .number(let text) = days, let value = Int(text), (1...36_500).contains(value) else {
                throw .at(pointer.appending("within_days"), "must be a whole number of days from 1 to 36500")
            }
            condition.withinDays = value
        }
        if let since = object["since"] { condition.since = try Self.time(since, at: pointer.appending("since")) }
        if let until = object["until"] { condition.until = try Self.time(until, at: pointer.appending("until")) }
        if let since = condition.since, let until = condition.until, until.microseconds <= since.microseconds {
            throw .at(pointer.appending("until"), "must be after since")
        }
        if let count = object["count"] {
            let at = pointer.appending("count")
            guard let bound = count.objectValue, bound.members.count == 1, let member = bound.members.first,
                case .number(let text) = member.value, let value = Int(text), (0...1_000_000).contains(value)
            else { throw .at(at, "must be one of {\"gte\": n}, {\"lte\": n}, {\"eq\": n} with n from 0 to 1000000") }
            switch member.key {
            case "gte": condition.count = .gte(value)
            case "lte": condition.count = .lte(value)
            case "eq": condition.count = .eq(value)
            default: throw .at(at.appending(member.key), "must be gte, lte or eq")
            }
        }
        return condition
    }

    // MARK: - Operators and values

    private static func comparison(op: JSON?, value: JSON?, kind: ContactField.Kind, at pointer: Pointer)
        throws(FilterError) -> Comparison
    {
        let opPointer = pointer.appending("op")
        let valuePointer = pointer.appending("value")
        guard let name = op?.stringValue else { throw .at(opPointer, "must name an operator") }
        func required() throws(FilterError) -> JSON {
            guard let value else { throw .at(valuePointer, "is required with \(name)") }
            return value
        }
        switch name {
        case "exists", "not_exists":
            guard value == nil else { throw .at(valuePointer, "must be left out with \(name)") }
            return name == "exists" ? .exists : .notExists
        case "eq": return .eq(try scalar(try required(), at: valuePointer, kind: kind))
        case "neq": return .neq(try scalar(try required(), at: valuePointer, kind: kind))
        case "in", "not_in":
            guard case .array(let items) = try required(), !items.isEmpty, items.count <= maximumListValues else {
                throw .at(valuePointer, "must be an array of 1 to \(maximumListValues) values")
            }
            var values: [FilterValue] = []
            for (index, item) in items.enumerated() {
                values.append(try scalar(item, at: valuePointer.appending(String(index)), kind: kind))
            }
            return name == "in" ? .in(values) : .notIn(values)
        case "contains", "starts_with", "ends_with":
            guard kind == .text || kind == .json else { throw .at(opPointer, "\(name) compares text; this field is not text") }
            let text = try self.text(try required(), at: valuePointer)
            return name == "contains" ? .contains(text) : name == "starts_with" ? .startsWith(text) : .endsWith(text)
        case "gt", "gte", "lt", "lte":
            let operand: FilterValue
            switch kind {
            case .time: operand = .time(try time(try required(), at: valuePointer))
            case .json:
                guard case .number(let text) = try required(), let number = Double(text), number.isFinite else {
                    throw .at(valuePointer, "must be a number with \(name)")
                }
                operand = .number(text, number)
            case .text, .boolean:
                throw .at(opPointer, "\(name) orders numbers and times; this field is neither")
            }
            switch name {
            case "gt": return .gt(operand)
            case "gte": return .gte(operand)
            case "lt": return .lt(operand)
            default: return .lte(operand)
            }
        default:
            throw .at(
                opPointer,
                "\"\(shown(name))\" is not an operator; use eq, neq, in, not_in, contains, starts_with, ends_with, gt, gte, lt, lte, exists or not_exists"
            )
        }
    }

    /// A value for `eq`, `neq` and `in`, checked against what the field holds.
    private static func scalar(_ json: JSON, at pointer: Pointer, kind: ContactField.Kind) throws(FilterError) -> FilterValue {
        switch (kind, json) {
        case (.text, _): return .string(try text(json, at: pointer))
        case (.time, _): return .time(try time(json, at: pointer))
        case (.boolean, .bool(let flag)): return .bool(flag)
        case (.boolean, _): throw .at(pointer, "must be true or false")
        case (.json, .string): return .string(try text(json, at: pointer))
        case (.json, .bool(let flag)): return .bool(flag)
        case (.json, .number(let text)):
            guard let number = Double(text), number.isFinite else { throw .at(pointer, "is not a usable number") }
            return .number(text, number)
        case (.json, _): throw .at(pointer, "must be a string, a number or true or false")
        }
    }

    private static func text(_ json: JSON, at pointer: Pointer) throws(FilterError) -> String {
        guard let text = json.stringValue, !text.isEmpty else { throw .at(pointer, "must be a non-empty string") }
        guard text.utf8.count <= maximumStringBytes, !text.utf8.contains(0) else {
            throw .at(pointer, "must be at most \(maximumStringBytes) bytes, without U+0000")
        }
        return text
    }

    private static func time(_ json: JSON, at pointer: Pointer) throws(FilterError) -> Timestamp {
        guard let text = json.stringValue, let time = RFC3339.parse(text) else {
            throw .at(pointer, "must be an RFC 3339 time, e.g. 2026-11-29T09:00:00Z")
        }
        return time
    }

    /// A dotted path (`plan`, `address.city`), each segment non-empty.
    private static func path(_ dotted: String, at pointer: Pointer) throws(FilterError) -> [String] {
        let segments = dotted.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        guard !dotted.isEmpty, !segments.contains(where: \.isEmpty), segments.count <= maximumPathSegments,
            dotted.utf8.count <= 255, !dotted.utf8.contains(where: { $0 == 0 || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") })
        else {
            throw .at(pointer, "is not a path: dotted keys, at most \(maximumPathSegments) of them, none empty, without \" or \\")
        }
        return segments
    }

    private static func onlyKeys(_ object: JSONObject, _ keys: [String], at pointer: Pointer) throws(FilterError) {
        if let unknown = object.members.first(where: { !keys.contains($0.key) }) {
            throw .at(pointer.appending(unknown.key), "is not allowed here; use \(keys.joined(separator: ", "))")
        }
    }

    private static func shown(_ text: String) -> String {
        text.count > 64 ? String(text.prefix(64)) + "..." : text
    }
}

/// Why a filter document is not valid, and where: a JSON pointer into the document.
public struct FilterError: Error, Sendable, Equatable, CustomStringConvertible {
    /// RFC 6901 pointer to the faulty part (`""` for the whole document).
    public let path: String
    public let message: String

    public var description: String { "\(path.isEmpty ? "the filter" : path) \(message)" }

    public init(path: String, message: String) {
        self.path = path
        self.message = message
    }

    static func at(_ pointer: Pointer, _ message: String) -> FilterError {
        FilterError(path: pointer.text, message: message)
    }
}

/// An RFC 6901 JSON pointer being built while the parser descends.
struct Pointer {
    private(set) var text = ""

    func appending(_ token: String) -> Pointer {
        var next = self
        next.text += "/" + token.replacingOccurrences("~", with: "~0").replacingOccurrences("/", with: "~1")
        return next
    }
}

extension String {
    fileprivate func replacingOccurrences(_ target: Character, with replacement: String) -> String {
        guard contains(target) else { return self }
        return reduce(into: "") { result, character in
            if character == target { result += replacement } else { result.append(character) }
        }
    }
}
