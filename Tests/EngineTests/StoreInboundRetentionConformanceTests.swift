import CortexTestSupport
import Testing

@testable import Engine

/// What the archive keeps over time, on every backend: rejected bodies cut to a prefix, old
/// bodies pruned while verdicts and dedupe keys stay.
@Suite struct StoreInboundRetentionConformanceTests {
    static let day0 = Timestamp.at("2026-01-01T00:00:00Z")
    static func day(_ n: Int, minute: Int = 0) -> Timestamp { day0.adding(seconds: Int64(n * 86_400 + minute * 60)) }

    @Test(arguments: StoreBackend.enabled)
    func pruningEmptiesOldBodiesAndKeepsVerdictsAndDedupeKeys(backend: StoreBackend) async throws {
        try await backend.withStore { store in
            let body = #"{"type":"checkout.completed","data":{"email":"old@example.com"}}"#
            let original = try await store.ingest(
                delivery(id: "old", at: Self.day(0), body: body), activities: [activity(email: "old@example.com")])
            _ = try await store.ingest(delivery(id: "old", at: Self.day(1), body: body), activities: [])
            try await store.archiveRejected(delivery(id: "bad", at: Self.day(2), body: "{nope"), reason: "invalid_json: x")
            _ = try await store.ingest(delivery(id: "new", at: Self.day(40), body: body), activities: [])
            let before = try await store.inboundEvents(InboundQuery())

            #expect(try await store.pruneInboundBodies(receivedBefore: Self.day(10), limit: 100, at: Self.day(40)) == 3)

            let after = try await store.inboundEvents(InboundQuery())
            #expect(after.count == 4)
            #expect(after[0] == before[0])  // "new": untouched
            #expect(after[0].bodyPrunedAt == nil && after[0].bodyIsComplete)
            for (old, pruned) in zip(before.dropFirst(), after.dropFirst()) {
                #expect(pruned.body.isEmpty)
                #expect(parsedJSON(pruned.headers) == .object([:]))
                #expect(pruned.bodyPrunedAt == Self.day(40))
                #expect(pruned.bodyPruned && !pruned.bodyIsComplete && !pruned.bodyTruncated)
                #expect(pruned.bodyLength == old.body.count)
                #expect(pruned.id == old.id && pruned.source == old.source && pruned.externalID == old.externalID)
                #expect(pruned.receivedAt == old.receivedAt && pruned.verdict == old.verdict)
                #expect(pruned.reason == old.reason && pruned.duplicateOf == old.duplicateOf)
            }
            #expect(after.map(\.verdict) == [.accepted, .rejected, .duplicate, .accepted])

            // A late redelivery of the pruned accepted event is still its duplicate.
            let late = try await store.ingest(
                delivery(id: "old", at: Self.day(41), body: body), activities: [activity(email: "old@example.com")])
            #expect(late == IngestOutcome(activityIDs: original.activityIDs, duplicate: true, inboundID: original.inboundID))
            #expect(try await store.activities(ActivityQuery()).count == 1)

            // Pruned rows are not pruned again.
            #expect(try await store.pruneInboundBodies(receivedBefore: Self.day(10), limit: 100, at: Self.day(42)) == 0)
            #expect(try await store.inboundEvent(id: after[3].id)?.bodyPrunedAt == Self.day(40))
        }
    }

    @Test(arguments: StoreBackend.enabled)
    func pruningTakesAtMostTheBatchLimitOldestFirst(backend: StoreBackend) async throws {
        try await backend.withStore { store in
            // Received in an order unlike their ids, so "oldest first" is by time, not by id.
            for minute in [3, 1, 4, 0, 2] {
                _ = try await store.ingest(delivery(id: "e\(minute)", at: Self.day(0, minute: minute)), activities: [])
            }
            func pruned() async throws -> [String] {
                try await store.inboundEvents(InboundQuery()).filter(\.bodyPruned).compactMap(\.externalID).sorted()
            }
            let cutoff = Self.day(1)
            #expect(try await store.pruneInboundBodies(receivedBefore: cutoff, limit: 2, at: Self.day(2)) == 2)
            #expect(try await pruned() == ["e0", "e1"])
            #expect(try await store.pruneInboundBodies(receivedBefore: cutoff, limit: 2, at: Self.day(2)) == 2)
            #expect(try await pruned() == ["e0", "e1", "e2", "e3"])
            #expect(try await store.pruneInboundBodies(receivedBefore: cutoff, limit: 2, at: Self.day(2)) == 1)
            #expect(try await store.pruneInboundBodies(receivedBefore: cutoff, limit: 2, at: Self.day(2)) == 0)
            // The cutoff is exclusive: a delivery received exactly at it is kept.
            _ = try await store.ingest(delivery(id: "edge", at: cutoff), activities: [])
            #expect(try await store.pruneInboundBodies(receivedBefore: cutoff, limit: 2, at: Self.day(2)) == 0)
        }
    }

    @Test(arguments: StoreBackend.enabled)
    func aRejectedBodyKeepsOnlyItsPrefixAndTheLengthReceived(backend: StoreBackend) async throws {
        try await backend.withStore { store in
            let big = String(repeating: "x", count: 100_000)
            try await store.archiveRejected(delivery(id: "big", body: big), reason: "invalid_json: x")
            try await store.archiveRejected(delivery(id: "small", body: "{nope"), reason: "invalid_json: y")
            _ = try await store.ingest(delivery(id: "accepted", body: big), activities: [])
            let rows = try await store.inboundEvents(InboundQuery())
            let (accepted, small, cut) = (rows[0], rows[1], rows[2])

            #expect(cut.body == Array(big.utf8.prefix(RejectedBodyPrefix.limit)))
            #expect(cut.bodyLength == 100_000)
            #expect(cut.bodyTruncated && !cut.bodyIsComplete && !cut.bodyPruned)
            #expect(small.body == Array("{nope".utf8) && small.bodyLength == 5 && small.bodyIsComplete)
            // Accepted deliveries keep their whole body.
            #expect(accepted.body.count == 100_000 && accepted.bodyIsComplete)

            // Pruning a cut body keeps the length received, not the prefix's.
            _ = try await store.pruneInboundBodies(receivedBefore: Self.day(400), limit: 10, at: Self.day(400))
            #expect(try await store.inboundEvent(id: cut.id)?.bodyLength == 100_000)
            #expect(try await store.inboundEvent(id: accepted.id)?.bodyLength == 100_000)
        }
    }
}
