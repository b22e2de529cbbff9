import Engine
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

@testable import Gateway

@Suite struct CheckoutWebhookTests {
    static let body =
        #"{"type":"checkout.completed","timestamp":"2021-02-21T15:00:00Z","data":{"email":"Ada@Example.com","first_name":"Ada","order_id":9007199254740993}}"#

    @Test func aSignedEventBecomesAnActivityAndAContact() async throws {
        let app = try await TestApp.make()
        let headers = try app.signed(Self.body, id: "msg_1")
        try await app.test { client in
            let response = try await client.execute(uri: "/webhooks/checkout", method: .post, headers: headers, body: .init(Self.body))
            #expect(response.status == .accepted)
            #expect(response.json["duplicate"] == .bool(false))
            let ids = try #require(response.json["activity_ids"]?.arrayValue)
            #expect(ids.count == 1)

            let listing = try await client.execute(uri: "/v1/activities?email=ada@example.com", method: .get, headers: app.bearer)
            #expect(listing.status == .ok)
            let activity = try #require(listing.json["data"]?.arrayValue?.first)
            #expect(activity["id"] == ids[0])
            #expect(activity["type"] == .string("checkout.completed"))
            #expect(activity["contact_email"] == .string("ada@example.com"))
            #expect(activity["occurred_at"] == .string("2021-02-21T15:00:00.000000Z"))
            #expect(activity["received_at"] == .string("2021-02-25T15:02:10.000000Z"))
            #expect(activity["source"] == .string("checkout"))
            #expect(activity["source_event_id"] == .string("msg_1"))
            #expect(
                activity["metadata"]
                    == .object([
                        "email": .string("Ada@Example.com"), "first_name": .string("Ada"),
                        "order_id": .number("9007199254740993"),
                    ]))

            let contact = try await client.execute(uri: "/v1/contacts/ada%40example.com", method: .get, headers: app.bearer)
            #expect(contact.status == .ok)
            #expect(contact.json["email"] == .string("ada@example.com"))
            #expect(contact.json["first_name"] == .string("Ada"))
            #expect(contact.json["last_name"] == .null)
            #expect(contact.json["tags"] == .array([]))
            #expect(contact.json["suppressed"] == .bool(false))
        }
        let archive = try await app.store.inboundEvents(InboundQuery())
        #expect(archive.count == 1)
        #expect(archive[0].verdict == .accepted)
        #expect(archive[0].body == Array(Self.body.utf8))
        #expect(archive[0].headers.contains("webhook-id"))
        #expect(!archive[0].headers.contains("webhook-signature"))
        #expect(!archive[0].headers.contains("v1,"))
    }

    @Test func withoutTimestampTheEventOccursWhenReceived() async throws {
        let app = try await TestApp.make()
        let body = #"{"type":"checkout.started","data":{"email":"bo@example.com"}}"#
        try await app.test { client in
            let response = try await client.execute(
                uri: "/webhooks/checkout", method: .post, headers: try app.signed(body), body: .init(body))
            #expect(response.status == .accepted)
        }
        let activity = try #require(try await app.store.activities(ActivityQuery()).first)
        #expect(activity.occurredAt == TestApp.start)
    }

    @Test func aRepeatedWebhookIDIsADuplicateAndWritesNothing() async throws {
        let app = try await TestApp.make()
        try await app.test { client in
            let first = try await client.execute(
                uri: "/webhooks/checkout", method: .post, headers: try app.signed(Self.body, id: "msg_dup"), body: .init(Self.body))
            app.clock.advance(seconds: 60)
            // A retry: same id, new timestamp and signature.
            let second = try await client.execute(
                uri: "/webhooks/checkout", method: .post, headers: try app.signed(Self.body, id: "msg_dup"), body: .init(Self.body))
            #expect(second.status == .accepted)
            #expect(second.json["duplicate"] == .bool(true))
            #expect(second.json["activity_ids"] == first.json["activity_ids"])
        }
        // The repeat is archived as a duplicate; nothing else is written.
        #expect(try await app.counts() == (2, 1))
        #expect(try await app.store.inboundEvents(InboundQuery()).map(\.verdict) == [.duplicate, .accepted])
    }

    @Test func anEventNamingNoContactIsAcknowledgedAndArchived() async throws {
        let app = try await TestApp.make()
        let body = #"{"type":"checkout.completed","data":{"total":10}}"#
        try await app.test { client in
            let response = try await client.execute(
                uri: "/webhooks/checkout", method: .post, headers: try app.signed(body), body: .init(body))
            #expect(response.status == .accepted)
            #expect(response.json["activity_ids"] == .array([]))
            #expect(response.json["duplicate"] == .bool(false))
        }
        #expect(try await app.counts() == (1, 0))
        #expect(try await app.store.inboundEvents(InboundQuery()).first?.verdict == .accepted)
    }

    @Test(arguments: [
        ("not json at all", "invalid_json"),
        (#"{"data":{"email":"a@b.io"}}"#, "missing_type"),
        (#"{"type":"checkout.completed","data":{"email":"nope"}}"#, "invalid_email"),
        (#"{"type":"checkout.completed","timestamp":"soon","data":{}}"#, "invalid_timestamp"),
    ])
    func anAuthenticBadPayloadIs400AndArchivedAsRejected(body: String, code: String) async throws {
        let app = try await TestApp.make()
        try await app.test { client in
            let response = try await client.execute(
                uri: "/webhooks/checkout", method: .post, headers: try app.signed(body), body: .init(body))
            #expect(response.status == .badRequest)
            #expect(response.errorCode == code)
        }
        #expect(try await app.counts() == (1, 0))
        let archived = try #require(try await app.store.inboundEvents(InboundQuery()).first)
        #expect(archived.verdict == .rejected)
        #expect(archived.reason?.hasPrefix(code) == true)
    }

    /// How a request is spoiled, and what Cortex must answer. Nothing may be written.
    enum Tamper: String, CaseIterable, Sendable {
        case wrongSecret, tamperedBody, staleTimestamp, futureTimestamp, missingID, missingTimestamp
        case missingSignature, malformedSignature, mislabelledSignature, nonNumericTimestamp, notConfigured

        var expected: (HTTPResponse.Status, String) {
            switch self {
            case .wrongSecret, .tamperedBody, .malformedSignature, .mislabelledSignature: (.unauthorized, "signature")
            case .staleTimestamp, .futureTimestamp, .nonNumericTimestamp: (.unauthorized, "timestamp")
            case .missingID, .missingTimestamp, .missingSignature: (.badRequest, "missing_header")
            case .notConfigured: (.unauthorized, "auth")
            }
        }
    }

    @Test(arguments: Tamper.allCases)
    func rejectsUnauthenticRequestsWithoutWritingAnything(tamper: Tamper) async throws {
        let app = try await TestApp.make { if tamper == .notConfigured { $0.checkoutSecret = nil } }
        let now = app.clock.now().seconds
        var body = Self.body
        var headers: HTTPFields
        switch tamper {
        case .wrongSecret: headers = try app.signed(body, secret: "whsec_" + "c2VjcmV0LXRoYXQtaXMtbm90LW91cnMtYXQtYWxs")
        case .tamperedBody:
            headers = try app.signed(body)
            body = body.replacingOccurrences(of: "Ada", with: "Eve")
        case .staleTimestamp: headers = try app.signed(body, timestamp: now - 301)
        case .futureTimestamp: headers = try app.signed(body, timestamp: now + 301)
        case .missingID: headers = try app.signed(body); headers[.webhookID] = nil
        case .missingTimestamp: headers = try app.signed(body); headers[.webhookTimestamp] = nil
        case .missingSignature: headers = try app.signed(body); headers[.webhookSignature] = nil
        case .malformedSignature: headers = try app.signed(body); headers[.webhookSignature] = "v1,%%%not-base64%%%"
        case .mislabelledSignature:
            headers = try app.signed(body)
            headers[.webhookSignature] = headers[.webhookSignature]!.replacingOccurrences(of: "v1,", with: "v2,")
        case .nonNumericTimestamp: headers = try app.signed(body); headers[.webhookTimestamp] = "16142653e0"
        case .notConfigured: headers = try app.signed(body)
        }
        let (status, code) = tamper.expected
        let sent = body
        let sentHeaders = headers
        try await app.test { client in
            let response = try await client.execute(uri: "/webhooks/checkout", method: .post, headers: sentHeaders, body: .init(sent))
            #expect(response.status == status)
            #expect(response.errorCode == code)
            #expect(response.headers[.contentType]?.hasPrefix("application/json") == true)
        }
        #expect(try await app.counts() == (0, 0))
    }
}
