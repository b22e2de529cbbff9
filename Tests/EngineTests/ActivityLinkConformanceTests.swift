import CortexTestSupport
import Testing

@testable import Engine

/// A provider's event about a message Cortex sent (a delivery, an open, a bounce) is linked to
/// its ledger row (`email_job_id` in the metadata) inside the ingest's own transaction, on every
/// write path: the batched one, one by one (with a suppression), and a replay.
@Suite struct ActivityLinkConformanceTests {
    static let t0 = EmailLedgerConformanceTests.t0
    static let ada = EmailAddress("ada@example.com")!

    /// A message queued and sent with provider message id `messageID`; answers its ledger id.
    static func sent(_ store: any Store, messageID: String) async throws -> Int64 {
        let job = try await store.enqueueEmail(EmailLedgerConformanceTests.message("k-\(messageID)"), at: t0).job
        _ = try await store.claimEmailJobs(limit: 10, now: t0, leaseSeconds: 60)
        try await store.recordEmailOutcomes([(job.id, .sent(provider: "postmark", messageID: messageID, at: t0))], at: t0)
        return job.id
    }

    static func event(_ messageID: String?, _ metadata: String = #"{"RecordType":"Delivery"}"#) -> NewActivity {
        NewActivity(type: "email.delivered", contactEmail: ada, occurredAt: t0, metadata: metadata, providerMessageID: messageID)
    }

    static func delivery(_ id: String) -> InboundDelivery {
        InboundDelivery(source: "postmark", externalID: id, receivedAt: t0, headers: [], body: [])
    }

    static func linkedJob(_ store: any Store, _ activityID: Int64) async throws -> JSON? {
        let activity = try #require(try await store.activity(id: activityID))
        return try JSONParser.parse(Array(activity.metadata.utf8))["email_job_id"]
    }

    @Test(arguments: StoreBackend.enabled)
    func everyWritePathLinksAnEventToItsLedgerRow(backend: StoreBackend) async throws {
        try await backend.withStore { store in
            let job = try await Self.sent(store, messageID: "pm-1")
            // Batched together (the common path), with an event about no message of ours.
            let batching = try #require(store as? any GroupCommittingStore)
            let outcomes = await batching.ingestTogether([
                (Self.delivery("d1"), [Self.event("pm-1")]), (Self.delivery("d2"), [Self.event("not-ours")]),
                (Self.delivery("d3"), [Self.event(nil)]),
            ])
            let ids = try outcomes.map { try #require(try $0.get().activityIDs.first) }
            #expect(try await Self.linkedJob(store, ids[0]) == .int(job))
            #expect(try await Self.linkedJob(store, ids[1]) == nil)
            #expect(try await Self.linkedJob(store, ids[2]) == nil)

            // One by one: a bounce that also suppresses. A key of the same name in the payload
            // is replaced, never repeated (a repeated key would make the row unreadable).
            let bounce = try await store.ingest(
                Self.delivery("b1"), activities: [Self.event("pm-1", #"{"RecordType":"Bounce","email_job_id":"forged"}"#)],
                suppressions: [.suppress(Self.ada, reason: "hard bounce", at: Self.t0)])
            #expect(try await Self.linkedJob(store, try #require(bounce.activityIDs.first)) == .int(job))

            // A replay re-links in place.
            let unlinked = try await store.ingest(Self.delivery("r1"), activities: [Self.event(nil)])
            let other = try await Self.sent(store, messageID: "pm-2")
            let replayed = try await store.replayInbound(id: try #require(unlinked.inboundID), activities: [Self.event("pm-2")], suppressions: [])
            #expect(replayed.activityIDs == unlinked.activityIDs)
            #expect(try await Self.linkedJob(store, try #require(replayed.activityIDs.first)) == .int(other))
        }
    }
}
