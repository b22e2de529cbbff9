import Engine
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

@testable import Gateway

/// The archive, replay and suppression routes, end to end through HTTP.
@Suite struct InboundArchiveTests {
    static func postmark(_ json: String) -> [UInt8] { Array(json.utf8) }

    @Test func theArchiveListsDeliveriesWithVerdictsAndNeverCredentials() async throws {
        let app = try await TestApp.make()
        let good = Self.postmark(#"{"RecordType":"Open","Recipient":"a@b.io","MessageID":"m1","ReceivedAt":"2021-02-25T15:00:00Z"}"#)
        let bad = Self.postmark(#"{"RecordType": "#)
        try await app.test { client in
            let headers = try app.providerHeaders("postmark", body: good)
            _ = try await client.execute(uri: "/webhooks/postmark", method: .post, headers: headers, body: ByteBuffer(bytes: good))
            _ = try await client.execute(uri: "/webhooks/postmark", method: .post, headers: headers, body: ByteBuffer(bytes: good))
            _ = try await client.execute(uri: "/webhooks/postmark", method: .post, headers: headers, body: ByteBuffer(bytes: bad))
            _ = try await client.execute(uri: "/webhooks/postmark", method: .post, headers: [:], body: ByteBuffer(bytes: good))

            let all = try await client.execute(uri: "/v1/inbound?source=postmark", method: .get, headers: app.bearer)
            #expect(all.status == .ok)
            let rows = try #require(all.json["data"]?.arrayValue)
            #expect(rows.compactMap { $0["verdict"]?.stringValue } == ["rejected", "duplicate", "accepted"])
            #expect(rows[1]["duplicate_of"] == rows[2]["id"])
            #expect(rows[0]["reason"]?.stringValue?.hasPrefix("invalid_json") == true)
            #expect(rows[2]["body"] == .string(String(decoding: good, as: UTF8.self)))
            #expect(rows.allSatisfy { $0["headers"]?["authorization"] == nil })

            let rejected = try await client.execute(uri: "/v1/inbound?verdict=rejected", method: .get, headers: app.bearer)
            #expect(rejected.json["data"]?.arrayValue?.count == 1)
            let invalid = try await client.execute(uri: "/v1/inbound?verdict=maybe", method: .get, headers: app.bearer)
            #expect(invalid.status == .badRequest)
            #expect(try await client.execute(uri: "/v1/inbound", method: .get).status == .unauthorized)
        }
    }

    @Test func replayingAStillInvalidDeliveryIs422AndChangesNothing() async throws {
        let app = try await TestApp.make()
        // Archived as rejected: its email was invalid under the mapping of the day.
        let body = Array(#"{"type":"checkout.completed","data":{"email":"nope"}}"#.utf8)
        try await app.test { client in
            let response = try await client.execute(
                uri: "/webhooks/checkout", method: .post, headers: try app.providerHeaders("checkout", body: body, eventID: "msg_r"),
                body: ByteBuffer(bytes: body))
            #expect(response.status == .badRequest)
        }
        let rejected = try #require(try await app.store.inboundEvents(InboundQuery()).first)
        try await app.test { client in
            // Still invalid: the replay fails with 422 and changes nothing.
            let failed = try await client.execute(uri: "/v1/inbound/\(rejected.id)/replay", method: .post, headers: app.bearer)
            #expect(failed.status == .unprocessableContent)
            #expect(failed.errorCode == "invalid_email")
            #expect(try await client.execute(uri: "/v1/inbound/999/replay", method: .post, headers: app.bearer).status == .notFound)
            #expect(try await client.execute(uri: "/v1/inbound/abc/replay", method: .post, headers: app.bearer).status == .notFound)
        }
        #expect(try await app.counts().activities == 0)
    }

    @Test func aDeliveryRejectedByAnOldMappingIsAcceptedOnReplay() async throws {
        let app = try await TestApp.make()
        // As an earlier version of Cortex would have archived it: authentic, but refused.
        let body = Self.postmark(#"{"RecordType":"Delivery","Recipient":"late@b.io","MessageID":"m9","DeliveredAt":"2021-02-25T15:00:00Z"}"#)
        try await app.store.archiveRejected(
            InboundDelivery(
                source: "postmark", externalID: "trace-9", receivedAt: TestApp.start,
                headers: [("x-pm-webhook-trace-id", "trace-9")], body: body),
            reason: "unsupported_record: a mapping bug")
        let rejected = try #require(try await app.store.inboundEvents(InboundQuery()).first)
        try await app.test { client in
            let replay = try await client.execute(uri: "/v1/inbound/\(rejected.id)/replay", method: .post, headers: app.bearer)
            #expect(replay.status == .ok)
            #expect(replay.json["activity_ids"]?.arrayValue?.count == 1)
            let again = try await client.execute(uri: "/v1/inbound/\(rejected.id)/replay", method: .post, headers: app.bearer)
            #expect(again.json["activity_ids"] == replay.json["activity_ids"])
            // The original delivery's retry is now a duplicate of the replayed one.
            var headers = try app.providerHeaders("postmark", body: body)
            headers[HTTPField.Name("X-PM-Webhook-Trace-Id")!] = "trace-9"
            let retry = try await client.execute(uri: "/webhooks/postmark", method: .post, headers: headers, body: ByteBuffer(bytes: body))
            #expect(retry.json["duplicate"] == .bool(true))
        }
        let activity = try #require(try await app.store.activities(ActivityQuery()).first)
        #expect(activity.type == "email.delivered")
        #expect(activity.receivedAt == TestApp.start)
        #expect(try await app.store.inboundEvent(id: rejected.id)?.verdict == .accepted)
        #expect(try await app.counts().activities == 1)
    }

    @Test func replayingAnAcceptedDeliveryUpdatesItsActivitiesInPlace() async throws {
        let app = try await TestApp.make()
        let body = Self.postmark(#"{"RecordType":"Bounce","Email":"x@y.io","Type":"HardBounce","MessageID":"m2","BouncedAt":"2021-02-25T15:00:00Z"}"#)
        let first = try await app.test { client in
            let response = try await client.execute(
                uri: "/webhooks/postmark", method: .post, headers: try app.providerHeaders("postmark", body: body),
                body: ByteBuffer(bytes: body))
            return response.json["activity_ids"]
        }
        let accepted = try #require(try await app.store.inboundEvents(InboundQuery()).first)
        try await app.test { client in
            let replay = try await client.execute(uri: "/v1/inbound/\(accepted.id)/replay", method: .post, headers: app.bearer)
            #expect(replay.status == .ok)
            #expect(replay.json["activity_ids"] == first)
            #expect(replay.json["duplicate"] == .bool(false))
            #expect(replay.json["inbound_id"] == .int(accepted.id))
            _ = try await client.execute(uri: "/v1/inbound/\(accepted.id)/replay", method: .post, headers: app.bearer)
        }
        #expect(try await app.counts().activities == 1)
        #expect(try await app.store.suppressions(limit: 10).count == 1)
    }

    @Test func replayingADuplicateRowPointsAtTheOriginal() async throws {
        let app = try await TestApp.make()
        let body = Self.postmark(#"{"RecordType":"Open","Recipient":"a@b.io","MessageID":"m3","ReceivedAt":"2021-02-25T15:00:00Z"}"#)
        try await app.test { client in
            let headers = try app.providerHeaders("postmark", body: body)
            _ = try await client.execute(uri: "/webhooks/postmark", method: .post, headers: headers, body: ByteBuffer(bytes: body))
            _ = try await client.execute(uri: "/webhooks/postmark", method: .post, headers: headers, body: ByteBuffer(bytes: body))
        }
        let duplicate = try #require(try await app.store.inboundEvents(InboundQuery(verdict: .duplicate)).first)
        try await app.test { client in
            let response = try await client.execute(uri: "/v1/inbound/\(duplicate.id)/replay", method: .post, headers: app.bearer)
            #expect(response.status == .conflict)
            #expect(response.errorCode == "duplicate_delivery")
        }
    }

    @Test func unsubscribeResubscribeAndManualLiftThroughTheAPI() async throws {
        let app = try await TestApp.make()
        let unsubscribe = Self.postmark(
            #"{"RecordType":"SubscriptionChange","Recipient":"Reader@Example.com","ChangedAt":"2021-02-25T15:00:00Z","SuppressSending":true,"SuppressionReason":"ManualSuppression","MessageID":"m4"}"#)
        let resubscribe = Self.postmark(
            #"{"RecordType":"SubscriptionChange","Recipient":"reader@example.com","ChangedAt":"2021-02-25T15:01:00Z","SuppressSending":false,"MessageID":null}"#)
        let complaint = Self.postmark(
            #"{"RecordType":"SpamComplaint","Email":"reader@example.com","BouncedAt":"2021-02-25T15:02:00Z","MessageID":"m5"}"#)
        try await app.test { client in
            func post(_ body: [UInt8]) async throws {
                let response = try await client.execute(
                    uri: "/webhooks/postmark", method: .post, headers: try app.providerHeaders("postmark", body: body),
                    body: ByteBuffer(bytes: body))
                #expect(response.status == .accepted)
            }
            try await post(unsubscribe)
            let contact = try await client.execute(uri: "/v1/contacts/reader@example.com", method: .get, headers: app.bearer)
            #expect(contact.json["suppressed"] == .bool(true))
            #expect(contact.json["suppression"]?["reason"] == .string("unsubscribe"))
            #expect(contact.json["suppression"]?["since"] == .string("2021-02-25T15:00:00.000000Z"))

            try await post(resubscribe)
            let lifted = try await client.execute(uri: "/v1/contacts/reader@example.com", method: .get, headers: app.bearer)
            #expect(lifted.json["suppressed"] == .bool(false))
            #expect(lifted.json["suppression"] == .null)

            try await post(complaint)
            let list = try await client.execute(uri: "/v1/suppressions", method: .get, headers: app.bearer)
            #expect(list.json["data"]?.arrayValue?.first?["reason"] == .string("spam_complaint"))
            #expect(list.json["data"]?.arrayValue?.first?["email"] == .string("reader@example.com"))

            let delete = try await client.execute(uri: "/v1/suppressions/Reader%40Example.com", method: .delete, headers: app.bearer)
            #expect(delete.status == .noContent)
            let again = try await client.execute(uri: "/v1/suppressions/reader@example.com", method: .delete, headers: app.bearer)
            #expect(again.status == .notFound)
            #expect(try await client.execute(uri: "/v1/suppressions", method: .get, headers: app.bearer).json["data"] == .array([]))
            #expect(try await client.execute(uri: "/v1/suppressions/x@y.io", method: .delete).status == .unauthorized)
        }
        let types = try await app.store.activities(ActivityQuery()).map(\.type)
        #expect(types == ["email.complained", "email.resubscribed", "email.unsubscribed"])
    }

    @Test func softBouncesOpensClicksAndDeliveriesNeverSuppress() async throws {
        let app = try await TestApp.make()
        let bodies = [
            #"{"RecordType":"Bounce","Email":"s@b.io","Type":"SoftBounce","Inactive":false,"MessageID":"b1","BouncedAt":"2021-02-25T15:00:00Z"}"#,
            #"{"RecordType":"Bounce","Email":"s@b.io","Type":"Transient","MessageID":"b2","BouncedAt":"2021-02-25T15:00:01Z"}"#,
            #"{"RecordType":"Open","Recipient":"s@b.io","MessageID":"b3","ReceivedAt":"2021-02-25T15:00:02Z"}"#,
            #"{"RecordType":"Click","Recipient":"s@b.io","MessageID":"b4","ReceivedAt":"2021-02-25T15:00:03Z"}"#,
            #"{"RecordType":"Delivery","Recipient":"s@b.io","MessageID":"b5","DeliveredAt":"2021-02-25T15:00:04Z"}"#,
        ].map(Self.postmark)
        try await app.test { client in
            for body in bodies {
                let response = try await client.execute(
                    uri: "/webhooks/postmark", method: .post, headers: try app.providerHeaders("postmark", body: body),
                    body: ByteBuffer(bytes: body))
                #expect(response.status == .accepted)
            }
        }
        #expect(try await app.counts().activities == 5)
        #expect(try await app.store.suppressions(limit: 10).isEmpty)
    }
}
