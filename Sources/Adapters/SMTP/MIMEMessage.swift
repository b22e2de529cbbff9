import Engine
import Foundation

/// Renders a ledger message as the RFC 5322 / MIME bytes an SMTP server receives.
///
/// Every line ends in CRLF and stays under 78 octets where the standards ask it to (998 is the
/// hard limit): header text that is not plain ASCII becomes RFC 2047 encoded words, and bodies are
/// quoted-printable, so long HTML lines and non-ASCII text travel safely through any relay.
/// With both bodies the message is `multipart/alternative`, plain text first and HTML last
/// (RFC 2046 §5.1.4: receivers show the last part they can display). Pure: no I/O, so the same
/// input gives the same bytes.
public struct MIMEMessage: Sendable {
    public let message: NewEmailJob
    /// `<...@...>`, also what Cortex records as the provider message id.
    public let messageID: String
    public let date: Timestamp
    /// Separates the parts; starts with `=_`, which quoted-printable text can never contain.
    public let boundary: String

    public init(_ message: NewEmailJob, messageID: String, date: Timestamp, boundary: String) {
        self.message = message
        self.messageID = messageID
        self.date = date
        self.boundary = boundary
    }

    /// The whole message, headers and body.
    public func rendered() -> [UInt8] {
        var lines: [String] = []
        let sender = Mailbox(message.sender)
        lines.append(Self.header("From", Self.mailbox(sender, fallback: message.sender)))
        lines.append(Self.header("To", message.recipient.value))
        lines.append(Self.header("Subject", Self.encodedText(message.subject, after: "Subject: ".count)))
        lines.append(Self.header("Date", Self.rfc5322Date(date)))
        lines.append(Self.header("Message-ID", messageID))
        lines.append("MIME-Version: 1.0")
        for header in message.headers where !MailHeader.reservedNames.contains(header.name.lowercased()) {
            lines.append(Self.header(header.name, Self.encodedText(header.value, after: header.name.utf8.count + 2)))
        }
        switch (message.text, message.html) {
        case (let text?, let html?):
            lines.append("Content-Type: multipart/alternative;\r\n boundary=\"\(boundary)\"")
            lines.append("")
            lines.append("This is a multi-part message in MIME format.")
            for (subtype, body) in [("plain", text), ("html", html)] {
                lines.append("--\(boundary)")
                lines.append(contentsOf: Self.part(subtype: subtype, body: body))
            }
            lines.append("--\(boundary)--")
        case (let text?, nil):
            lines.append(contentsOf: Self.part(subtype: "plain", body: text))
        case (nil, let html?):
            lines.append(contentsOf: Self.part(subtype: "html", body: html))
        case (nil, nil):
            lines.append(contentsOf: Self.part(subtype: "plain", body: ""))
        }
        return Array((lines.joined(separator: "\r\n") + "\r\n").utf8)
    }

    /// A body part's headers, a blank line, then its quoted-printable text.
    private static func part(subtype: String, body: String) -> [String] {
        ["Content-Type: text/\(subtype); charset=utf-8", "Content-Transfer-Encoding: quoted-printable", "",
         QuotedPrintable.encode(body)]
    }

    private static func header(_ name: String, _ value: String) -> String { "\(name): \(value)" }

    /// `address` or `Name <address>`, the name quoted or encoded as RFC 5322 and 2047 require.
    static func mailbox(_ mailbox: Mailbox?, fallback: String) -> String {
        guard let mailbox else { return fallback }
        guard let name = mailbox.name else { return mailbox.address.value }
        let atext = name.utf8.allSatisfy { byte in
            (byte >= 0x30 && byte <= 0x39) || (byte | 0x20 >= 0x61 && byte | 0x20 <= 0x7A) || Array("!#$%&'*+-/=?^_`{|}~ ".utf8).contains(byte)
        }
        let phrase: String
        if atext {
            phrase = name
        } else if name.utf8.allSatisfy({ $0 >= 0x20 && $0 < 0x7F }) {
            phrase = "\"" + name.replacingBytes([UInt8(ascii: "\\"), UInt8(ascii: "\"")]) + "\""
        } else {
            phrase = encodedWords(name)
        }
        return "\(phrase) <\(mailbox.address.value)>"
    }

    /// Header text as is when it is short printable ASCII, folded at spaces when long, and as
    /// RFC 2047 encoded words otherwise. `offset` is the length of `Name: ` before it.
    static func encodedText(_ text: String, after offset: Int) -> String {
        let printable = text.utf8.allSatisfy { $0 >= 0x20 && $0 < 0x7F }
        guard printable else { return encodedWords(text) }
        let words = text.split(separator: " ", omittingEmptySubsequences: false)
        // A word too long for one line cannot be folded: encoded words can be split anywhere.
        guard words.allSatisfy({ $0.utf8.count < 900 }), !text.hasPrefix("=?") else { return encodedWords(text) }
        var lines: [String] = []
        var line = ""
        var width = offset
        for (index, word) in words.enumerated() {
            if index > 0, width + 1 + word.utf8.count > 78, !line.isEmpty {
                lines.append(line)
                line = String(word)
                width = 1 + word.utf8.count
            } else {
                line += (index > 0 ? " " : "") + word
                width += (index > 0 ? 1 : 0) + word.utf8.count
            }
        }
        lines.append(line)
        // Folding: CRLF followed by the space that separated the words.
        return lines.joined(separator: "\r\n ")
    }

    /// `=?UTF-8?B?...?=` words of whole characters, one per folded line.
    static func encodedWords(_ text: String) -> String {
        var words: [String] = []
        var chunk: [UInt8] = []
        for character in text {
            let bytes = Array(String(character).utf8)
            if chunk.count + bytes.count > 39, !chunk.isEmpty {
                words.append("=?UTF-8?B?" + Data(chunk).base64EncodedString() + "?=")
                chunk = []
            }
            chunk.append(contentsOf: bytes)
        }
        if !chunk.isEmpty || words.isEmpty { words.append("=?UTF-8?B?" + Data(chunk).base64EncodedString() + "?=") }
        return words.joined(separator: "\r\n ")
    }

    /// `Thu, 26 Nov 2026 18:07:57 +0000`.
    static func rfc5322Date(_ timestamp: Timestamp) -> String {
        let seconds = timestamp.seconds
        let days = Int(seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400)
        let secondOfDay = Int(seconds - Int64(days) * 86_400)
        let (year, month, day) = RFC3339.civilFromDays(days)
        let weekdays = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"]  // 1970-01-01 was a Thursday.
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        func two(_ value: Int) -> String { value < 10 ? "0\(value)" : "\(value)" }
        let weekday = weekdays[((days % 7) + 7) % 7]
        return "\(weekday), \(day) \(months[month - 1]) \(year) "
            + "\(two(secondOfDay / 3600)):\(two(secondOfDay / 60 % 60)):\(two(secondOfDay % 60)) +0000"
    }
}

extension String {
    /// The string with a backslash before each of `bytes` (quoted-string escaping).
    fileprivate func replacingBytes(_ bytes: [UInt8]) -> String {
        var out: [UInt8] = []
        for byte in utf8 {
            if bytes.contains(byte) { out.append(UInt8(ascii: "\\")) }
            out.append(byte)
        }
        return String(decoding: out, as: UTF8.self)
    }
}
