import Engine
import Foundation
import Hummingbird

/// The raw archive: list deliveries and replay one after a mapping fix.
struct InboundRoutes {
    let store: any InboundArchive
    let sources: InboundSources
    let pipeline: InboundPipeline

    func register(on routes: RouteRegistrar) {
        routes.add(.get, "/v1/inbound") { request, _ in
            let parameters = request.uri.queryParameters
            var query = InboundQuery(limit: try ListLimit.parse(parameters["limit"]))
            if let source = parameters["source"].map(String.init), !source.isEmpty { query.source = source }
            if let raw = parameters["verdict"].map(String.init), !raw.isEmpty {
                guard let verdict = InboundVerdict(rawValue: raw) else {
                    throw APIError.invalidParameter(
                        "verdict", "must be one of " + InboundVerdict.allCases.map(\.rawValue).joined(separator: ", "))
                }
                query.verdict = verdict
            }
            query.before = try CursorPage.cursor(parameters)
            let limit = query.limit
            query.limit += 1
            return JSONResponse.make(.ok, CursorPage.json(try await store.inboundEvents(query), limit: limit, id: \.id, ResourceJSON.inbound))
        }
        routes.add(.post, "/v1/inbound/{id}/replay") { request, context in
            try await replay(try PathID.parse(context, "archived delivery"))
        }
    }

    /// Re-runs the current normalization over an archived delivery.
    func replay(_ id: Int64) async throws -> Response {
        guard let event = try await store.inboundEvent(id: id) else {
            throw APIError.notFound("no archived delivery \(id)")
        }
        switch event.replayRefusal {
        case .duplicate(let original)?:
            throw APIError(.conflict, code: "duplicate_delivery", "delivery \(id) repeats delivery \(original); replay that one")
        case .pruned?:
            throw APIError(.conflict, code: "body_pruned", "the body of delivery \(id) was pruned after the retention period")
        case .truncated(let kept, let length)?:
            throw APIError(
                .conflict, code: "body_truncated", "delivery \(id) was rejected and only the first \(kept) of its \(length) bytes were kept")
        case nil:
            break
        }
        guard let normalizer = sources.normalizer(named: event.source) else {
            throw APIError(.conflict, code: "unknown_source", "no source named \(event.source) is configured")
        }
        let request = InboundRequest(
            headers: ResourceJSON.headerList(event.headers), body: event.body, receivedAt: event.receivedAt)
        let normalized: Result<Normalization, InputError>
        do throws(InputError) {
            normalized = .success(try normalizer.normalize(try InboundPayload.parseObject(event.body), request))
        } catch {
            normalized = .failure(error)
        }
        switch try await pipeline.ingest.replay(event, normalized) {
        case .stillInvalid(let error):
            throw APIError(.unprocessableContent, code: error.code, "the delivery still cannot be normalized: \(error.message)")
        case .replayed(let outcome):
            pipeline.metrics.verdict(source: event.source, outcome.duplicate ? "replay_duplicate" : "replayed")
            return JSONResponse.make(
                .ok,
                .object([
                    "inbound_id": outcome.inboundID.map { .int($0) } ?? .null,
                    "activity_ids": .array(outcome.activityIDs.map { .int($0) }),
                    "duplicate": .bool(outcome.duplicate),
                ]))
        }
    }
}
