import Hummingbird

/// Headers that carry credentials or signatures derived from them. They are never archived.
enum CredentialHeaders {
    static let names: Set<String> = [
        "authorization", "proxy-authorization", "cookie", "x-api-key",
        "webhook-signature", "stripe-signature", "x-thinkific-hmac-sha256",
    ]

    /// The request's headers minus credentials, as archived in `inbound_events`.
    static func redacted(_ headers: HTTPFields) -> [(name: String, value: String)] {
        headers.compactMap { field in
            let name = field.name.canonicalName
            return names.contains(name) ? nil : (name: name, value: field.value)
        }
    }
}
