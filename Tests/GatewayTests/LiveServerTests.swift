import Configuration
import Engine
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

@testable import Gateway

/// `cortex serve` as a user runs it: configuration from the environment, a real socket.
@Suite struct LiveServerTests {
    @Test func aSignedEventOverARealSocketIsStoredAndReadBack() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("cortex-live-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let reader = try await CortexConfiguration.reader(
            environment: [
                "CORTEX_HTTP_PORT": "0", "CORTEX_DATABASE_URL": "sqlite:\(directory.path)/cortex.sqlite",
                "CORTEX_CHECKOUT_SECRET": TestApp.secret, "CORTEX_API_KEYS": "live-key",
            ],
            file: nil)
        let app = try await buildApplication(reader: reader)
        let body = #"{"type":"checkout.completed","data":{"email":"live@example.com"}}"#
        let verifier = try StandardWebhooksVerifier(secret: TestApp.secret)
        let now = SystemWallClock().now().seconds
        let headers: HTTPFields = [
            .webhookID: "msg_live", .webhookTimestamp: String(now),
            .webhookSignature: verifier.signature(id: "msg_live", timestamp: now, body: Array(body.utf8)),
        ]
        try await app.test(.live) { client in
            let response = try await client.execute(uri: "/webhooks/checkout", method: .post, headers: headers, body: .init(body))
            #expect(response.status == .accepted)
            let listing = try await client.execute(
                uri: "/v1/activities?email=live@example.com", method: .get, headers: [.authorization: "Bearer live-key"])
            #expect(listing.json["data"]?.arrayValue?.count == 1)
            let ready = try await client.execute(uri: "/readyz", method: .get)
            #expect(ready.status == .ok)
        }
    }
}
