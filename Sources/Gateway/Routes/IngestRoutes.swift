import Engine
import Hummingbird

/// The routes that write events: signed webhooks and the `trackEvent` API.
struct IngestRoutes {
    let checkout: CheckoutSource
    let ingestor: EventIngestor
    let authenticator: APIKeyAuthenticator
    let clock: any WallClock

    func register(on routes: RouteRegistrar) {
        routes.add(.post, "/webhooks/checkout") { request, _ in
            try await checkout.handle(request)
        }
        routes.add(.post, "/v1/events") { request, _ in
            try await authenticator.authenticate(request)
            let body = try await BodyLimit.collect(request)
            // The dedupe key is the body's idempotency_key, like a repeated webhook-id.
            return try await ingestor.ingest(
                source: "api", externalID: nil, request: request, body: body, receivedAt: clock.now(),
                contact: .required)
        }
    }
}
