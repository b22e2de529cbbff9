import Engine
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing
import CortexTestSupport

@testable import Gateway

/// Deliveries the fuzzers (`scripts/fuzz.sh`) found breaking a promise, sent over HTTP to both
/// stores. Each input is also in its target's seed corpus under `fuzz/corpus/`, so every fuzz
/// run tries it again first.
@Suite struct FuzzFindingsTests {
    /// A Checkout Session event as Stripe sends it, with `created` as given (JSON number text).
    static func stripeEvent(created: String) -> [UInt8] {
        Array(
            #"{"id":"evt_fuzz","object":"event","created":\#(created),"type":"checkout.session.completed","data":{"object":{"id":"cs_fuzz","customer_details":{"email":"ada@example.com"}}}}"#
                .utf8)
    }

    /// `created` past year 9999 overflowed `Timestamp(seconds:)`: the server trapped on the
    /// delivery (every request in flight lost) and again on each of Stripe's retries. Before year
    /// 1 it was stored, then answered as `0000-12-31T...`, text Cortex itself refuses. Such a
    /// `created` now counts as absent, like one that is no whole number: the time of receipt.
    /// (fuzz/corpus/stripe/created-huge.json, created-negative.json)
    @Test(arguments: StoreBackend.enabled, ["99999999999999999", "9223372036854775807", "253402300800", "-62135596801", "-9223372036854775808"])
    func aStripeCreatedThatNoRFC3339TimeWritesIsTheTimeOfReceipt(backend: StoreBackend, created: String) async throws {
        try await TestApp.with(backend) { app in
            let body = Self.stripeEvent(created: created)
            let headers = try app.providerHeaders("stripe", body: body)
            try await app.test { client in
                let response = try await client.execute(uri: "/webhooks/stripe", method: .post, headers: headers, body: ByteBuffer(bytes: body))
                #expect(response.status == .accepted)
            }
            let activities = try await app.store.activities(ActivityQuery(limit: 10))
            #expect(activities.map(\.occurredAt) == [TestApp.start])
        }
    }

    /// The last and first whole seconds RFC 3339 writes are still taken as sent.
    @Test(arguments: StoreBackend.enabled, [("253402300799", "9999-12-31T23:59:59.000000Z"), ("-62135596800", "0001-01-01T00:00:00.000000Z")])
    func aStripeCreatedAtTheEdgesOfRFC3339IsKept(backend: StoreBackend, created: (String, String)) async throws {
        try await TestApp.with(backend) { app in
            let body = Self.stripeEvent(created: created.0)
            let headers = try app.providerHeaders("stripe", body: body)
            try await app.test { client in
                let response = try await client.execute(uri: "/webhooks/stripe", method: .post, headers: headers, body: ByteBuffer(bytes: body))
                #expect(response.status == .accepted)
            }
            let activities = try await app.store.activities(ActivityQuery(limit: 10))
            #expect(activities.map { RFC3339.format($0.occurredAt) } == [created.1])
        }
    }

    /// A leap second on 9999-12-31, or an offset before 0001-01-01, made a valid RFC 3339 text
    /// Cortex stored and then answered as `10000-01-01T...` or `0000-12-31T...`.
    /// (fuzz/corpus/rfc3339, fuzz/corpus/canonical-event/leap-second-end.json, year-zero.json)
    @Test(arguments: StoreBackend.enabled, ["9999-12-31T23:59:60Z", "0001-01-01T00:00:00+00:01"])
    func anEventTimeOutsideTheWritableYearsIsRefused(backend: StoreBackend, time: String) async throws {
        try await TestApp.with(backend) { app in
            let body = Array(#"{"type": "signup", "timestamp": "\#(time)", "data": {"email": "ada@example.com"}}"#.utf8)
            try await app.test { client in
                let response = try await client.execute(
                    uri: "/webhooks/checkout", method: .post, headers: try app.providerHeaders("checkout", body: body),
                    body: ByteBuffer(bytes: body))
                #expect(response.status == .badRequest)
                #expect(response.errorCode == "invalid_timestamp")
            }
            #expect(try await app.store.activities(ActivityQuery(limit: 10)).isEmpty)
        }
    }

    /// Providers' event times go the same way, to the time of receipt, as any time that does not
    /// parse. (fuzz/corpus/postmark/bounced-year-zero.json, fuzz/corpus/thinkific/created-at-leap.json)
    @Test(arguments: StoreBackend.enabled, ["postmark", "thinkific"])
    func aProviderTimeOutsideTheWritableYearsIsTheTimeOfReceipt(backend: StoreBackend, provider: String) async throws {
        try await TestApp.with(backend) { app in
            let body =
                provider == "postmark"
                ? Array(#"{"RecordType": "Bounce", "Type": "HardBounce", "Email": "ada@example.com", "BouncedAt": "0001-01-01T00:00:00+23:59", "MessageID": "m-1"}"#.utf8)
                : Array(#"{"id": "t-1", "resource": "enrollment", "action": "created", "created_at": "9999-12-31T23:59:60Z", "payload": {"user": {"email": "ada@example.com"}}}"#.utf8)
            let headers = try app.providerHeaders(provider, body: body)
            try await app.test { client in
                let response = try await client.execute(uri: "/webhooks/\(provider)", method: .post, headers: headers, body: ByteBuffer(bytes: body))
                #expect(response.status == .accepted)
            }
            let activities = try await app.store.activities(ActivityQuery(limit: 10))
            #expect(activities.map(\.occurredAt) == [TestApp.start])
        }
    }
}
