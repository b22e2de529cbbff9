import Crypto
import Engine
import Foundation

/// Standard Webhooks (v1, HMAC-SHA256) signing and verification over the raw body bytes.
///
/// Signed content is `{webhook-id}.{webhook-timestamp}.{body}`; the secret is `whsec_` followed
/// by base64. Several space-separated signatures may be sent (secret rotation); any valid `v1`
/// one is accepted. The timestamp must be within five minutes either way of now.
struct StandardWebhooksVerifier: Sendable {
    static let tolerance: Int64 = 300
    static let maximumIDLength = 255

    private let key: SymmetricKey

    /// Decodes a `whsec_...` secret; `variable` names the setting in the error message.
    init(secret: String, variable: String = "secret") throws(ConfigurationError) {
        let body = secret.hasPrefix("whsec_") ? secret.dropFirst(6) : Substring(secret)
        var encoded = String(body.prefix { $0 != "=" })
        let alphabet = Set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")
        // The reference Python library tolerates missing padding; so do we.
        while encoded.count % 4 != 0 { encoded += "=" }
        guard !body.isEmpty, body.drop(while: { $0 != "=" }).allSatisfy({ $0 == "=" }),
            encoded.allSatisfy({ alphabet.contains($0) || $0 == "=" }),
            let bytes = Data(base64Encoded: encoded), !bytes.isEmpty
        else {
            throw ConfigurationError("\(variable) must be whsec_ followed by base64 (as Standard Webhooks issues it)")
        }
        key = SymmetricKey(data: bytes)
    }

    /// The `v1,<base64>` signature of a message.
    func signature(id: String, timestamp: Int64, body: [UInt8]) -> String {
        "v1," + Data(mac(id: id, timestamp: String(timestamp), body: body)).base64EncodedString()
    }

    /// Throws unless the headers carry a valid, timely signature of `body`.
    func verify(id: String?, timestamp: String?, signatures: String?, body: [UInt8], now: Timestamp)
        throws(WebhookAuthError)
    {
        guard let id, !id.isEmpty else { throw missing("webhook-id") }
        guard let timestamp, !timestamp.isEmpty else { throw missing("webhook-timestamp") }
        guard let signatures, !signatures.isEmpty else { throw missing("webhook-signature") }
        guard id.utf8.count <= Self.maximumIDLength else {
            throw WebhookAuthError(kind: .invalidHeader, message: "webhook-id is longer than \(Self.maximumIDLength) bytes")
        }
        try WebhookAuthError.checkSignatureHeaderLength(signatures, name: "webhook-signature")
        guard let seconds = Int64(timestamp), timestamp.allSatisfy(\.isASCIIDigit) else {
            throw WebhookAuthError(kind: .timestamp, message: "webhook-timestamp is not an integer number of seconds")
        }
        let skew = now.seconds - seconds
        guard skew <= Self.tolerance else {
            throw WebhookAuthError(kind: .timestamp, message: "webhook-timestamp is more than 5 minutes old")
        }
        guard skew >= -Self.tolerance else {
            throw WebhookAuthError(kind: .timestamp, message: "webhook-timestamp is more than 5 minutes in the future")
        }
        let expected = mac(id: id, timestamp: timestamp, body: body)
        for candidate in signatures.split(separator: " ") {
            let parts = candidate.split(separator: ",", maxSplits: 1)
            // Only the symmetric scheme is ours; `v1a` (ed25519) and unknown versions are skipped.
            guard parts.count == 2, parts[0] == "v1", let given = Data(base64Encoded: String(parts[1])) else {
                continue
            }
            if ConstantTime.equals(given, expected) { return }
        }
        throw WebhookAuthError(kind: .signature, message: "no valid v1 signature in webhook-signature")
    }

    private func mac(id: String, timestamp: String, body: [UInt8]) -> [UInt8] {
        // Incremental HMAC: the body is hashed in place instead of being copied into a prefix buffer.
        var hmac = HMAC<SHA256>(key: key)
        hmac.update(data: Array("\(id).\(timestamp).".utf8))
        hmac.update(data: body)
        return Array(hmac.finalize())
    }

    private func missing(_ header: String) -> WebhookAuthError {
        WebhookAuthError(kind: .missingHeader, message: "the \(header) header is missing")
    }
}

extension Character {
    var isASCIIDigit: Bool { isASCII && isNumber }
}
