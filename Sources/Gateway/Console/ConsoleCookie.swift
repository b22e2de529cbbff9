import Hummingbird

/// The console's session cookie (ENGINE.md §6): an opaque random token, `HttpOnly` (no script
/// reads it), `SameSite=Strict` (no other site's page sends it), `Secure` when Cortex is served
/// over https, for the session's lifetime.
enum ConsoleCookie {
    static let name = "cortex_session"
    /// How long a session lasts from sign-in.
    static let lifetimeSeconds: Int64 = 12 * 3600

    /// The session token a request's `Cookie` header carries, if any.
    static func token(in headers: HTTPFields) -> String? {
        for header in headers[values: .cookie] {
            for pair in header.split(separator: ";") {
                let parts = pair.split(separator: "=", maxSplits: 1)
                guard parts.count == 2, parts[0].trimmingCharacters(in: .whitespaces) == name else { continue }
                let value = parts[1].trimmingCharacters(in: .whitespaces)
                // A token is 43 base64url characters; anything else is not one of ours.
                guard value.count <= 64, !value.isEmpty else { return nil }
                return value
            }
        }
        return nil
    }

    /// `Set-Cookie` for a new session's token.
    static func set(_ token: String, secure: Bool) -> String {
        "\(name)=\(token); Path=/; HttpOnly; SameSite=Strict; Max-Age=\(lifetimeSeconds)" + (secure ? "; Secure" : "")
    }

    /// `Set-Cookie` that removes the cookie (signing out).
    static func clear(secure: Bool) -> String {
        "\(name)=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0" + (secure ? "; Secure" : "")
    }

    /// 32 random bytes, base64url without padding: a session token or a CSRF token.
    static func randomToken() -> String {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<32).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
        return Base64URL.encode(bytes)
    }
}
