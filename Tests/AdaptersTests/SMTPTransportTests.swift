@testable import Adapters
import CortexTestSupport
import Engine
import Foundation
import Testing

/// The SMTP transport against a real SMTP server (aiosmtpd, started by the test script) with
/// STARTTLS, implicit TLS, AUTH and a private certificate authority. What the server received
/// is parsed by Python's email package, an independent MIME reader.
@Suite(.enabled(if: SMTPTestServer.current != nil, "needs the SMTP test server (scripts/test.sh starts it)"))
struct SMTPTransportTests {
    static var server: SMTPTestServer { SMTPTestServer.current! }

    static func transport(_ url: String? = nil, caFile: String?? = .none) throws -> SMTPTransport {
        let settings = try SMTPSettings(url: url ?? server.starttlsURL, caFile: caFile ?? server.caFile)
        return SMTPTransport(settings: settings)
    }

    static func email(_ id: Int64, to: String, subject: String = "Your order", html: String? = "<p>Thanks!</p>",
                      text: String? = "Thanks!", headers: [MailHeader] = []) -> OutgoingEmail {
        OutgoingEmail(jobID: id, message: NewEmailJob(
            idempotencyKey: "k\(id)", recipient: EmailAddress(to)!, sender: "Zoë's Shop <shop@example.com>",
            subject: subject, html: html, text: text, headers: headers))
    }

    @Test func sendsAWellFormedMultipartMessageOverSTARTTLSWithAuth() async throws {
        let to = SMTPTestServer.uniqueRecipient()
        let longLine = String(repeating: "<span>wide</span>", count: 200)  // 3,400 characters on one line
        let html = "<h1>Grüße</h1>\n\(longLine)\n.leading dot\nend"
        let text = "Grüße, Zoë\n.leading dot\r\ntrailing space \nlast"
        let subject = "Ihre Bestellung #42 – danke schön 🎉"
        let results = try await Self.transport().send([
            Self.email(1, to: to, subject: subject, html: html, text: text,
                       headers: [MailHeader(name: "X-Campaign", value: "spring")]),
        ])
        guard case .sent(let messageID)? = results.first, results.count == 1 else {
            Issue.record("not sent: \(results)")
            return
        }
        let received = Self.server.received(by: to)
        try #require(received.count == 1)
        let message = received[0]
        #expect(message.listener == "starttls")
        #expect(message.encrypted && message.authenticated)
        #expect(message.mailFrom == "shop@example.com")
        #expect(message.defects.isEmpty)
        #expect(!message.bareLineBreaks)
        #expect(message.maxLineOctets <= 78)
        #expect(message.contentType == "multipart/alternative")
        #expect(message.headers["subject"] == subject)
        #expect(message.headers["from"] == "Zoë's Shop <shop@example.com>")
        #expect(message.headers["to"] == to)
        #expect(message.headers["message-id"] == "<\(messageID)>")
        #expect(message.headers["mime-version"] == "1.0")
        #expect(message.headers["x-campaign"] == "spring")
        #expect(message.headers["date"]?.hasSuffix("+0000") == true)
        let parts = message.parts
        try #require(parts.count == 2)
        #expect(parts[0].type == "text/plain" && parts[1].type == "text/html")
        #expect(parts.allSatisfy { $0.encoding == "quoted-printable" })
        #expect(parts[0].content == "Grüße, Zoë\n.leading dot\ntrailing space \nlast")
        #expect(parts[1].content == html)
    }

    @Test func sendsOverImplicitTLS() async throws {
        let to = SMTPTestServer.uniqueRecipient()
        let results = try await Self.transport(Self.server.tlsURL).send([Self.email(1, to: to, html: nil)])
        guard case .sent? = results.first else { Issue.record("not sent: \(results)"); return }
        let received = Self.server.received(by: to)
        try #require(received.count == 1)
        #expect(received[0].listener == "tls" && received[0].encrypted && received[0].authenticated)
        #expect(received[0].contentType == "text/plain")
    }

    @Test func reusesOneConnectionForABatch() async throws {
        let recipients = (0..<3).map { _ in SMTPTestServer.uniqueRecipient("reuse") }
        let transport = try Self.transport()
        let results = try await transport.send(recipients.enumerated().map { Self.email(Int64($0), to: $1) })
        #expect(results.allSatisfy { if case .sent = $0 { true } else { false } })
        let connections = Set(recipients.flatMap { Self.server.received(by: $0).map(\.connection) })
        #expect(connections.count == 1)
    }

    @Test func fourHundredsAreRetriedAndFiveHundredsFail() async throws {
        let good = SMTPTestServer.uniqueRecipient()
        let results = try await Self.transport().send([
            Self.email(1, to: SMTPTestServer.uniqueRecipient("tempfail")),
            Self.email(2, to: SMTPTestServer.uniqueRecipient("reject")),
            Self.email(3, to: SMTPTestServer.uniqueRecipient("datafail")),
            Self.email(4, to: good),
        ])
        try #require(results.count == 4)
        guard case .deferred(let reason, _) = results[0] else { Issue.record("451 not deferred: \(results[0])"); return }
        #expect(reason.contains("451"))
        guard case .rejected(let rejected, false) = results[1] else { Issue.record("550 not failed: \(results[1])"); return }
        #expect(rejected.contains("550"))
        guard case .rejected(let refused, false) = results[2] else { Issue.record("554 not failed: \(results[2])"); return }
        #expect(refused.contains("554"))
        guard case .sent = results[3] else { Issue.record("good recipient not sent: \(results[3])"); return }
        #expect(Self.server.received(by: good).count == 1)
    }

    @Test func wrongPasswordPausesSending() async throws {
        let url = "smtp://\(Self.server.user):wrong@127.0.0.1:\(Self.server.starttlsPort)"
        await #expect {
            _ = try await Self.transport(url).send([Self.email(1, to: SMTPTestServer.uniqueRecipient())])
        } throws: { error in
            guard let error = error as? TransportError else { return false }
            // The refusal is reported without the password.
            return error.kind == .misconfigured && error.message.contains("535") && !error.message.contains("wrong")
        }
    }

    @Test func refusesAServerWithoutSTARTTLS() async throws {
        let to = SMTPTestServer.uniqueRecipient()
        let url = "smtp://\(Self.server.user):\(Self.server.password)@127.0.0.1:\(Self.server.plainPort)"
        await #expect {
            _ = try await Self.transport(url).send([Self.email(1, to: to)])
        } throws: { error in
            (error as? TransportError)?.kind == .misconfigured
        }
        #expect(Self.server.received(by: to).isEmpty)
    }

    @Test func refusesACertificateItDoesNotTrust() async throws {
        let to = SMTPTestServer.uniqueRecipient()
        await #expect {
            _ = try await Self.transport(caFile: .some(nil)).send([Self.email(1, to: to)])
        } throws: { error in
            (error as? TransportError)?.kind == .misconfigured
        }
        #expect(Self.server.received(by: to).isEmpty)
    }

    @Test func anUnreachableServerIsThrottled() async throws {
        // A port that was just free: nothing listens there.
        let url = "smtp://u:p@127.0.0.1:1"
        await #expect {
            _ = try await Self.transport(url).send([Self.email(1, to: SMTPTestServer.uniqueRecipient())])
        } throws: { error in
            (error as? TransportError)?.kind == .throttled(retryAfter: nil)
        }
    }
}
