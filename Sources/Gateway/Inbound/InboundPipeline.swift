import Engine
import Hummingbird
import Logging

/// The one path every inbound delivery takes after authentication: parse, find the event id,
/// normalize, and commit archive row, activities and suppressions together before answering.
struct InboundPipeline: Sendable {
    let store: any InboundArchive & EmailLedger & ContactDirectory
    let metrics: CortexMetrics
    let clock: any WallClock
    let logger: Logger
    /// Shared by every request through this pipeline, so its limit holds across them.
    let authenticationFailures = AuthenticationFailureLog()

    /// `POST /webhooks/{source}`: read, authenticate, accept.
    func receive(_ source: some WebhookSource, _ request: Request) async throws -> Response {
        let inbound = InboundRequest(
            headers: request.headers.map { (name: $0.name.canonicalName, value: $0.value) },
            body: try await BodyLimit.collect(request), receivedAt: clock.now())
        do {
            try source.authenticate(inbound)
        } catch {
            // A failed authentication writes nothing but this counter and a rate-limited log
            // line, so it can fill neither the database nor the log.
            metrics.verdict(source: source.name, "unauthenticated")
            authenticationFailures.record(
                source: source.name, reason: "\(error.kind)", detail: error.message, at: inbound.receivedAt, logger: logger)
            throw APIError.from(error)
        }
        return try await accept(source, inbound)
    }

    /// Normalizes an authenticated delivery and commits it; answers 202, or 400 after archiving
    /// the delivery as rejected.
    func accept(_ source: some InboundNormalizer, _ inbound: InboundRequest) async throws -> Response {
        var delivery = InboundDelivery(
            source: source.name, externalID: nil, receivedAt: inbound.receivedAt,
            headers: CredentialHeaders.redacted(inbound.headers), body: inbound.body)
        let normalization: Normalization
        do throws(InputError) {
            let payload: JSONObject
            do {
                payload = try InboundPayload.parseObject(inbound.body)
            } catch {
                delivery.externalID = source.eventID(inbound, payload: nil)
                throw error
            }
            delivery.externalID = source.eventID(inbound, payload: payload)
            normalization = try source.normalize(payload, inbound)
        } catch {
            try await store.archiveRejected(delivery, reason: error.description)
            metrics.verdict(source: source.name, "rejected")
            throw APIError.from(error)
        }
        let outcome = try await store.ingest(
            delivery, activities: try await correlated(normalization.activities), suppressions: normalization.suppressions)
        try await applyConsent(normalization.activities, source: source.name)
        metrics.verdict(source: source.name, outcome.duplicate ? "duplicate" : "accepted")
        if !outcome.duplicate { metrics.activitiesWritten(source: source.name, count: outcome.activityIDs.count) }
        return JSONResponse.make(
            .accepted,
            .object([
                "activity_ids": .array(outcome.activityIDs.map { .int($0) }),
                "duplicate": .bool(outcome.duplicate),
            ]))
    }

    /// Sets the consent an event's `marketing_opt_in` states. Applied before the answer and
    /// again for a duplicate: if Cortex stopped between the ingest and this, the sender's retry
    /// (a duplicate) completes it, and an older consent never overrides a newer one.
    func applyConsent(_ activities: [NewActivity], source: String) async throws {
        for update in ConsentSignal.updates(activities, source: source) {
            try await store.saveContact(update, at: clock.now())
        }
    }

    /// Adds `email_job_id` to the metadata of activities about a message Cortex sent, so
    /// deliveries, opens and bounces can be counted per message and, later, per campaign.
    func correlated(_ activities: [NewActivity]) async throws -> [NewActivity] {
        var linked = activities
        for index in linked.indices {
            guard let messageID = linked[index].providerMessageID, !messageID.isEmpty,
                let jobID = try await store.emailJobID(providerMessageID: messageID),
                var metadata = (try? JSONParser.parse(Array(linked[index].metadata.utf8)))?.objectValue
            else { continue }
            metadata.members.append((key: "email_job_id", value: .int(jobID)))
            linked[index].metadata = JSON.object(metadata).serialized()
        }
        return linked
    }
}
