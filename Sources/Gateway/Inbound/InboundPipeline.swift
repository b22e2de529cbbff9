import Engine
import Hummingbird
import Logging

/// The HTTP side of every inbound delivery: read, authenticate, parse, find the event id and
/// normalize with the source, then hand the rest to Engine's ``InboundIngest`` and answer.
struct InboundPipeline: Sendable {
    let ingest: InboundIngest
    let metrics: CortexMetrics
    let logger: Logger
    var clock: any WallClock { ingest.clock }
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

    /// Normalizes an authenticated delivery and commits it (``InboundIngest``); answers 202, or
    /// 400 after archiving the delivery as rejected.
    func accept(_ source: some InboundNormalizer, _ inbound: InboundRequest) async throws -> Response {
        var delivery = InboundDelivery(
            source: source.name, externalID: nil, receivedAt: inbound.receivedAt,
            headers: CredentialHeaders.redacted(inbound.headers), body: inbound.body)
        let normalized: Result<Normalization, InputError>
        do throws(InputError) {
            let payload: JSONObject
            do {
                payload = try InboundPayload.parseObject(inbound.body)
            } catch {
                delivery.externalID = source.eventID(inbound, payload: nil)
                throw error
            }
            delivery.externalID = source.eventID(inbound, payload: payload)
            normalized = .success(try source.normalize(payload, inbound))
        } catch {
            normalized = .failure(error)
        }
        switch try await ingest.accept(delivery, normalized) {
        case .rejected(let error):
            metrics.verdict(source: source.name, "rejected")
            throw APIError.from(error)
        case .accepted(let outcome):
            metrics.verdict(source: source.name, outcome.duplicate ? "duplicate" : "accepted")
            if !outcome.duplicate { metrics.activitiesWritten(source: source.name, count: outcome.activityIDs.count) }
            return JSONResponse.make(
                .accepted,
                .object([
                    "activity_ids": .array(outcome.activityIDs.map { .int($0) }),
                    "duplicate": .bool(outcome.duplicate),
                ]))
        }
    }
}
