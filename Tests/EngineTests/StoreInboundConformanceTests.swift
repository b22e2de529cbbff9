import CortexTestSupport
import Testing

@testable import Engine

/// Suppressions and replays, on every backend.
@Suite struct StoreInboundConformanceTests {
    static func at(_ minute: Int) -> Timestamp { Timestamp.at("2026-11-26T12:00:00Z").adding(seconds: Int64(minute * 60)) }

    @Test(arguments: StoreBackend.enabled)
    func suppressionsKeepTheFirstReasonAndYieldOnlyToNewerLifts(backend: StoreBackend) async throws {
        try await backend.withStore { store in
            let ada = EmailAddress.of("ada@example.com")
            _ = try await store.ingest(
                delivery(id: "1"), activities: [activity("email.bounced", email: "ada@example.com")],
                suppressions: [.suppress(ada, reason: "hard_bounce", at: Self.at(10))])
            #expect(try await store.contact(email: ada)?.suppression == Suppression(reason: "hard_bounce", since: Self.at(10)))
            _ = try await store.ingest(
                delivery(id: "2"), activities: [], suppressions: [.suppress(ada, reason: "spam_complaint", at: Self.at(20))])
            #expect(try await store.suppressions(limit: 10) == [SuppressedAddress(email: ada, suppression: Suppression(reason: "hard_bounce", since: Self.at(10)))])
            // A reactivation older than the suppression arrives late: it must not lift it.
            _ = try await store.ingest(delivery(id: "3"), activities: [], suppressions: [.lift(ada, at: Self.at(5))])
            #expect(try await store.suppressions(limit: 10).count == 1)
            _ = try await store.ingest(delivery(id: "4"), activities: [], suppressions: [.lift(ada, at: Self.at(30))])
            #expect(try await store.suppressions(limit: 10).isEmpty)
            #expect(try await store.contact(email: ada)?.suppression == nil)

            _ = try await store.ingest(delivery(id: "5"), activities: [], suppressions: [.suppress(ada, reason: "unsubscribe", at: Self.at(40))])
            #expect(try await store.liftSuppression(email: ada))
            #expect(try await store.liftSuppression(email: ada) == false)
        }
    }

    @Test(arguments: StoreBackend.enabled)
    func aRejectedDeliveryReplayedAfterAFixBecomesAcceptedWithStableActivityIDs(backend: StoreBackend) async throws {
        try await backend.withStore { store in
            try await store.archiveRejected(delivery(id: "msg_r", body: #"{"odd":true}"#), reason: "invalid_email: x")
            let rejected = try #require(try await store.inboundEvents(InboundQuery(verdict: .rejected)).first)
            #expect(try await store.inboundEvent(id: rejected.id) == rejected)

            let first = try await store.replayInbound(
                id: rejected.id, activities: [activity(email: "r@example.com", metadata: #"{"v":1}"#)],
                suppressions: [.suppress(.of("r@example.com"), reason: "hard_bounce", at: Self.at(1))])
            #expect(first.duplicate == false)
            #expect(first.inboundID == rejected.id)
            #expect(first.activityIDs.count == 1)
            let replayed = try #require(try await store.inboundEvent(id: rejected.id))
            #expect(replayed.verdict == .accepted)
            #expect(replayed.reason == nil)
            #expect(try await store.suppressions(limit: 10).map(\.email) == [.of("r@example.com")])

            // Replaying again never duplicates: activities are updated in place, added or removed.
            let second = try await store.replayInbound(
                id: rejected.id,
                activities: [
                    activity("checkout.fixed", email: "r@example.com", metadata: #"{"v":2}"#),
                    activity("checkout.extra", email: "s@example.com"),
                ], suppressions: [])
            #expect(second.activityIDs.first == first.activityIDs.first)
            #expect(second.activityIDs.count == 2)
            let listed = try await store.activities(ActivityQuery())
            #expect(Set(listed.map(\.type)) == ["checkout.fixed", "checkout.extra"])
            #expect(listed.first { $0.type == "checkout.fixed" }.map { parsedJSON($0.metadata) } == .object(["v": .number("2")]))
            #expect(listed.allSatisfy { $0.sourceEventID == "msg_r" && $0.receivedAt == .at("2026-11-26T12:00:00Z") })

            let third = try await store.replayInbound(id: rejected.id, activities: [], suppressions: [])
            #expect(third.activityIDs.isEmpty)
            #expect(try await store.activities(ActivityQuery()).isEmpty)
        }
    }

    @Test(arguments: StoreBackend.enabled)
    func aReplayNeverTakesAnEventIDThatAnotherDeliveryHolds(backend: StoreBackend) async throws {
        try await backend.withStore { store in
            try await store.archiveRejected(delivery(id: "msg_x"), reason: "bad")
            let rejected = try #require(try await store.inboundEvents(InboundQuery(verdict: .rejected)).first)
            let accepted = try await store.ingest(delivery(id: "msg_x"), activities: [activity(email: "x@example.com")])
            let outcome = try await store.replayInbound(id: rejected.id, activities: [activity(email: "y@example.com")], suppressions: [])
            #expect(outcome == IngestOutcome(activityIDs: accepted.activityIDs, duplicate: true, inboundID: accepted.inboundID))
            #expect(try await store.inboundEvent(id: rejected.id)?.verdict == .rejected)
            #expect(try await store.contact(email: .of("y@example.com")) == nil)

            _ = try await store.ingest(delivery(id: "msg_x"), activities: [])
            let duplicate = try #require(try await store.inboundEvents(InboundQuery(verdict: .duplicate)).first)
            let viaDuplicate = try await store.replayInbound(id: duplicate.id, activities: [activity(email: "z@example.com")], suppressions: [])
            #expect(viaDuplicate.duplicate)
            #expect(viaDuplicate.inboundID == accepted.inboundID)
            #expect(try await store.activities(ActivityQuery()).count == 1)
        }
    }

    @Test(arguments: StoreBackend.enabled)
    func replayingAnUnknownDeliveryIsNotFoundAndFailuresAreRecorded(backend: StoreBackend) async throws {
        try await backend.withStore { store in
            await #expect { _ = try await store.replayInbound(id: 999, activities: [], suppressions: []) } throws: { error in
                (error as? StoreError)?.isNotFound == true
            }
            #expect(try await store.inboundEvent(id: 999) == nil)
            try await store.archiveRejected(delivery(id: "msg_f"), reason: "first")
            let rejected = try #require(try await store.inboundEvents(InboundQuery()).first)
            try await store.recordReplayFailure(id: rejected.id, reason: "second")
            #expect(try await store.inboundEvent(id: rejected.id)?.reason == "second")
        }
    }
}
