import Engine

/// Every source Cortex accepts events from, built from configuration: the webhook providers,
/// each served at `/webhooks/{name}`, and the API. Adding a provider means one file that
/// conforms to `WebhookSource`, one line here, its fixtures and its tests.
struct InboundSources: Sendable {
    let webhooks: [any WebhookSource]
    let api = APIEventSource()

    init(configuration: CortexConfiguration) {
        webhooks = [
            // Secrets were validated when the configuration was read.
            CheckoutSource(verifier: configuration.checkoutSecret.flatMap { try? StandardWebhooksVerifier(secret: $0) }),
            PostmarkSource(credentials: configuration.postmarkCredentials),
            StripeSource(secret: configuration.stripeSecret),
            ThinkificSource(secret: configuration.thinkificSecret),
        ]
    }

    /// The normalizer of an archived delivery's source, for a replay.
    func normalizer(named name: String) -> (any InboundNormalizer)? {
        if name == api.name { return api }
        return webhooks.first { $0.name == name }
    }
}
