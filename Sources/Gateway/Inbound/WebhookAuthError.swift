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
}
