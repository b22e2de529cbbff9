/// A sender or recipient as a mail header names it: `address` or `Display Name <address>`.
public struct Mailbox: Sendable, Hashable {
    /// The display name, without surrounding quotes; `nil` for a bare address.
    public let name: String?
    public let address: EmailAddress

    /// Parses `raw` as exactly one mailbox; `nil` when the address is invalid, when the text
    /// holds a line break or control character (it would let a caller add mail headers of its
    /// own), or when it names more than one mailbox (`Shop <a@x>, Evil <e@x>`).
    ///
    /// An unquoted display name may not hold the characters that separate or open mailboxes
    /// (`< > , ; : @ "`); a quoted one may hold anything but a quote or a backslash.
    public init?(_ raw: String) {
        guard MailHeader.isOneLine(raw), !raw.contains("\t") else { return nil }
        if let open = raw.lastIndex(of: "<"), raw.hasSuffix(">") {
            guard let address = EmailAddress(String(raw[raw.index(after: open)..<raw.index(before: raw.endIndex)])) else {
                return nil
            }
            var name = String(raw[..<open]).trimmingASCIIWhitespace()
            if name.count >= 2, name.hasPrefix("\""), name.hasSuffix("\"") {
                name = String(name.dropFirst().dropLast())
                guard !name.unicodeScalars.contains(where: { $0 == "\"" || $0 == "\\" }) else { return nil }
            } else {
                guard !name.unicodeScalars.contains(where: { Self.separators.contains($0) }) else { return nil }
            }
            self.name = name.isEmpty ? nil : name
            self.address = address
        } else {
            guard let address = EmailAddress(raw) else { return nil }
            self.name = nil
            self.address = address
        }
    }

    /// Characters that end or open a mailbox in an address list; in an unquoted name they mean
    /// the text is not one mailbox.
    private static let separators: Set<Unicode.Scalar> = ["<", ">", ",", ";", ":", "@", "\""]
}
