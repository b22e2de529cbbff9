/// A JSON value that keeps numbers as their exact source text.
///
/// Providers send ids larger than 2^53 (Postmark's `ID`, Stripe amounts in minor units); parsing
/// them into `Double` would silently change them. Keeping the text keeps them exact, and lets
/// `metadata` be stored as the sender wrote it.
public enum JSON: Sendable, Equatable {
    case null
    case bool(Bool)
    /// The number's literal text, already validated against the JSON grammar.
    case number(String)
    case string(String)
    case array([JSON])
    case object(JSONObject)

    public var stringValue: String? {
        if case .string(let value) = self { return value }
        return nil
    }

    public var objectValue: JSONObject? {
        if case .object(let value) = self { return value }
        return nil
    }

    public var isNull: Bool {
        if case .null = self { return true }
        return false
    }

    /// Whether any string or key in the value contains U+0000.
    public var containsNUL: Bool {
        switch self {
        case .null, .bool, .number: false
        case .string(let text): text.utf8.contains(0)
        case .array(let items): items.contains { $0.containsNUL }
        case .object(let object): object.members.contains { $0.key.utf8.contains(0) || $0.value.containsNUL }
        }
    }

    /// The first key that an object in the value repeats (depth first), or `nil`. Documents read
    /// by ``JSONParser`` never have one; this checks values built in code before they are stored.
    public var firstRepeatedKey: String? {
        switch self {
        case .null, .bool, .number, .string: return nil
        case .array(let items): return items.lazy.compactMap(\.firstRepeatedKey).first
        case .object(let object):
            var seen: Set<String> = []
            for member in object.members {
                if !seen.insert(member.key).inserted { return member.key }
                if let nested = member.value.firstRepeatedKey { return nested }
            }
            return nil
        }
    }

    /// Convenience for building responses from integers.
    public static func int(_ value: some BinaryInteger) -> JSON {
        .number(String(value))
    }

    /// Compact JSON text (no insignificant whitespace).
    public func serialized() -> String {
        var out: [UInt8] = []
        out.reserveCapacity(128)
        write(into: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// Appends the compact JSON text of this value to `out`.
    public func write(into out: inout [UInt8]) {
        switch self {
        case .null: out.append(contentsOf: "null".utf8)
        case .bool(let value): out.append(contentsOf: (value ? "true" : "false").utf8)
        case .number(let text): out.append(contentsOf: text.utf8)
        case .string(let text): JSON.writeString(text, into: &out)
        case .array(let items):
            out.append(UInt8(ascii: "["))
            for (index, item) in items.enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                item.write(into: &out)
            }
            out.append(UInt8(ascii: "]"))
        case .object(let object):
            out.append(UInt8(ascii: "{"))
            for (index, member) in object.members.enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                JSON.writeString(member.key, into: &out)
                out.append(UInt8(ascii: ":"))
                member.value.write(into: &out)
            }
            out.append(UInt8(ascii: "}"))
        }
    }

    private static let hexDigits = Array("0123456789abcdef".utf8)

    static func writeString(_ text: String, into out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\""): out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\"")])
            case UInt8(ascii: "\\"): out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\\")])
            case 0x0A: out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "n")])
            case 0x0D: out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "r")])
            case 0x09: out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "t")])
            case 0..<0x20:
                out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0")])
                out.append(hexDigits[Int(byte >> 4)])
                out.append(hexDigits[Int(byte & 0xF)])
            default: out.append(byte)
            }
        }
        out.append(UInt8(ascii: "\""))
    }
}

/// A JSON object with its members in source order.
///
/// Order is kept so that stored metadata reads back as it was sent.
public struct JSONObject: Sendable, Equatable {
    public var members: [(key: String, value: JSON)]

    public init(_ members: [(key: String, value: JSON)] = []) {
        self.members = members
    }

    /// The first member named exactly `key`.
    public subscript(key: String) -> JSON? {
        members.first(where: { $0.key == key })?.value
    }

    /// The member named `key` in any letter case (`MessageID` or `MessageId`), preferring an
    /// exact match; providers and their SDKs disagree on the case of some keys.
    public subscript(ignoringCase key: String) -> JSON? {
        if let exact = self[key] { return exact }
        let lowered = key.lowercased()
        return members.first(where: { $0.key.lowercased() == lowered })?.value
    }

    public static func == (lhs: JSONObject, rhs: JSONObject) -> Bool {
        lhs.members.count == rhs.members.count
            && zip(lhs.members, rhs.members).allSatisfy { $0.key == $1.key && $0.value == $1.value }
    }
}

extension JSONObject: ExpressibleByDictionaryLiteral {
    public init(dictionaryLiteral elements: (String, JSON)...) {
        self.members = elements.map { (key: $0.0, value: $0.1) }
    }
}
