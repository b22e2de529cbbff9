import Engine
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import CortexTestSupport

@testable import Gateway

/// A Cortex application on a fresh SQLite file with a fixed clock, and helpers to call it.
struct TestApp {
    /// The Standard Webhooks test vector's secret.
    static let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    static let apiKey = "ck_test_configured_key"
    static let stripeSecret = "whsec_stripe_endpoint_secret_for_tests"
    static let thinkificSecret = "thinkific_api_key_for_tests"
    static let postmarkUser = "postmark-hook"
    /// Two passwords, as during a rotation.
    static let postmarkPasswords = ["old-password", "new-password"]
    static let start = Timestamp(seconds: 1_614_265_330)

    let store: any Store
    let clock: ManualWallClock
    let configuration: CortexConfiguration
    /// False when the store's services already run around the test.
    var runsStoreServices = true
    /// One status for the app's `/readyz` and the senders a test drives.
    let senderStatus = SenderStatus()
    /// Where the app logs; quiet unless a test records it.
    var logger = StoreBackend.quietLogger

    static func make(_ configure: (inout CortexConfiguration) -> Void = { _ in }) async throws -> TestApp {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("cortex-gw-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let store = try SQLiteStore(path: directory.appendingPathComponent("cortex.sqlite").path)
        try await store.migrate()
        return TestApp(store: store, clock: ManualWallClock(start), configuration: configuration(configure))
    }

    /// Runs `body` with an app on a fresh database of `backend`.
    static func with(
        _ backend: StoreBackend, _ configure: (inout CortexConfiguration) -> Void = { _ in },
        _ body: (TestApp) async throws -> Void
    ) async throws {
        switch backend {
        case .sqlite:
            try await body(try await make(configure))
        case .postgres:
            let configuration = configuration(configure)
            try await StoreBackend.withFreshDatabase { settings in
                let store = PostgresStore(settings: settings, logger: StoreBackend.quietLogger)
                try await store.withServicesRunning {
                    try await store.migrate()
                    try await body(
                        TestApp(store: store, clock: ManualWallClock(start), configuration: configuration, runsStoreServices: false))
                }
            }
        }
    }

    static func configuration(_ configure: (inout CortexConfiguration) -> Void) -> CortexConfiguration {
        var configuration = CortexConfiguration()
        configuration.checkoutSecret = secret
        configuration.apiKeys = [apiKey]
        configuration.stripeSecret = stripeSecret
        configuration.thinkificSecret = thinkificSecret
        configuration.postmarkCredentials = BasicCredentials(user: postmarkUser, passwords: postmarkPasswords)
        configure(&configuration)
        return configuration
    }

    var dependencies: AppDependencies {
        AppDependencies(
            configuration: configuration, store: store, clock: clock, logger: logger,
            runsStoreServices: runsStoreServices, runsSender: false, runsArchivePruner: false, senderStatus: senderStatus)
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

    /// Credentials a provider would send for `body` to `/webhooks/{provider}`, at the clock's time.
    func providerHeaders(_ provider: String, body: [UInt8], eventID: String = "msg_\(UUID().uuidString)") throws -> HTTPFields {
        let now = clock.now().seconds
        switch provider {
        case "checkout":
            let verifier = try StandardWebhooksVerifier(secret: TestApp.secret)
            return [
                .webhookID: eventID, .webhookTimestamp: String(now),
                .webhookSignature: verifier.signature(id: eventID, timestamp: now, body: body),
            ]
        case "postmark":
            let token = Data("\(TestApp.postmarkUser):\(TestApp.postmarkPasswords[1])".utf8).base64EncodedString()
            return [.authorization: "Basic \(token)"]
        case "stripe":
            let signature = HexHMAC.hex(HexHMAC(secret: TestApp.stripeSecret).signature(Array("\(now).".utf8), body))
            return [HTTPField.Name("Stripe-Signature")!: "t=\(now),v1=\(signature)"]
        case "thinkific":
            let signature = HexHMAC.hex(HexHMAC(secret: TestApp.thinkificSecret).signature(body))
            return [HTTPField.Name("X-Thinkific-Hmac-Sha256")!: signature]
        default:
            throw TestAppError(message: "no credentials for \(provider)")
        }
    }

    /// How many archive rows and activities the store holds.
    func counts() async throws -> (inbound: Int, activities: Int) {
        (
            try await store.inboundEvents(InboundQuery(limit: 10_000)).count,
            try await store.activities(ActivityQuery(limit: 10_000)).count
        )
    }
}

struct TestAppError: Error {
    let message: String
}

/// JSON with every object's members sorted by key, so two documents compare by meaning.
func canonical(_ json: JSON) -> JSON {
    switch json {
    case .array(let items): .array(items.map(canonical))
    case .object(let object):
        .object(JSONObject(object.members.map { (key: $0.key, value: canonical($0.value)) }.sorted { $0.key < $1.key }))
    default: json
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

extension ByteBuffer {
    init(_ text: String) { self.init(string: text) }
}

extension HTTPField.Name {
    static let webhookID = HTTPField.Name("webhook-id")!
    static let webhookTimestamp = HTTPField.Name("webhook-timestamp")!
    static let webhookSignature = HTTPField.Name("webhook-signature")!
}
