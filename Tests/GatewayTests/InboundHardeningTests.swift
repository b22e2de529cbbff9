import Engine
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

@testable import Gateway

/// The inbound path under the hostile-input probe: credentials in headers no list names, and
/// JSON documents that mean two things.
@Suite struct InboundHardeningTests {
    static let secretValue = "Bearer sk_live_leaked_by_a_proxy_1234567890"

    /// Header names chosen so that no list of known credential headers would hold them.
    static let credentialHeaders = [
        "X-Forwarded-Authorization", "X-Shop-Webhook-Token", "X-Vendor-Secret", "X-Partner-Api-Key",
        "X-Session-Cookie", "X-Db-Password", "X-Request-Signature-V9", "X-Custom-HMAC", "X-Auth-User",
    ]

    @Test(arguments: ["checkout", "postmark", "stripe", "thinkific"])
    func headersThatMayHoldCredentialsAreNeverArchived(provider: String) async throws {
        let app = try await TestApp.make()
        let bodies = [
            "checkout": #"{"type":"checkout.completed","data":{"email":"ada@example.com"}}"#,
            "postmark": #"{"RecordType":"Open","Recipient":"a@b.io","MessageID":"m1","ReceivedAt":"2021-02-25T15:00:00Z"}"#,
            "stripe": #"{"id":"evt_1","type":"checkout.session.completed","data":{"object":{"customer_details":{"email":"a@b.io"}}}}"#,
            "thinkific": #"{"id":"1","resource":"order","action":"created","payload":{"user":{"email":"a@b.io"}}}"#,
        ]
        let body = Array(try #require(bodies[provider]).utf8)
        var fields = try app.providerHeaders(provider, body: body)
        for name in Self.credentialHeaders { fields[HTTPField.Name(name)!] = Self.secretValue }
        fields[HTTPField.Name("X-Harmless")!] = "kept"
        let headers = fields
        try await app.test { client in
            let response = try await client.execute(
                uri: "/webhooks/\(provider)", method: .post, headers: headers, body: ByteBuffer(bytes: body))
            #expect(response.status.code < 500)
            let listing = try await client.execute(uri: "/v1/inbound", method: .get, headers: app.bearer)
            let row = try #require(listing.json["data"]?.arrayValue?.first)
            #expect(row["headers"]?["x-harmless"] == .string("kept"))
            for name in Self.credentialHeaders {
                #expect(row["headers"]?[name.lowercased()] == nil, "\(name) was archived")
            }
            #expect(!String(decoding: listing.body.readableBytesView, as: UTF8.self).contains("sk_live"))
        }
        let archived = try #require(try await app.store.inboundEvents(InboundQuery()).first)
        #expect(!archived.headers.contains("sk_live"))
    }

    @Test func repeatedHeadersAreArchivedAsOneReadableMember() async throws {
        let app = try await TestApp.make()
        let body = #"{"type":"checkout.completed","data":{"email":"ada@example.com"}}"#
        var fields = try app.signed(body, id: "msg_repeat")
        fields.append(HTTPField(name: HTTPField.Name("X-Trace")!, value: "one"))
        fields.append(HTTPField(name: HTTPField.Name("X-Trace")!, value: "two"))
        let headers = fields
        try await app.test { client in
            #expect(try await client.execute(uri: "/webhooks/checkout", method: .post, headers: headers, body: .init(body)).status == .accepted)
            let listing = try await client.execute(uri: "/v1/inbound", method: .get, headers: app.bearer)
            #expect(listing.json["data"]?.arrayValue?.first?["headers"]?["x-trace"] == .string("one, two"))
        }
    }

    /// The probe's `{"email": "b@…", "email": "c@…"}` made the contact one address while the
    /// stored metadata said the other. Now it is a 400 `duplicate_key`, archived as rejected so
    /// it can be replayed, with no contact or activity written.
    @Test func aSignedEventWithARepeatedKeyIsRefusedAndArchivedAsRejected() async throws {
        let app = try await TestApp.make()
        let body = #"{"type":"checkout.completed","data":{"email":"b@example.com","email":"c@example.com"}}"#
        try await app.test { client in
            let response = try await client.execute(
                uri: "/webhooks/checkout", method: .post, headers: try app.signed(body, id: "msg_dup"), body: .init(body))
            #expect(response.status == .badRequest)
            #expect(response.errorCode == "duplicate_key")
            #expect(response.json["error"]?["message"]?.stringValue?.contains("\"email\"") == true)
            let events = try await client.execute(
                uri: "/v1/events", method: .post, headers: app.bearer, body: .init(#"{"type":"x","type":"y","email":"a@b.io"}"#))
            #expect(events.errorCode == "duplicate_key")
            let message = try await client.execute(
                uri: "/v1/messages", method: .post, headers: app.bearer,
                body: .init(#"{"to":"a@b.io","to":"e@b.io","subject":"s","text":"t","from":"s@b.io"}"#))
            #expect(message.errorCode == "duplicate_key")
            let batch = try await client.execute(
                uri: "/v1/messages/batch", method: .post, headers: app.bearer,
                body: .init(#"[{"to":"a@b.io","subject":"s","subject":"t","text":"t","from":"s@b.io"}]"#))
            #expect(batch.errorCode == "duplicate_key")
        }
        let archive = try await app.store.inboundEvents(InboundQuery())
        #expect(archive.map(\.verdict) == [.rejected, .rejected])
        #expect(archive.allSatisfy { $0.reason?.hasPrefix("duplicate_key") == true })
        #expect(try await app.counts().activities == 0)
        #expect(try await app.store.contact(email: EmailAddress("b@example.com")!) == nil)
        #expect(try await app.store.emailJobs(EmailJobQuery()).isEmpty)
    }
}
