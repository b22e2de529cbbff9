/// A header a caller adds to its message (`Headers` in Postmark's API, a header line over SMTP).
public struct MailHeader: Sendable, Hashable {
    public var name: String
    public var value: String

    public init(name: String, value: String) {
        self.name = name
        self.value = value
    }

    /// Headers Cortex writes itself; a caller may not set or repeat them.
    public static let reservedNames: Set<String> = [
        "from", "to", "cc", "bcc", "subject", "date", "message-id", "mime-version",
        "content-type", "content-transfer-encoding", "sender", "return-path",
    ]

    /// Whether `value` can stand on one header line: no C0 or C1 control character but tab, no
    /// DEL, and none of Unicode's line and paragraph separators.
    ///
    /// Checked on Unicode scalars, never on `Character`s: Swift reads `\r\n` as one `Character`
    /// that equals neither `\r` nor `\n`, which is how a subject once carried `Bcc:` onto a line
    /// of its own. VT, FF, NEL (U+0085), U+2028 and U+2029 end a line for some readers too.
    public static func isOneLine(_ value: String) -> Bool {
        !value.unicodeScalars.contains { scalar in
            switch scalar.value {
            case 0x09: false
            case 0x00...0x1F, 0x7F...0x9F, 0x2028, 0x2029: true
            default: false
            }
        }
    }

    /// Whether `name` is a header field name RFC 5322 allows (printable ASCII but `:`) of a
    /// practical length.
    public static func isValidName(_ name: String) -> Bool {
        !name.isEmpty && name.utf8.count <= 76 && name.utf8.allSatisfy { $0 >= 33 && $0 <= 126 && $0 != UInt8(ascii: ":") }
    }
}

/// Which bodies the provider rewrites links in to count clicks (Postmark's `TrackLinks`).
public enum LinkTracking: String, Sendable, CaseIterable {
    case none = "None"
    case htmlAndText = "HtmlAndText"
    case htmlOnly = "HtmlOnly"
    case textOnly = "TextOnly"
}
