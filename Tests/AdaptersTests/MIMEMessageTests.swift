@testable import Adapters
import Engine
import Testing

@Suite struct MIMEMessageTests {
    static func message(subject: String = "Hello", html: String? = nil, text: String? = "Hi", sender: String = "shop@example.com",
                        headers: [MailHeader] = []) -> NewEmailJob {
        NewEmailJob(idempotencyKey: "k", recipient: EmailAddress("ada@example.com")!, sender: sender, subject: subject,
                    html: html, text: text, headers: headers)
    }

    static func render(_ message: NewEmailJob) -> String {
        String(decoding: MIMEMessage(message, messageID: "<id@example.com>", date: Timestamp(microseconds: 1_795_716_477_000_000),
                                     boundary: "=_b").rendered(), as: UTF8.self)
    }

    @Test func quotedPrintableKeepsLinesShortAndEscapesWhatMustBe() {
        let encoded = QuotedPrintable.encode(String(repeating: "a=b ", count: 60) + "\n.dot\nend \tx\nü")
        let lines = encoded.components(separatedBy: "\r\n")
        #expect(lines.allSatisfy { $0.utf8.count <= 76 })
        #expect(!encoded.contains("\n.") && encoded.contains("=2Edot"))
        #expect(encoded.contains("a=3Db"))
        #expect(encoded.hasSuffix("=C3=BC"))
        // Only soft breaks end with '=' and no line ends in a space or tab.
        #expect(lines.allSatisfy { !$0.hasSuffix(" ") && !$0.hasSuffix("\t") })
    }

    @Test func quotedPrintableDecodesBackToTheInput() {
        let input = "Grüße\r\n" + String(repeating: "x", count: 300) + " end \n..twice"
        let encoded = QuotedPrintable.encode(input)
        #expect(Self.decodeQuotedPrintable(encoded) == "Grüße\r\n" + String(repeating: "x", count: 300) + " end \r\n..twice")
    }

    @Test func nonASCIISubjectsBecomeEncodedWordsOfWholeCharacters() {
        let words = MIMEMessage.encodedWords(String(repeating: "ü", count: 30))
        #expect(words.hasPrefix("=?UTF-8?B?"))
        #expect(words.components(separatedBy: "\r\n ").count == 2)  // 60 bytes in chunks of at most 39
        #expect(MIMEMessage.encodedText("plain words", after: 9) == "plain words")
    }

    @Test func longASCIISubjectsAreFoldedAtSpaces() {
        let subject = Array(repeating: "word", count: 40).joined(separator: " ")
        let folded = MIMEMessage.encodedText(subject, after: 9)
        #expect(folded.replacingOccurrences(of: "\r\n", with: "") == subject)
        #expect(("Subject: " + folded).components(separatedBy: "\r\n").allSatisfy { $0.utf8.count <= 78 })
    }

    @Test func dateIsRFC5322() {
        #expect(MIMEMessage.rfc5322Date(Timestamp(microseconds: 0)) == "Thu, 1 Jan 1970 00:00:00 +0000")
        #expect(MIMEMessage.rfc5322Date(Timestamp(microseconds: 1_795_716_477_000_000)) == "Thu, 26 Nov 2026 18:07:57 +0000")
    }

    @Test func displayNamesAreQuotedOrEncoded() {
        #expect(MIMEMessage.mailbox(Mailbox("Shop <s@example.com>"), fallback: "") == "Shop <s@example.com>")
        #expect(MIMEMessage.mailbox(Mailbox("\"Shop, Inc.\" <s@example.com>"), fallback: "") == "\"Shop, Inc.\" <s@example.com>")
        #expect(MIMEMessage.mailbox(Mailbox("Zoë <s@example.com>"), fallback: "") == "=?UTF-8?B?Wm/Dqw==?= <s@example.com>")
        #expect(Mailbox("Evil\r\nBcc: x@example.com <s@example.com>") == nil)
    }

    @Test func textOnlyHasNoMultipartAndCallerHeadersCannotReplaceOurs() {
        let rendered = Self.render(Self.message(headers: [MailHeader(name: "Subject", value: "spoof"), MailHeader(name: "X-Tag", value: "a")]))
        #expect(rendered.contains("Content-Type: text/plain; charset=utf-8\r\n"))
        #expect(!rendered.contains("multipart"))
        #expect(!rendered.contains("spoof"))
        #expect(rendered.contains("\r\nX-Tag: a\r\n"))
        #expect(!rendered.replacingOccurrences(of: "\r\n", with: "").contains("\n"))
    }

    @Test func bothBodiesArePlainTextThenHTML() throws {
        let rendered = Self.render(Self.message(html: "<p>Hi</p>", text: "Hi"))
        let plain = try #require(rendered.range(of: "text/plain"))
        let html = try #require(rendered.range(of: "text/html"))
        #expect(plain.lowerBound < html.lowerBound)
        #expect(rendered.hasSuffix("--=_b--\r\n"))
    }

    /// A reference decoder (RFC 2045 §6.7), independent of the encoder.
    static func decodeQuotedPrintable(_ text: String) -> String {
        var bytes: [UInt8] = []
        let input = Array(text.utf8)
        var index = 0
        while index < input.count {
            guard input[index] == UInt8(ascii: "="), index + 2 < input.count else {
                bytes.append(input[index])
                index += 1
                continue
            }
            // `=` CRLF is a soft line break; `=XX` a byte.
            if input[index + 1] != 0x0D || input[index + 2] != 0x0A {
                bytes.append(UInt8(String(decoding: input[(index + 1)...(index + 2)], as: UTF8.self), radix: 16)!)
            }
            index += 3
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
