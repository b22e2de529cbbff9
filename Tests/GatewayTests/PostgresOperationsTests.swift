import CortexTestSupport
import Engine
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

@testable import Gateway

/// Behaviour that only a shared PostgreSQL server has: several instances, and outages.
/// Runs whenever the test script provides a server (always in CI).
@Suite(.enabled(if: StoreBackend.adminURL != nil, "needs CORTEX_TEST_DATABASE_URL"))
struct PostgresOperationsTests {
    static func app(_ settings: PostgresSettings, migrates: Bool = true) -> Application<RouterResponder<BasicRequestContext>> {
        var configuration = CortexConfiguration()
        configuration.port = 0
        configuration.checkoutSecret = TestApp.secret
        configuration.apiKeys = [TestApp.apiKey]
        let store = PostgresStore(settings: settings, logger: StoreBackend.quietLogger)
        var app = buildApplication(
            AppDependencies(configuration: configuration, store: store, logger: StoreBackend.quietLogger))
        if migrates { app.beforeServerStarts { try await store.migrate() } }
        return app
    }

    @Test func twoInstancesStoreEachEventExactlyOnceWhenBothGetIt() async throws {
        try await StoreBackend.withFreshDatabase { settings in
            let first = Self.app(settings)
            let second = Self.app(settings)
            let verifier = try StandardWebhooksVerifier(secret: TestApp.secret)
            let events = 25
            try await first.test(.live) { one in
                try await second.test(.live) { two in
                    #expect(one.port != two.port)
                    for index in 0..<events {
                        let body = #"{"type":"checkout.completed","data":{"email":"twin\#(index)@example.com"}}"#
                        let now = SystemWallClock().now().seconds
                        let headers: HTTPFields = [
                            .webhookID: "msg_twin_\(index)", .webhookTimestamp: String(now),
                            .webhookSignature: verifier.signature(id: "msg_twin_\(index)", timestamp: now, body: Array(body.utf8)),
                        ]
                        // The same delivery reaches both instances at the same moment.
                        async let a = one.execute(uri: "/webhooks/checkout", method: .post, headers: headers, body: .init(body))
                        async let b = two.execute(uri: "/webhooks/checkout", method: .post, headers: headers, body: .init(body))
                        let (ra, rb) = try await (a, b)
                        #expect(ra.status == .accepted && rb.status == .accepted)
                        #expect([ra.json["duplicate"], rb.json["duplicate"]].filter { $0 == .bool(false) }.count == 1)
                        #expect(ra.json["activity_ids"] == rb.json["activity_ids"])
                    }
                    let listing = try await one.execute(
                        uri: "/v1/activities?limit=1000", method: .get, headers: [.authorization: "Bearer \(TestApp.apiKey)"])
                    #expect(listing.json["data"]?.arrayValue?.count == events)
                }
            }
        }
    }

    @Test func aLostDatabaseAnswers503PromptlyAndRecovers() async throws {
        try await StoreBackend.withFreshDatabase { settings in
            let direct = PostgresStore(settings: settings, logger: StoreBackend.quietLogger)
            try await direct.withServicesRunning { try await direct.migrate() }
            let proxy = TCPProxy(targetHost: settings.host, targetPort: settings.port)
            try await proxy.start()
            var viaProxy = settings
            viaProxy.port = proxy.port
            viaProxy.operationTimeout = .seconds(3)
            let app = Self.app(viaProxy, migrates: false)
            let event = #"{"type":"x.y","data":{"email":"outage@example.com"}}"#
            let bearer: HTTPFields = [.authorization: "Bearer \(TestApp.apiKey)"]
            try await app.test(.router) { client in
                #expect(try await client.execute(uri: "/readyz", method: .get).status == .ok)

                try await proxy.stop()
                let notReady = try await client.execute(uri: "/readyz", method: .get)
                #expect(notReady.status == .serviceUnavailable)
                #expect(notReady.errorCode == "database_unavailable")
                let refused = try await client.execute(uri: "/v1/events", method: .post, headers: bearer, body: .init(event))
                #expect(refused.status == .serviceUnavailable)
                #expect(refused.errorCode == "database_unavailable")
                #expect(try await client.execute(uri: "/healthz", method: .get).status == .ok)

                try await proxy.start()
                // No sleeping: each attempt is bounded by the 3 s operation timeout, and the
                // pool's own reconnect back-off paces them.
                var recovered = false
                for _ in 0..<20 where !recovered {
                    recovered = try await client.execute(uri: "/readyz", method: .get).status == .ok
                }
                #expect(recovered)
                let accepted = try await client.execute(uri: "/v1/events", method: .post, headers: bearer, body: .init(event))
                #expect(accepted.status == .accepted)
            }
            try await proxy.stop()
        }
    }

    @Test func sslmodeIsHonoured() async throws {
        // The test server offers no TLS: `require` must refuse to talk to it, promptly.
        var settings = try PostgresSettings(url: try #require(StoreBackend.adminURL))
        settings.tlsMode = .require
        settings.operationTimeout = .seconds(3)
        let store = PostgresStore(settings: settings, logger: StoreBackend.quietLogger)
        try await store.withServicesRunning {
            await #expect(throws: StoreError.self) { try await store.ping() }
        }
        settings.tlsMode = .prefer
        let preferring = PostgresStore(settings: settings, logger: StoreBackend.quietLogger)
        try await preferring.withServicesRunning { try await preferring.ping() }
    }
}
