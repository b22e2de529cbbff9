/// Quoted-printable (RFC 2045 §6.7) for text bodies: printable ASCII stays readable, everything
/// else becomes `=XX`, and lines are broken softly at 76 characters, so no line on the wire comes
/// near SMTP's 998-octet limit whatever the input.
enum QuotedPrintable {
    static let maximumLineLength = 76

    /// Encodes `text`, whose line breaks (CRLF, LF or CR alone) become CRLF hard breaks.
    static func encode(_ text: String) -> String {
        var output: [UInt8] = []
        let bytes = Array(text.utf8)
        var lineStart = 0
        var index = 0
        while index <= bytes.count {
            let atEnd = index == bytes.count
            if atEnd || bytes[index] == 0x0D || bytes[index] == 0x0A {
                encodeLine(bytes[lineStart..<index], into: &output)
                if atEnd { break }
                output.append(contentsOf: [0x0D, 0x0A])
                if bytes[index] == 0x0D, index + 1 < bytes.count, bytes[index + 1] == 0x0A { index += 1 }
                index += 1
                lineStart = index
            } else {
                index += 1
            }
        }
        return String(decoding: output, as: UTF8.self)
    }

    private static func encodeLine(_ line: ArraySlice<UInt8>, into output: inout [UInt8]) {
        var width = 0
        for position in line.indices {
            let byte = line[position]
            let isLast = position == line.index(before: line.endIndex)
            let literal: Bool
            switch byte {
            case UInt8(ascii: "="): literal = false
            // A space or tab ending a line would be stripped in transit.
            case 0x20, 0x09: literal = !isLast
            // A dot opening a line is escaped so no relay ever mistakes it for the end of DATA.
            case UInt8(ascii: "."): literal = width != 0
            case 33...126: literal = true
            default: literal = false
            }
            let token: [UInt8] = literal ? [byte] : escape(byte)
            // Leave room for the `=` of a soft break (76 including it).
            if width + token.count > maximumLineLength - 1 {
                output.append(contentsOf: [UInt8(ascii: "="), 0x0D, 0x0A])
                width = 0
                if byte == UInt8(ascii: ".") {
                    output.append(contentsOf: escape(byte))
                    width = 3
                    continue
                }
            }
            output.append(contentsOf: token)
            width += token.count
        }
    }

    private static func escape(_ byte: UInt8) -> [UInt8] {
        let hex = Array("0123456789ABCDEF".utf8)
        return [UInt8(ascii: "="), hex[Int(byte >> 4)], hex[Int(byte & 0x0F)]]
    }
}
