@testable import Adapters
import CortexTestSupport
import Engine
import Hummingbird
import HummingbirdTesting
import Testing

@Suite struct PostmarkTransportTests {
    static func email(_ id: Int64, to: String, stream: EmailStream = .transactional) -> OutgoingEmail {
        OutgoingEmail(
            jobID: id,
            message: NewEmailJob(
                idempotencyKey: "k\(id)", recipient: EmailAddress(to)!, sender: "Shop <shop@example.com>", subject: "Hi",
                html: "<p>Hi</p>", text: "Hi", stream: stream, tag: "welcome", metadata: #"{"order":"42"}"#))
    }

    /// Runs `body` with a transport pointed at a fake Postmark on a real local port.
    static func withPostmark(
        token: String = FakePostmark.token, _ body: @Sendable @escaping (PostmarkTransport, FakePostmark) async throws -> Void
    ) async throws {
        let fake = FakePostmark()
        let app = Application(router: fake.router(), configuration: .init(address: .hostname("127.0.0.1", port: 0)))
        try await app.test(.live) { client in
            let port = try #require(client.port)
            try await body(PostmarkTransport(baseURL: "http://127.0.0.1:\(port)/", serverToken: token), fake)
        }
    }

    @Test func eachMessageGetsItsOwnResult() async throws {
        try await Self.withPostmark { transport, fake in
            let results = try await transport.send([
                Self.email(1, to: "ada@example.com"), Self.email(2, to: "inactive@example.com"),
                Self.email(3, to: "invalid@example.com"), Self.email(4, to: "bo@example.com", stream: .broadcast),
            ])
            #expect(results.count == 4)
            guard case .sent(let id)? = results.first else { Issue.record("first not sent: \(results)"); return }
            #expect(!id.isEmpty)
            #expect(results[1] == .rejected(
                reason: "Postmark 406: You tried to send to a recipient that has been marked as inactive. Found inactive addresses: inactive@example.com. ",
                suppressRecipient: true))
            #expect(results[2] == .rejected(reason: "Postmark 300: Invalid 'To' address: 'invalid@example.com'.", suppressRecipient: false))
            guard case .sent = results[3] else { Issue.record("fourth not sent"); return }

            let sent = try #require(fake.requests.first)
            guard case .array(let items) = sent else { return }
            let first = try #require(items.first?.objectValue)
            #expect(first["From"] == .string("Shop <shop@example.com>"))
            #expect(first["To"] == .string("ada@example.com"))
            #expect(first["MessageStream"] == .string("outbound"))
            #expect(first["Tag"] == .string("welcome"))
            #expect(first["Metadata"] == .object(["order": .string("42")]))
            #expect(first["HtmlBody"] == .string("<p>Hi</p>") && first["TextBody"] == .string("Hi"))
            #expect(items[3].objectValue?["MessageStream"] == .string("broadcast"))
            // A server's own broadcast stream, when configured.
            let named = PostmarkTransport.payload(Self.email(4, to: "bo@example.com", stream: .broadcast), broadcastStream: "newsletters")
            #expect(named["MessageStream"] == .string("newsletters"))
        }
    }

    @Test func aBadTokenIsAConfigurationError() async throws {
        try await Self.withPostmark(token: "wrong") { transport, _ in
            await #expect {
                _ = try await transport.send([Self.email(1, to: "ada@example.com")])
            } throws: { error in
                (error as? TransportError)?.kind == .misconfigured
                    && (error as? TransportError)?.message.contains("HTTP 401") == true
            }
        }
    }

    @Test func throttlingAndOutagesAreRetriedHonouringRetryAfter() async throws {
        try await Self.withPostmark { transport, _ in
            await #expect {
                _ = try await transport.send([Self.email(1, to: "throttle@example.com")])
            } throws: { error in
                (error as? TransportError)?.kind == .throttled(retryAfter: .seconds(7))
            }
            await #expect {
                _ = try await transport.send([Self.email(1, to: "down@example.com")])
            } throws: { error in
                (error as? TransportError)?.kind == .throttled(retryAfter: nil)
            }
        }
    }

    @Test func anUnreachableServerIsThrottledNotFatal() async throws {
        let transport = PostmarkTransport(baseURL: "http://127.0.0.1:1", serverToken: "t", timeout: .seconds(5))
        await #expect {
            _ = try await transport.send([Self.email(1, to: "ada@example.com")])
        } throws: { error in
            (error as? TransportError)?.kind == .throttled(retryAfter: nil)
        }
    }
}
