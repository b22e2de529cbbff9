import Engine
import Hummingbird

/// The routes that write events: one signed webhook route per source, and the `trackEvent` API.
struct IngestRoutes {
    let sources: InboundSources
    let pipeline: InboundPipeline

    func register(on routes: RouteRegistrar) {
        for source in sources.webhooks {
            routes.add(.post, "/webhooks/\(source.name)") { request, _ in
                try await pipeline.receive(source, request)
            }
        }
        let api = sources.api
        routes.add(.post, "/v1/events") { request, _ in
            let inbound = InboundRequest(
                headers: request.headers.map { (name: $0.name.canonicalName, value: $0.value) },
                body: try await BodyLimit.collect(request), receivedAt: pipeline.clock.now())
            return try await pipeline.accept(api, inbound)
        }
    }
}
