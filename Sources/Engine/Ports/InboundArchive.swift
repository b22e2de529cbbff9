/// The inbound gateway's side of the store: the raw archive of every authenticated delivery and
/// the activities, contacts and suppressions an accepted one writes.
public protocol InboundArchive: Sendable {
    /// Archives an authenticated delivery as accepted and writes its activities (upserting one
    /// contact per activity) and suppression changes, in one transaction. When
    /// `(source, externalID)` was accepted before, archives the delivery as a duplicate, writes
    /// nothing else, and answers `duplicate` with the first delivery's activity ids.
    func ingest(_ delivery: InboundDelivery, activities: [NewActivity], suppressions: [SuppressionChange])
        async throws -> IngestOutcome

    /// Archives an authenticated delivery whose payload could not be normalized, keeping only
    /// the first ``RejectedBodyPrefix/limit`` bytes of its body and the length received.
    func archiveRejected(_ delivery: InboundDelivery, reason: String) async throws

    /// Removes the body and headers of up to `limit` archived deliveries received before
    /// `cutoff`, oldest first, in one transaction, and marks them pruned at `time`. Each row keeps
    /// its source, event id, verdict, reason and `duplicate_of`, so a late redelivery of an
    /// accepted event is still answered as a duplicate. Answers how many rows it pruned; fewer
    /// than `limit` means none is left to prune.
    func pruneInboundBodies(receivedBefore cutoff: Timestamp, limit: Int, at time: Timestamp) async throws -> Int

    func inboundEvents(_ query: InboundQuery) async throws -> [InboundEvent]

    func inboundEvent(id: Int64) async throws -> InboundEvent?

    /// Re-applies a new normalization of an archived accepted or rejected delivery: its
    /// activities are updated in place (same ids), added or removed to match, and a rejected
    /// delivery becomes accepted, unless another accepted delivery already holds its event id,
    /// in which case nothing changes and the outcome is a duplicate.
    func replayInbound(id: Int64, activities: [NewActivity], suppressions: [SuppressionChange]) async throws
        -> IngestOutcome

    /// Records why a replay of a rejected delivery failed again.
    func recordReplayFailure(id: Int64, reason: String) async throws
}

extension InboundArchive {
    /// Ingests a delivery that changes no suppression.
    public func ingest(_ delivery: InboundDelivery, activities: [NewActivity]) async throws -> IngestOutcome {
        try await ingest(delivery, activities: activities, suppressions: [])
    }
}

/// The activity feed, newest first.
public protocol ActivityFeed: Sendable {
    func activities(_ query: ActivityQuery) async throws -> [Activity]
}

/// Addresses that get no mail (hard bounces, complaints, unsubscribes).
public protocol SuppressionRepository: Sendable {
    /// Suppressed addresses, most recent first.
    func suppressions(limit: Int) async throws -> [SuppressedAddress]

    /// Lifts a suppression by hand; false when the address was not suppressed.
    func liftSuppression(email: EmailAddress) async throws -> Bool
}
