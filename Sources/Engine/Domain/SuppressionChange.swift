/// What an inbound event does to an address's suppression, applied in the same transaction as
/// its activities.
public enum SuppressionChange: Sendable, Equatable {
    /// Stop mail to the address (hard bounce, spam complaint, unsubscribe). An address already
    /// suppressed keeps its first reason and time.
    case suppress(EmailAddress, reason: String, at: Timestamp)
    /// Mail may go to the address again (resubscribe), unless it was suppressed after `at`:
    /// providers do not promise order, and a late reactivation must not undo a newer bounce.
    case lift(EmailAddress, at: Timestamp)
}

/// A suppressed address, as listed by `GET /v1/suppressions`.
public struct SuppressedAddress: Sendable, Equatable {
    public var email: EmailAddress
    public var suppression: Suppression

    public init(email: EmailAddress, suppression: Suppression) {
        self.email = email
        self.suppression = suppression
    }
}
