import Engine

/// `POST /v1/events`, the `trackEvent` call: the canonical event from the caller's own servers,
/// authenticated by API key. The body's `idempotency_key` is the dedupe key.
struct APIEventSource: InboundNormalizer {
    let name = "api"

    func eventID(_ request: InboundRequest, payload: JSONObject?) -> String? {
        payload?["idempotency_key"]?.stringValue
    }

    func normalize(_ payload: JSONObject, _ request: InboundRequest) throws(InputError) -> Normalization {
        let event = try CanonicalEvent.parse(payload)
        // Unlike a webhook sender, an API caller can fix its call, so it is told at once.
        guard event.email != nil else { throw .missingEmail }
        return Normalization(activities: event.activities(receivedAt: request.receivedAt))
    }
}
