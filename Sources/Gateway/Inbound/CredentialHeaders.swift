/// Headers that may carry credentials or signatures derived from them. They are never archived.
///
/// Redacted by rule, not by list: a proxy's `X-Forwarded-Authorization`, a vendor's
/// `X-Shop-Webhook-Token` or a `Sec-Session-Cookie` carry secrets no list of known names holds.
/// A header whose name contains any of these words is dropped; a harmless header now and then
/// lost from the archive (`X-Idempotency-Key`) is the price of never keeping a secret.
enum CredentialHeaders {
    /// `auth` covers `authorization` and `x-auth-*`; `hmac` covers `x-thinkific-hmac-sha256`.
    static let words = ["auth", "signature", "token", "secret", "key", "cookie", "password", "hmac", "credential", "session"]

    /// Whether a header of this name is kept out of the archive (any letter case).
    static func isCredential(_ name: String) -> Bool {
        words.contains { name.containsBytes(of: $0, foldingASCIICase: true) }
    }

    /// The headers minus credentials, as archived in `inbound_events`.
    static func redacted(_ headers: [(name: String, value: String)]) -> [(name: String, value: String)] {
        headers.filter { !isCredential($0.name) }
    }
}
