/// An email address in the one form Cortex stores: trimmed and lower-cased.
///
/// One contact exists per address, so normalization must happen before every lookup and every
/// write. Validation is deliberately practical rather than RFC 5322-complete: it rejects what a
/// mail provider would reject (no `@`, spaces, no dot in the domain, over-long parts) and accepts
/// the rest.
public struct EmailAddress: Sendable, Hashable, CustomStringConvertible {
    /// The normalized address.
    public let value: String

    /// Normalizes and validates `raw`; `nil` when it is not a usable address.
    public init?(_ raw: String) {
        let trimmed = raw.trimmingASCIIWhitespace().lowercased()
        guard EmailAddress.isValid(trimmed) else { return nil }
        self.value = trimmed
    }

    public var description: String { value }

    private static func isValid(_ address: String) -> Bool {
        let utf8 = Array(address.utf8)
        guard utf8.count <= 254, let at = utf8.lastIndex(of: UInt8(ascii: "@")) else { return false }
        let local = utf8[..<at]
        let domain = utf8[(at + 1)...]
        guard !local.isEmpty, local.count <= 64, !domain.isEmpty else { return false }
        // Control characters, spaces and the characters that delimit addresses in headers.
        let forbidden: Set<UInt8> = [
            UInt8(ascii: " "), UInt8(ascii: ","), UInt8(ascii: ";"), UInt8(ascii: "<"),
            UInt8(ascii: ">"), UInt8(ascii: "("), UInt8(ascii: ")"), UInt8(ascii: "["),
            UInt8(ascii: "]"), UInt8(ascii: "\\"), UInt8(ascii: "\""), UInt8(ascii: "@"),
        ]
        for byte in local where byte < 0x21 || byte == 0x7F || forbidden.contains(byte) {
            return false
        }
        if local.first == UInt8(ascii: ".") || local.last == UInt8(ascii: ".") { return false }
        let labels = domain.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false)
        guard labels.count >= 2 else { return false }
        for label in labels {
            guard !label.isEmpty, label.count <= 63,
                label.first != UInt8(ascii: "-"), label.last != UInt8(ascii: "-")
            else { return false }
            for byte in label {
                let isASCIIAlnum =
                    (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z"))
                    || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9"))
                // Bytes >= 0x80 allow internationalized domain names in UTF-8.
                guard isASCIIAlnum || byte == UInt8(ascii: "-") || byte >= 0x80 else { return false }
            }
        }
        return true
    }
}

extension String {
    /// The string without leading and trailing ASCII whitespace (space, tab, CR, LF).
    package func trimmingASCIIWhitespace() -> String {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" || $0 == "\r\n" }
        guard let start = firstIndex(where: { !isSpace($0) }) else { return "" }
        let end = lastIndex(where: { !isSpace($0) })!
        return String(self[start...end])
    }
}
