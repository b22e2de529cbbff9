/// What a source made of one payload, written in one transaction with the archive row.
public struct Normalization: Sendable, Equatable {
    public var activities: [NewActivity]
    public var suppressions: [SuppressionChange]

    public init(activities: [NewActivity] = [], suppressions: [SuppressionChange] = []) {
        self.activities = activities
        self.suppressions = suppressions
    }
}

/// The use cases of the inbound gateway, after a source has authenticated and normalized a
/// delivery: accept it (or archive it as rejected), and replay an archived one. Webhook routes,
/// the events API and replay run the same path; the caller maps the result to its answer.
public struct InboundIngest: Sendable {
    public let store: any InboundArchive & ContactDirectory
    public let clock: any WallClock

    public init(store: any InboundArchive & ContactDirectory, clock: any WallClock) {
        self.store = store
        self.clock = clock
    }

    /// What became of a delivery.
    public enum Verdict: Sendable, Equatable {
        /// Committed (or found to repeat an accepted delivery).
        case accepted(IngestOutcome)
        /// Archived as rejected, for this reason.
        case rejected(InputError)
    }

    /// Commits `delivery`: its activities, suppressions and any consent its events state when
    /// `normalized` succeeded, else the archive row alone, as rejected.
    public func accept(_ delivery: InboundDelivery, _ normalized: Result<Normalization, InputError>) async throws -> Verdict {
        switch normalized {
        case .failure(let error):
            try await store.archiveRejected(delivery, reason: error.description)
            return .rejected(error)
        case .success(let normalization):
            let outcome = try await store.ingest(
                delivery, activities: normalization.activities, suppressions: normalization.suppressions)
            // Also for a duplicate: see `applyConsent`.
            try await applyConsent(normalization.activities, source: delivery.source)
            return .accepted(outcome)
        }
    }

    /// What a replay did.
    public enum ReplayVerdict: Sendable, Equatable {
        case replayed(IngestOutcome)
        /// The current mapping still refuses the delivery; the archive records why.
        case stillInvalid(InputError)
    }

    /// Re-applies a new normalization of archived delivery `event` (see
    /// ``InboundArchive/replayInbound(id:activities:suppressions:)``). Check
    /// ``InboundEvent/replayRefusal`` first.
    public func replay(_ event: InboundEvent, _ normalized: Result<Normalization, InputError>) async throws -> ReplayVerdict {
        switch normalized {
        case .failure(let error):
            try await store.recordReplayFailure(id: event.id, reason: error.description)
            return .stillInvalid(error)
        case .success(let normalization):
            let outcome = try await store.replayInbound(
                id: event.id, activities: normalization.activities, suppressions: normalization.suppressions)
            if !outcome.duplicate { try await applyConsent(normalization.activities, source: event.source) }
            return .replayed(outcome)
        }
    }

    /// Sets the consent an event's `marketing_opt_in` states. Applied after the ingest and again
    /// for a duplicate: if Cortex stopped between the two, the sender's retry (a duplicate)
    /// completes it, and an older consent never overrides a newer one.
    func applyConsent(_ activities: [NewActivity], source: String) async throws {
        for update in ConsentSignal.updates(activities, source: source) {
            try await store.saveContact(update, at: clock.now())
        }
    }
}

/// Why an archived delivery cannot be replayed as it is.
public enum ReplayRefusal: Sendable, Equatable {
    /// The row repeats delivery `original`; replay that one.
    case duplicate(original: Int64)
    /// Retention removed the body.
    case pruned
    /// A rejected body of which only `kept` of `length` bytes were stored.
    case truncated(kept: Int, length: Int)
}

extension InboundEvent {
    /// Why this row cannot be replayed, or `nil` when it can: normalizing what is left of a
    /// body would record the wrong activities, or none.
    public var replayRefusal: ReplayRefusal? {
        if let original = duplicateOf { return .duplicate(original: original) }
        if bodyPruned { return .pruned }
        if bodyTruncated { return .truncated(kept: body.count, length: bodyLength) }
        return nil
    }
}
