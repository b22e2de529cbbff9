/// A strict RFC 8259 parser producing ``JSON``.
///
/// Written for hostile input: nesting is bounded (a body of a million `[` must be a 400, not a
/// stack overflow), strings must be valid UTF-8, and any trailing bytes are an error.
public struct JSONParser {
    /// Why a document is not JSON, with the byte offset where parsing stopped.
    public struct Failure: Error, Equatable, CustomStringConvertible {
        public let reason: String
        public let offset: Int
        /// True when the document is well-formed but an object repeats a key.
        public var isDuplicateKey = false
        public var description: String { "\(reason) at byte \(offset)" }

        init(reason: String, offset: Int, isDuplicateKey: Bool = false) {
            self.reason = reason
            self.offset = offset
            self.isDuplicateKey = isDuplicateKey
        }
    }

    /// The deepest nesting accepted; deeper documents are rejected, not parsed.
    public static let maximumDepth = 128

    /// The most digits a number may have written out in full, without an exponent, as
    /// PostgreSQL's jsonb keeps and returns it: every double fits (1e308 has 309 digits, 5e-324
    /// has 324 after the point) and so do 100-digit ids. Beyond, the stores would disagree
    /// (PostgreSQL refuses 1e200000, which SQLite keeps) and a few bytes would become many on
    /// every read (`1e400` is 401 digits in PostgreSQL).
    public static let maximumNumberDigits = 400

    public static func parse(_ bytes: [UInt8]) throws(Failure) -> JSON {
        try bytes.withUnsafeBufferPointer { (buffer) throws(Failure) -> JSON in
            var parser = JSONParser(buffer: buffer)
            // A UTF-8 byte order mark is not JSON, but some senders add one; skip it.
            if buffer.count >= 3, buffer[0] == 0xEF, buffer[1] == 0xBB, buffer[2] == 0xBF {
                parser.index = 3
            }
            parser.skipWhitespace()
            let value = try parser.parseValue(depth: 0)
            parser.skipWhitespace()
            guard parser.index == buffer.count else { throw parser.failure("unexpected data after the JSON value") }
            return value
        }
    }

    private let buffer: UnsafeBufferPointer<UInt8>
    private var index = 0

    private init(buffer: UnsafeBufferPointer<UInt8>) {
        self.buffer = buffer
    }

    private func failure(_ reason: String) -> Failure {
        Failure(reason: reason, offset: index)
    }

    private func duplicate(_ key: String, at offset: Int) -> Failure {
        let shown = key.count > 64 ? String(key.prefix(64)) + "..." : key
        return Failure(reason: "the key \"\(shown)\" appears twice in one object", offset: offset, isDuplicateKey: true)
    }

    private var current: UInt8? { index < buffer.count ? buffer[index] : nil }

    private mutating func skipWhitespace() {
        while index < buffer.count {
            switch buffer[index] {
            case 0x20, 0x09, 0x0A, 0x0D: index += 1
            default: return
            }
        }
    }

    private mutating func parseValue(depth: Int) throws(Failure) -> JSON {
        guard let byte = current else { throw failure("unexpected end of input") }
        switch byte {
        case UInt8(ascii: "{"): return try parseObject(depth: depth + 1)
        case UInt8(ascii: "["): return try parseArray(depth: depth + 1)
        case UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "t"): try expectLiteral("true"); return .bool(true)
        case UInt8(ascii: "f"): try expectLiteral("false"); return .bool(false)
        case UInt8(ascii: "n"): try expectLiteral("null"); return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .number(try parseNumber())
        default: throw failure("unexpected character")
        }
    }

    private mutating func expectLiteral(_ literal: String) throws(Failure) {
        for byte in literal.utf8 {
            guard current == byte else { throw failure("invalid literal") }
            index += 1
        }
    }

    private mutating func parseObject(depth: Int) throws(Failure) -> JSON {
        guard depth <= JSONParser.maximumDepth else { throw failure("nesting deeper than \(JSONParser.maximumDepth)") }
        index += 1
        var members: [(key: String, value: JSON)] = []
        var keys: Set<String>?
        skipWhitespace()
        if current == UInt8(ascii: "}") {
            index += 1
            return .object(JSONObject(members))
        }
        while true {
            skipWhitespace()
            guard current == UInt8(ascii: "\"") else { throw failure("expected a string key") }
            let keyOffset = index
            let key = try parseString()
            // A repeated key is refused: readers disagree on which one wins (Cortex took the
            // first for the contact while a last-key-wins reader of the stored metadata saw the
            // second), so one document would mean two things. Small objects are scanned; larger
            // ones keep a set, so a hostile object of many keys stays linear.
            if keys != nil || members.count >= 8 {
                if keys == nil { keys = Set(members.map(\.key)) }
                if !keys!.insert(key).inserted { throw duplicate(key, at: keyOffset) }
            } else if members.contains(where: { $0.key == key }) {
                throw duplicate(key, at: keyOffset)
            }
            skipWhitespace()
            guard current == UInt8(ascii: ":") else { throw failure("expected ':'") }
            index += 1
            skipWhitespace()
            let value = try parseValue(depth: depth)
            members.append((key: key, value: value))
            skipWhitespace()
            switch current {
            case UInt8(ascii: ","): index += 1
            case UInt8(ascii: "}"): index += 1; return .object(JSONObject(members))
            default: throw failure("expected ',' or '}'")
            }
        }
    }

    private mutating func parseArray(depth: Int) throws(Failure) -> JSON {
        guard depth <= JSONParser.maximumDepth else { throw failure("nesting deeper than \(JSONParser.maximumDepth)") }
        index += 1
        var items: [JSON] = []
        skipWhitespace()
        if current == UInt8(ascii: "]") {
            index += 1
            return .array(items)
        }
        while true {
            skipWhitespace()
            items.append(try parseValue(depth: depth))
            skipWhitespace()
            switch current {
            case UInt8(ascii: ","): index += 1
            case UInt8(ascii: "]"): index += 1; return .array(items)
            default: throw failure("expected ',' or ']'")
            }
        }
    }

    private mutating func parseNumber() throws(Failure) -> String {
        let start = index
        if current == UInt8(ascii: "-") { index += 1 }
        guard let first = current, isDigit(first) else { throw failure("invalid number") }
        let integerStart = index
        if first == UInt8(ascii: "0") {
            index += 1
        } else {
            while let byte = current, isDigit(byte) { index += 1 }
        }
        let integerDigits = index - integerStart
        var fractionDigits = 0
        if current == UInt8(ascii: ".") {
            index += 1
            guard let byte = current, isDigit(byte) else { throw failure("invalid number") }
            let fractionStart = index
            while let byte = current, isDigit(byte) { index += 1 }
            fractionDigits = index - fractionStart
        }
        var exponent = 0
        if current == UInt8(ascii: "e") || current == UInt8(ascii: "E") {
            index += 1
            var sign = 1
            if current == UInt8(ascii: "+") || current == UInt8(ascii: "-") {
                if current == UInt8(ascii: "-") { sign = -1 }
                index += 1
            }
            guard let byte = current, isDigit(byte) else { throw failure("invalid number") }
            while let byte = current, isDigit(byte) {
                // Saturated: a million-digit exponent must not overflow, only be too long.
                exponent = min(exponent * 10 + Int(byte - UInt8(ascii: "0")), 1_000_000)
                index += 1
            }
            exponent *= sign
        }
        let writtenOut = max(integerDigits + exponent, 1) + max(fractionDigits - exponent, 0)
        guard writtenOut <= JSONParser.maximumNumberDigits else {
            index = start
            throw failure("a number with more than \(JSONParser.maximumNumberDigits) digits written out in full")
        }
        return String(decoding: UnsafeBufferPointer(rebasing: buffer[start..<index]), as: UTF8.self)
    }

    private func isDigit(_ byte: UInt8) -> Bool {
        byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")
    }

    private mutating func parseString() throws(Failure) -> String {
        index += 1
        let start = index
        // Fast path: no escapes, so the bytes between the quotes are the string.
        while index < buffer.count {
            let byte = buffer[index]
            if byte == UInt8(ascii: "\"") {
                let slice = UnsafeBufferPointer(rebasing: buffer[start..<index])
                index += 1
                guard let text = String(validating: slice, as: UTF8.self) else { throw failure("invalid UTF-8 in string") }
                return text
            }
            if byte == UInt8(ascii: "\\") { break }
            if byte < 0x20 { throw failure("control character in string") }
            index += 1
        }
        var bytes = Array(UnsafeBufferPointer(rebasing: buffer[start..<index]))
        while true {
            guard let byte = current else { throw failure("unterminated string") }
            index += 1
            switch byte {
            case UInt8(ascii: "\""):
                guard let text = String(validating: bytes, as: UTF8.self) else { throw failure("invalid UTF-8 in string") }
                return text
            case UInt8(ascii: "\\"):
                try parseEscape(into: &bytes)
            case 0..<0x20:
                index -= 1
                throw failure("control character in string")
            default:
                bytes.append(byte)
            }
        }
    }

    private mutating func parseEscape(into bytes: inout [UInt8]) throws(Failure) {
        guard let escape = current else { throw failure("unterminated escape") }
        index += 1
        switch escape {
        case UInt8(ascii: "\""): bytes.append(UInt8(ascii: "\""))
        case UInt8(ascii: "\\"): bytes.append(UInt8(ascii: "\\"))
        case UInt8(ascii: "/"): bytes.append(UInt8(ascii: "/"))
        case UInt8(ascii: "b"): bytes.append(0x08)
        case UInt8(ascii: "f"): bytes.append(0x0C)
        case UInt8(ascii: "n"): bytes.append(0x0A)
        case UInt8(ascii: "r"): bytes.append(0x0D)
        case UInt8(ascii: "t"): bytes.append(0x09)
        case UInt8(ascii: "u"):
            var scalar = try parseHex4()
            if (0xD800...0xDBFF).contains(scalar) {
                // A high surrogate must be followed by an escaped low surrogate to form one scalar.
                if index + 1 < buffer.count, buffer[index] == UInt8(ascii: "\\"), buffer[index + 1] == UInt8(ascii: "u") {
                    let saved = index
                    index += 2
                    let low = try parseHex4()
                    if (0xDC00...0xDFFF).contains(low) {
                        scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                    } else {
                        index = saved
                        scalar = 0xFFFD
                    }
                } else {
                    scalar = 0xFFFD
                }
            } else if (0xDC00...0xDFFF).contains(scalar) {
                // A lone surrogate cannot be represented in a Swift string; keep the document, mark it.
                scalar = 0xFFFD
            }
            bytes.append(contentsOf: String(Character(Unicode.Scalar(scalar)!)).utf8)
        default:
            throw failure("invalid escape")
        }
    }

    private mutating func parseHex4() throws(Failure) -> UInt32 {
        guard index + 4 <= buffer.count else { throw failure("invalid \\u escape") }
        var value: UInt32 = 0
        for _ in 0..<4 {
            let byte = buffer[index]
            let digit: UInt32
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = UInt32(byte - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = UInt32(byte - UInt8(ascii: "a") + 10)
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = UInt32(byte - UInt8(ascii: "A") + 10)
            default: throw failure("invalid \\u escape")
            }
            value = value << 4 | digit
            index += 1
        }
        return value
    }
}
