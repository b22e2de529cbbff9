import Engine
import Hummingbird
import Logging

/// Normalizes an authenticated canonical event and commits it, archive first; shared by
/// `/webhooks/checkout` and `/v1/events` so both behave identically past authentication.
struct EventIngestor: Sendable {
    let store: any Store
    let metrics: CortexMetrics

    enum ContactRequirement {
        /// An event naming no contact is archived and acknowledged with no activity: a sender
        /// must not retry what can never be attributed.
        case optional
        /// An API caller is told at once that the email is missing.
        case required
    }

    /// Parses `body`, archives the delivery with its verdict, and answers 202 or the 400.
    /// `externalID` nil means: take the body's `idempotency_key`.
    func ingest(
        source: String, externalID: String?, request: Request, body: [UInt8], receivedAt: Timestamp,
        contact: ContactRequirement
    ) async throws -> Response {
        var delivery = InboundDelivery(
            source: source, externalID: externalID, receivedAt: receivedAt,
            headers: CredentialHeaders.redacted(request.headers), body: body)
        let event: CanonicalEvent
        do {
            event = try CanonicalEvent.parse(body)
            if contact == .required, event.email == nil { throw InputError.missingEmail }
        } catch let error as InputError {
            try await store.archiveRejected(delivery, reason: error.description)
            metrics.verdict(source: source, "rejected")
            throw APIError.from(error)
        }
        if externalID == nil { delivery.externalID = event.idempotencyKey }

        var activities: [NewActivity] = []
        if let email = event.email {
            activities.append(
                NewActivity(
                    type: event.type, contactEmail: email, occurredAt: event.occurredAt ?? receivedAt,
                    metadata: JSON.object(event.metadata).serialized(), firstName: event.firstName,
                    lastName: event.lastName))
        }
        let outcome = try await store.ingest(delivery, activities: activities)
        metrics.verdict(source: source, outcome.duplicate ? "duplicate" : "accepted")
        if !outcome.duplicate { metrics.activitiesWritten(source: source, count: outcome.activityIDs.count) }
        return JSONResponse.make(
            .accepted,
            .object([
                "activity_ids": .array(outcome.activityIDs.map { .int($0) }),
                "duplicate": .bool(outcome.duplicate),
            ]))
    }
}
