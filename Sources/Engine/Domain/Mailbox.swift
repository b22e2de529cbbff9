/// A sender or recipient as a mail header names it: `address` or `Display Name <address>`.
public struct Mailbox: Sendable, Hashable {
    /// The display name, without surrounding quotes; `nil` for a bare address.
    public let name: String?
    public let address: EmailAddress

    /// Parses `raw`; `nil` when the address is invalid or the text holds control characters
    /// (a line break in a display name would let a caller add mail headers of its own).
    public init?(_ raw: String) {
        guard !raw.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) else { return nil }
        if let open = raw.lastIndex(of: "<"), raw.hasSuffix(">") {
            guard let address = EmailAddress(String(raw[raw.index(after: open)..<raw.index(before: raw.endIndex)])) else {
                return nil
            }
            var name = String(raw[..<open]).trimmingASCIIWhitespace()
            if name.count >= 2, name.hasPrefix("\""), name.hasSuffix("\"") {
                name = String(name.dropFirst().dropLast())
            }
            self.name = name.isEmpty ? nil : name
            self.address = address
        } else {
            guard let address = EmailAddress(raw) else { return nil }
            self.name = nil
            self.address = address
        }
    }
}
