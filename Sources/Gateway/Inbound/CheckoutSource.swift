import Engine
import HTTPTypes
import Hummingbird

/// `POST /webhooks/checkout`: canonical events from a checkout form's server, signed with
/// Standard Webhooks. The `webhook-id` is the dedupe key; verification always comes first.
struct CheckoutSource: Sendable {
    static let name = "checkout"

    /// `nil` when `CORTEX_CHECKOUT_SECRET` is unset: every call is refused.
    let verifier: StandardWebhooksVerifier?
    let ingestor: EventIngestor
    let clock: any WallClock

    func handle(_ request: Request) async throws -> Response {
        let body = try await BodyLimit.collect(request)
        let now = clock.now()
        let id = request.headers[.webhookID]
        do throws(WebhookAuthError) {
            guard let verifier else {
                throw WebhookAuthError(kind: .auth, message: "no signing secret is configured for this endpoint")
            }
            try verifier.verify(
                id: id,
                timestamp: request.headers[.webhookTimestamp],
                signatures: request.headers[.webhookSignature],
                body: body, now: now)
        } catch {
            // A failed authentication writes nothing but this counter, so it cannot fill the disk.
            ingestor.metrics.verdict(source: Self.name, "unauthenticated")
            throw APIError.from(error)
        }
        return try await ingestor.ingest(
            source: Self.name, externalID: id, request: request, body: body, receivedAt: now, contact: .optional)
    }
}

extension HTTPField.Name {
    static let webhookID = HTTPField.Name("webhook-id")!
    static let webhookTimestamp = HTTPField.Name("webhook-timestamp")!
    static let webhookSignature = HTTPField.Name("webhook-signature")!
}
