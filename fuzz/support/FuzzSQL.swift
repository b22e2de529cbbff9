import Engine

/// Checks on SQL that Cortex compiled: fixed text around bound parameters.
public enum FuzzSQL {
    public static func check(_ sql: String, _ bindings: [SQLBinding], _ dialect: SQLDialect) {
        var depth = 0
        var quotes = 0
        var questionMarks = 0
        var dollars: [Int] = []
        let bytes = Array(sql.utf8)
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            FuzzCheck.require(byte >= 0x20 && byte < 0x7F, "compiled SQL is printable ASCII, not byte \(byte): \(sql.prefix(300))")
            switch byte {
            case UInt8(ascii: "("): depth += 1
            case UInt8(ascii: ")"):
                depth -= 1
                FuzzCheck.require(depth >= 0, "compiled SQL closes no parenthesis it did not open: \(sql.prefix(300))")
            case UInt8(ascii: "'"): quotes += 1
            case UInt8(ascii: "?"): questionMarks += 1
            case UInt8(ascii: "$"):
                var number = 0
                var digits = 0
                while index + 1 < bytes.count, bytes[index + 1] >= UInt8(ascii: "0"), bytes[index + 1] <= UInt8(ascii: "9") {
                    number = number * 10 + Int(bytes[index + 1] - UInt8(ascii: "0"))
                    digits += 1
                    index += 1
                }
                FuzzCheck.require(digits > 0, "a $ in compiled SQL is a placeholder")
                dollars.append(number)
            default: break
            }
            index += 1
        }
        FuzzCheck.require(depth == 0, "compiled SQL closes every parenthesis")
        FuzzCheck.require(quotes % 2 == 0, "compiled SQL closes every quote")
        switch dialect {
        case .sqlite:
            FuzzCheck.require(dollars.isEmpty && questionMarks == bindings.count,
                "SQLite SQL has one ? per binding (\(questionMarks) for \(bindings.count))")
        case .postgres:
            FuzzCheck.require(questionMarks == 0 && dollars.sorted() == Array(1..<(bindings.count + 1)),
                "PostgreSQL SQL numbers its placeholders $1... once per binding (\(dollars.count) for \(bindings.count))")
        }
    }
}
