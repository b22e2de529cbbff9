/// A message as a transport sends it.
public struct OutgoingEmail: Sendable, Equatable {
    /// The ledger row, so each result is recorded against its own message.
    public var jobID: Int64
    public var message: NewEmailJob

    public init(jobID: Int64, message: NewEmailJob) {
        self.jobID = jobID
        self.message = message
    }
}

/// One message's result from a provider.
public enum DeliveryResult: Sendable, Equatable {
    case sent(messageID: String)
    /// Permanent for this message (invalid address, inactive recipient, ...).
    case rejected(reason: String, suppressRecipient: Bool)
    /// Temporary for this message; try again later.
    case deferred(reason: String, retryAfter: Duration?)
}

/// A failure of a whole call.
public struct TransportError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        /// The provider is overloaded or unreachable (429, 5xx, timeout): retry the batch later,
        /// slowing down.
        case throttled(retryAfter: Duration?)
        /// The configuration is wrong (bad token, unknown sender): sending pauses until fixed.
        case misconfigured
    }

    public let kind: Kind
    public let message: String

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    public var description: String { message }
}

/// Delivers mail through one provider. Chosen by configuration, never by code.
public protocol MailTransport: Sendable {
    /// `postmark`, `smtp`, `dry-run`: recorded in the ledger as the provider.
    var name: String { get }
    /// The most messages one call may carry (500 for Postmark's batch API).
    var maxBatchSize: Int { get }
    /// Sends a batch, answering one result per message in order.
    func send(_ batch: [OutgoingEmail]) async throws(TransportError) -> [DeliveryResult]
}
