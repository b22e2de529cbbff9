/// Why an inbound webhook failed authentication or lacked what authentication needs.
struct WebhookAuthError: Error, Equatable, CustomStringConvertible {
    enum Kind: Equatable {
        /// A required header is absent: 400.
        case missingHeader
        /// A header is present but unusable (too long): 400.
        case invalidHeader
        /// The timestamp is not an integer or outside the tolerance: 401.
        case timestamp
        /// No signature matches: 401.
        case signature
        /// No credential is configured, or the given credential is wrong: 401.
        case auth
    }

    let kind: Kind
    let message: String

    var description: String { message }

    /// The most bytes a signature header (`webhook-signature`, `Stripe-Signature`) may carry.
    /// Real ones hold one signature per active secret, under 200 bytes. Every entry costs a
    /// decode and a comparison before any is known to match, so an unbounded header let anyone
    /// spend CPU without a secret: 1,000 `v1=` entries (68 KB, under the head limit) took 8 ms a
    /// request on the release build against 0.6 ms for a real one. 4,096 bytes still leaves room
    /// for dozens of rolled secrets.
    static let signatureHeaderLimit = 4096

    /// Refuses `header` (named `name`) when it is longer than ``signatureHeaderLimit``.
    static func checkSignatureHeaderLength(_ header: String, name: String) throws(WebhookAuthError) {
        guard header.utf8.count <= signatureHeaderLimit else {
            throw WebhookAuthError(kind: .invalidHeader, message: "\(name) is longer than \(signatureHeaderLimit) bytes")
        }
    }
}
