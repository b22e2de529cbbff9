import Crypto
import Foundation

/// HTTP basic-auth credentials checked in constant time; several passwords may be valid at once
/// so a credential can be rotated without losing events.
struct BasicCredentials: Sendable {
    private let userDigest: [UInt8]
    private let passwordDigests: [[UInt8]]

    init(user: String, passwords: [String]) {
        userDigest = Self.digest(user)
        passwordDigests = passwords.map(Self.digest)
    }

    private static func digest(_ text: String) -> [UInt8] {
        Array(SHA256.hash(data: Array(text.utf8)))
    }

    /// Checks an `Authorization` header value.
    func verify(authorization: String?) throws(WebhookAuthError) {
        guard let authorization, !authorization.isEmpty else {
            throw WebhookAuthError(kind: .auth, message: "missing basic-auth credentials")
        }
        let parts = authorization.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "basic",
            let decoded = Data(base64Encoded: String(parts[1]).trimmingCharacters(in: .whitespaces)),
            let text = String(data: decoded, encoding: .utf8), let colon = text.firstIndex(of: ":")
        else {
            throw WebhookAuthError(kind: .auth, message: "the Authorization header is not basic auth")
        }
        // Digests have one length, so each comparison takes the same time; every password is
        // compared, so the time does not tell which one matched.
        let userMatches = ConstantTime.equals(Self.digest(String(text[..<colon])), userDigest)
        let password = Self.digest(String(text[text.index(after: colon)...]))
        var passwordMatches = false
        for candidate in passwordDigests where ConstantTime.equals(candidate, password) {
            passwordMatches = true
        }
        guard userMatches && passwordMatches else {
            throw WebhookAuthError(kind: .auth, message: "wrong basic-auth credentials")
        }
    }
}
