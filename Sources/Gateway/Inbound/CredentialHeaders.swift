/// Headers that carry credentials or signatures derived from them. They are never archived.
enum CredentialHeaders {
    static let names: Set<String> = [
        "authorization", "proxy-authorization", "cookie", "x-api-key",
        "webhook-signature", "stripe-signature", "x-thinkific-hmac-sha256",
    ]

    /// The headers minus credentials, as archived in `inbound_events`.
    static func redacted(_ headers: [(name: String, value: String)]) -> [(name: String, value: String)] {
        headers.filter { !names.contains($0.name) }
    }
}
