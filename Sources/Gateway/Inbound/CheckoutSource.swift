import Engine

/// `POST /webhooks/checkout`: canonical events from a checkout form's server, signed with
/// Standard Webhooks. The `webhook-id` is the dedupe key; verification always comes first.
struct CheckoutSource: WebhookSource {
    let name = "checkout"

    /// `nil` when `CORTEX_CHECKOUT_SECRET` is unset: every call is refused.
    let verifier: StandardWebhooksVerifier?

    func authenticate(_ request: InboundRequest) throws(WebhookAuthError) {
        guard let verifier else { throw .notConfigured("CORTEX_CHECKOUT_SECRET") }
        try verifier.verify(
            id: request.header("webhook-id"), timestamp: request.header("webhook-timestamp"),
            signatures: request.header("webhook-signature"), body: request.body, now: request.receivedAt)
    }

    func eventID(_ request: InboundRequest, payload: JSONObject?) -> String? {
        request.header("webhook-id")
    }

    func normalize(_ payload: JSONObject, _ request: InboundRequest) throws(InputError) -> Normalization {
        // An event naming no contact is acknowledged with no activity: the sender must not retry
        // what can never be attributed.
        Normalization(activities: try CanonicalEvent.parse(payload).activities(receivedAt: request.receivedAt))
    }
}

extension CanonicalEvent {
    /// The event as activities: one when it names a contact, none otherwise.
    func activities(receivedAt: Timestamp) -> [NewActivity] {
        guard let email else { return [] }
        return [
            NewActivity(
                type: type, contactEmail: email, occurredAt: occurredAt ?? receivedAt,
                metadata: JSON.object(metadata).serialized(), firstName: firstName, lastName: lastName)
        ]
    }
}
