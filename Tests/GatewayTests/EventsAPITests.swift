import Engine
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

@testable import Gateway

@Suite struct EventsAPITests {
    static let body = #"{"type":"course.enrolled","data":{"email":"cy@example.com","last_name":"Young"}}"#

    @Test func aKeyedCallWritesAnActivity() async throws {
        let app = try await TestApp.make()
        try await app.test { client in
            let response = try await client.execute(uri: "/v1/events", method: .post, headers: app.bearer, body: .init(Self.body))
            #expect(response.status == .accepted)
            #expect(response.json["activity_ids"]?.arrayValue?.count == 1)
            let contact = try await client.execute(uri: "/v1/contacts/cy@example.com", method: .get, headers: app.bearer)
            #expect(contact.json["last_name"] == .string("Young"))
        }
        let activity = try #require(try await app.store.activities(ActivityQuery()).first)
        #expect(activity.source == "api")
        #expect(activity.sourceEventID == nil)
    }

    @Test func anIdempotencyKeyBehavesLikeARepeatedWebhookID() async throws {
        let app = try await TestApp.make()
        let body = #"{"type":"x.y","idempotency_key":"order-7","data":{"email":"a@b.io"}}"#
        try await app.test { client in
            let first = try await client.execute(uri: "/v1/events", method: .post, headers: app.bearer, body: .init(body))
            let second = try await client.execute(uri: "/v1/events", method: .post, headers: app.bearer, body: .init(body))
            #expect(first.json["duplicate"] == .bool(false))
            #expect(second.status == .accepted)
            #expect(second.json["duplicate"] == .bool(true))
            #expect(second.json["activity_ids"] == first.json["activity_ids"])
        }
        #expect(try await app.counts() == (2, 1))
        #expect(try await app.store.inboundEvents(InboundQuery(verdict: .duplicate)).count == 1)
        #expect(try await app.store.activities(ActivityQuery()).first?.sourceEventID == "order-7")
    }

    @Test func aKeyMadeWithTheCLIHashIsAccepted() async throws {
        let app = try await TestApp.make { $0.apiKeys = [] }
        try await app.store.createAPIKey(name: "shop", keyHash: APIKeyAuthenticator.hashHex("ck_stored"), hint: nil, at: TestApp.start)
        try await app.test { client in
            let response = try await client.execute(
                uri: "/v1/events", method: .post, headers: [.authorization: "Bearer ck_stored"], body: .init(Self.body))
            #expect(response.status == .accepted)
        }
    }

    @Test(arguments: [nil, "Bearer wrong", "Basic Y2s6eA==", "Bearer", "ck_test_configured_key"])
    func refusesMissingOrWrongKeys(authorization: String?) async throws {
        let app = try await TestApp.make()
        var headers: HTTPFields = [:]
        if let authorization { headers[.authorization] = authorization }
        let sent = headers
        try await app.test { client in
            for (uri, method) in [("/v1/events", HTTPRequest.Method.post), ("/v1/activities", .get), ("/v1/contacts/a@b.io", .get)] {
                let response = try await client.execute(uri: uri, method: method, headers: sent, body: .init(Self.body))
                #expect(response.status == .unauthorized)
                #expect(response.errorCode == "auth")
            }
        }
        #expect(try await app.counts() == (0, 0))
    }

    @Test func withNoKeysConfiguredEveryCallIsRefused() async throws {
        let app = try await TestApp.make { $0.apiKeys = [] }
        try await app.test { client in
            let response = try await client.execute(uri: "/v1/activities", method: .get, headers: app.bearer)
            #expect(response.status == .unauthorized)
        }
    }

    @Test(arguments: [
        (#"{"type":"x","data":{}}"#, "missing_email"),
        (#"{"type":"x"}"#, "missing_email"),
        (#"{"type":"x","data":{"email":"bad"}}"#, "invalid_email"),
        (#"{"data":{"email":"a@b.io"}}"#, "missing_type"),
        (#"{"type":"x","data":{"email":"a@b.io""#, "invalid_json"),
    ])
    func rejectsBadEventsWith400(body: String, code: String) async throws {
        let app = try await TestApp.make()
        try await app.test { client in
            let response = try await client.execute(uri: "/v1/events", method: .post, headers: app.bearer, body: .init(body))
            #expect(response.status == .badRequest)
            #expect(response.errorCode == code)
        }
        #expect(try await app.counts().activities == 0)
    }

    @Test func listsActivitiesNewestFirstWithFilters() async throws {
        let app = try await TestApp.make()
        try await app.test { client in
            for (type, email, time) in [
                ("a.one", "p@q.io", "2026-01-01T00:00:00Z"), ("a.two", "p@q.io", "2026-01-03T00:00:00Z"),
                ("a.one", "r@s.io", "2026-01-02T00:00:00Z"),
            ] {
                let body = #"{"type":"\#(type)","timestamp":"\#(time)","data":{"email":"\#(email)"}}"#
                _ = try await client.execute(uri: "/v1/events", method: .post, headers: app.bearer, body: .init(body))
            }
            func types(_ query: String) async throws -> [String] {
                let response = try await client.execute(uri: "/v1/activities\(query)", method: .get, headers: app.bearer)
                #expect(response.status == .ok)
                return response.json["data"]?.arrayValue?.compactMap { $0["type"]?.stringValue } ?? []
            }
            #expect(try await types("") == ["a.two", "a.one", "a.one"])
            #expect(try await types("?email=P@Q.io") == ["a.two", "a.one"])
            #expect(try await types("?type=a.one") == ["a.one", "a.one"])
            #expect(try await types("?type=a.one&email=r@s.io") == ["a.one"])
            #expect(try await types("?limit=1") == ["a.two"])
        }
    }

    @Test(arguments: ["?limit=0", "?limit=1001", "?limit=ten", "?email=not-an-email"])
    func rejectsBadListingParameters(query: String) async throws {
        let app = try await TestApp.make()
        try await app.test { client in
            let response = try await client.execute(uri: "/v1/activities\(query)", method: .get, headers: app.bearer)
            #expect(response.status == .badRequest)
            #expect(response.errorCode == "invalid_parameter")
        }
    }

    @Test func anUnknownContactIs404AndABadOneIs400() async throws {
        let app = try await TestApp.make()
        try await app.test { client in
            let missing = try await client.execute(uri: "/v1/contacts/nobody@example.com", method: .get, headers: app.bearer)
            #expect(missing.status == .notFound)
            #expect(missing.errorCode == "not_found")
            let bad = try await client.execute(uri: "/v1/contacts/not-an-email", method: .get, headers: app.bearer)
            #expect(bad.status == .badRequest)
            #expect(bad.errorCode == "invalid_email")
        }
    }
}
