import Crypto
import Engine
import Foundation
import Hummingbird
import HummingbirdTesting
import Synchronization
import Testing

@testable import Adapters

/// The webhook node's HTTP call against a local receiver: signed as Standard Webhooks verify
/// it, answered by status, and refused for internal addresses unless allowed.
@Suite struct HTTPWebhookCallerTests {
    final class Receiver: Sendable {
        let requests = Mutex<[(headers: [String: String], body: [UInt8])]>([])
        let status = Mutex(204)

        func router() -> Router<BasicRequestContext> {
            let router = Router()
            router.post("/hook") { request, _ -> Response in
                var request = request
                let body = Array(try await request.collectBody(upTo: 1 << 20).readableBytesView)
                var headers: [String: String] = [:]
                for field in request.headers { headers[field.name.canonicalName] = field.value }
                self.requests.withLock { $0.append((headers, body)) }
                return Response(status: .init(code: self.status.withLock { $0 }))
            }
            router.post("/moved") { _, _ -> Response in
                Response(status: .found, headers: [.location: "/hook"])
            }
            return router
        }
    }

    static let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

    static func withReceiver(_ body: @Sendable (Receiver, WebhookURL) async throws -> Void) async throws {
        let receiver = Receiver()
        let app = Application(router: receiver.router(), configuration: .init(address: .hostname("127.0.0.1", port: 0)))
        try await app.test(.live) { client in
            let port = try #require(client.port)
            try await body(receiver, try #require(WebhookURL("http://127.0.0.1:\(port)/hook")))
        }
    }

    static func call(_ url: WebhookURL) -> WebhookCall {
        WebhookCall(url: url, id: "automation:7:hook", timestamp: Timestamp(seconds: 1_800_000_000), body: Array(#"{"a":1}"#.utf8), secret: secret)
    }

    @Test func aCallIsSignedAsStandardWebhooksVerifyIt() async throws {
        try await Self.withReceiver { receiver, url in
            let result = await HTTPWebhookCaller(allowPrivate: true).call(Self.call(url))
            #expect(result == .delivered(status: 204))
            let request = try #require(receiver.requests.withLock { $0.first })
            #expect(request.headers["webhook-id"] == "automation:7:hook" && request.headers["webhook-timestamp"] == "1800000000")
            #expect(request.body == Array(#"{"a":1}"#.utf8))
            // The signature, computed here from the specification, not by the code under test.
            let key = SymmetricKey(data: try #require(Data(base64Encoded: String(Self.secret.dropFirst(6)))))
            let mac = HMAC<SHA256>.authenticationCode(for: Array("automation:7:hook.1800000000.{\"a\":1}".utf8), using: key)
            #expect(request.headers["webhook-signature"] == "v1," + Data(mac).base64EncodedString())
        }
    }

    @Test func answersDecideWhetherToRetry() async throws {
        try await Self.withReceiver { receiver, url in
            let caller = HTTPWebhookCaller(allowPrivate: true)
            receiver.status.withLock { $0 = 503 }
            #expect(await caller.call(Self.call(url)) == .failed(reason: "HTTP 503", retryable: true))
            receiver.status.withLock { $0 = 410 }
            #expect(await caller.call(Self.call(url)) == .failed(reason: "HTTP 410", retryable: false))
        }
    }

    @Test func internalAddressesAreRefusedUnlessAllowed() async throws {
        try await Self.withReceiver { receiver, url in
            let result = await HTTPWebhookCaller(allowPrivate: false).call(Self.call(url))
            guard case .failed(let reason, let retryable) = result else { Issue.record("called \(result)"); return }
            #expect(!retryable && reason.contains("127.0.0.1, an internal address"))
            #expect(receiver.requests.withLock { $0.isEmpty })
        }
        for address in ["127.0.0.1", "10.1.2.3", "172.20.0.1", "192.168.1.1", "169.254.169.254", "0.0.0.0", "::1", "fe80::1", "fd00::1", "::ffff:127.0.0.1"] {
            #expect(NetworkAddress.isInternal(address), "\(address)")
        }
        for address in ["93.184.216.34", "172.32.0.1", "2606:2800:220:1::1"] {
            #expect(!NetworkAddress.isInternal(address), "\(address)")
        }
    }

    @Test func aRedirectIsAnAnswerNotFollowed() async throws {
        try await Self.withReceiver { receiver, url in
            let moved = try #require(WebhookURL(url.text.replacingOccurrences(of: "/hook", with: "/moved")))
            #expect(await HTTPWebhookCaller(allowPrivate: true).call(Self.call(moved)) == .failed(reason: "HTTP 302", retryable: false))
            #expect(receiver.requests.withLock { $0.isEmpty })
        }
    }

    /// The call goes to the address that was checked, not to whatever the name resolves to by
    /// the time it connects (DNS rebinding): here the name resolves nowhere at all, so only a
    /// call pinned to the checked address can arrive.
    @Test func theCallConnectsToTheAddressThatWasChecked() async throws {
        try await Self.withReceiver { receiver, url in
            let port = try #require(url.text.split(separator: ":").last?.split(separator: "/").first)
            let named = try #require(WebhookURL("http://rebind.invalid:\(port)/hook"))
            let caller = HTTPWebhookCaller(allowPrivate: false, resolve: { _ in ["127.0.0.1"] }, isInternal: { _ in false })
            #expect(await caller.call(Self.call(named)) == .delivered(status: 204))
            #expect(receiver.requests.withLock { $0.count } == 1)
        }
    }
}
