import Engine
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting

@testable import Gateway

/// A Cortex application on a fresh SQLite file with a fixed clock, and helpers to call it.
struct TestApp {
    /// The Standard Webhooks test vector's secret.
    static let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    static let apiKey = "ck_test_configured_key"
    static let start = Timestamp(seconds: 1_614_265_330)

    let store: any Store
    let clock: ManualWallClock
    let configuration: CortexConfiguration

    static func make(_ configure: (inout CortexConfiguration) -> Void = { _ in }) async throws -> TestApp {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("cortex-gw-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let store = try SQLiteStore(path: directory.appendingPathComponent("cortex.sqlite").path)
        try await store.migrate()
        var configuration = CortexConfiguration()
        configuration.checkoutSecret = secret
        configuration.apiKeys = [apiKey]
        configure(&configuration)
        return TestApp(store: store, clock: ManualWallClock(start), configuration: configuration)
    }

    var dependencies: AppDependencies {
        AppDependencies(configuration: configuration, store: store, clock: clock)
    }

    func test<Value: Sendable>(_ body: @Sendable @escaping (any TestClientProtocol) async throws -> Value) async throws -> Value {
        try await buildApplication(dependencies).test(.router) { client in try await body(client) }
    }

    /// Standard Webhooks headers for `body`, signed with `secret` at the clock's time.
    func signed(
        _ body: String, id: String = "msg_\(UUID().uuidString)", timestamp: Int64? = nil, secret: String = TestApp.secret
    ) throws -> HTTPFields {
        let verifier = try StandardWebhooksVerifier(secret: secret)
        let time = timestamp ?? clock.now().seconds
        return [
            .webhookID: id,
            .webhookTimestamp: String(time),
            .webhookSignature: verifier.signature(id: id, timestamp: time, body: Array(body.utf8)),
            .contentType: "application/json",
        ]
    }

    var bearer: HTTPFields { [.authorization: "Bearer \(TestApp.apiKey)"] }

    /// How many archive rows and activities the store holds.
    func counts() async throws -> (inbound: Int, activities: Int) {
        (
            try await store.inboundEvents(InboundQuery(limit: 10_000)).count,
            try await store.activities(ActivityQuery(limit: 10_000)).count
        )
    }
}

extension TestResponse {
    /// The parsed JSON body.
    var json: JSON {
        (try? JSONParser.parse(Array(body.readableBytesView))) ?? .null
    }

    /// `error.code` of a JSON error body.
    var errorCode: String? {
        json.objectValue?["error"]?.objectValue?["code"]?.stringValue
    }
}

extension JSON {
    subscript(key: String) -> JSON? { objectValue?[key] }

    var arrayValue: [JSON]? {
        if case .array(let items) = self { return items }
        return nil
    }
}

extension ByteBuffer {
    init(_ text: String) { self.init(string: text) }
}

extension HTTPField.Name {
    static let webhookID = HTTPField.Name("webhook-id")!
    static let webhookTimestamp = HTTPField.Name("webhook-timestamp")!
    static let webhookSignature = HTTPField.Name("webhook-signature")!
}
