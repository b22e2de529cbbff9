import Adapters
import CortexTestSupport
import Engine
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Synchronization
import Testing

@testable import Gateway

/// The issue's end-to-end bar: 1,000 messages posted through the API arrive exactly once at a
/// real provider (the local Postmark API server, or the aiosmtpd SMTP server), in batches the
/// provider allows, no faster than `CORTEX_SEND_RATE`. Time is simulated: the sender's pauses
/// advance the manual clock instead of sleeping.
@Suite struct OutboundDeliveryTests {
    static let count = 1_000
    static let rate = 250.0

    enum Provider: String, CaseIterable, CustomStringConvertible {
        case postmark, smtp
        var description: String { rawValue }
        static var available: [Provider] { SMTPTestServer.current == nil ? [.postmark] : [.postmark, .smtp] }
    }

    /// Records each call the sender makes to the real transport, with the simulated time.
    final class RecordingTransport: MailTransport {
        let inner: any MailTransport
        let clock: ManualWallClock
        let calls = Mutex<[(at: Timestamp, count: Int)]>([])
        var name: String { inner.name }
        var maxBatchSize: Int { inner.maxBatchSize }

        init(inner: any MailTransport, clock: ManualWallClock) {
            self.inner = inner
            self.clock = clock
        }

        func send(_ batch: [OutgoingEmail]) async throws(TransportError) -> [DeliveryResult] {
            calls.withLock { $0.append((clock.now(), batch.count)) }
            return try await inner.send(batch)
        }
    }

    @Test(arguments: Provider.available)
    func aThousandMessagesArriveExactlyOnceAtTheConfiguredRate(provider: Provider) async throws {
        let fake = FakePostmark()
        let postmark = Application(router: fake.router(), configuration: .init(address: .hostname("127.0.0.1", port: 0)))
        let run = UUID().uuidString.prefix(8).lowercased()
        let recipients = (0..<Self.count).map { "bulk-\(run)-\($0)@example.com" }
        try await postmark.test(.live) { postmarkClient in
            let port = try #require(postmarkClient.port)
            let app = try await TestApp.make {
                $0.mailFrom = "Shop <shop@example.com>"
                $0.sendRate = Self.rate
                switch provider {
                case .postmark:
                    $0.mailProvider = .postmark
                    $0.postmarkServerToken = FakePostmark.token
                    $0.postmarkAPIURL = "http://127.0.0.1:\(port)"
                case .smtp:
                    let server = SMTPTestServer.current!
                    $0.mailProvider = .smtp
                    $0.smtp = try? SMTPSettings(url: server.starttlsURL, caFile: server.caFile)
                }
            }
            let clock = try #require(app.clock as? ManualWallClock)
            let transport = RecordingTransport(inner: app.dependencies.transport, clock: clock)
            #expect(transport.name == provider.rawValue)
            try await app.test { client in
                for chunk in stride(from: 0, to: Self.count, by: 500) {
                    let body = "[" + recipients[chunk..<min(chunk + 500, Self.count)].map {
                        #"{"to":"\#($0)","subject":"Launch","text":"Hello","html":"<p>Hello</p>","track_opens":true,"track_links":"HtmlOnly","headers":{"X-Campaign":"launch"}}"#
                    }.joined(separator: ",") + "]"
                    let response = try await client.execute(uri: "/v1/messages/batch", method: .post, headers: app.bearer, body: .init(body))
                    #expect(response.status == .accepted)
                }
            }
            let sender = SenderWorker(
                store: app.store, transport: transport, clock: clock, ratePerSecond: Self.rate, logger: StoreBackend.quietLogger,
                pause: { clock.set(Timestamp(microseconds: clock.now().microseconds + $0.microsecondsRoundedUp)) })
            let started = clock.now()
            var passes = 0
            while try await sender.runOnce() != .idle {
                passes += 1
                try #require(passes < 100)
            }

            // Every message sent, once.
            let sent = try await app.store.emailJobs(EmailJobQuery(status: .sent, limit: 2 * Self.count))
            #expect(sent.count == Self.count)
            #expect(Set(sent.map(\.message.recipient.value)) == Set(recipients))

            // Paced: by each call, no more than a second's burst plus the rate times the time elapsed.
            let calls = transport.calls.withLock { $0 }
            var cumulative = 0
            for call in calls {
                cumulative += call.count
                let elapsed = Double(call.at.microseconds - started.microseconds) / 1_000_000
                #expect(Double(cumulative) <= Self.rate * elapsed + Self.rate + 0.001, "\(cumulative) sent by \(elapsed) s")
                #expect(call.count <= transport.maxBatchSize)
            }
            #expect(cumulative == Self.count)

            switch provider {
            case .postmark:
                let batches = fake.requests.compactMap(\.arrayValue)
                #expect(batches.allSatisfy { $0.count <= 500 })
                let delivered = batches.flatMap { $0 }.compactMap { $0.objectValue?["To"]?.stringValue }
                #expect(delivered.count == Self.count && Set(delivered) == Set(recipients))
                let first = try #require(batches.first?.first?.objectValue)
                #expect(first["TrackOpens"] == .bool(true))
                #expect(first["TrackLinks"] == .string("HtmlOnly"))
                #expect(first["Headers"] == .array([.object(["Name": .string("X-Campaign"), "Value": .string("launch")])]))
            case .smtp:
                let server = SMTPTestServer.current!
                for recipient in recipients {
                    let received = server.received(by: recipient)
                    #expect(received.count == 1, "\(recipient) received \(received.count) messages")
                }
                let sample = try #require(server.received(by: recipients[0]).first)
                #expect(sample.headers["x-campaign"] == "launch")
                #expect(sample.contentType == "multipart/alternative")
            }
        }
    }
}

extension Duration {
    /// The duration in whole microseconds, rounded up.
    fileprivate var microsecondsRoundedUp: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1_000_000 + (attoseconds + 999_999_999_999) / 1_000_000_000_000
    }
}
