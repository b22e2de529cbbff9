/// Where a ledger row is in its life.
public enum EmailStatus: String, Sendable, CaseIterable {
    case queued, sending, sent, failed, suppressed, cancelled
}

/// Postmark's two kinds of stream; the same split applies to every provider.
public enum EmailStream: String, Sendable, CaseIterable {
    case transactional, broadcast
}

/// A message to put in the send ledger (`email_jobs`).
public struct NewEmailJob: Sendable, Equatable {
    /// Unique per message: the same key twice never makes two rows and never sends twice.
    public var idempotencyKey: String
    public var recipient: EmailAddress
    public var sender: String
    public var subject: String
    public var html: String?
    public var text: String?
    public var stream: EmailStream
    public var tag: String?
    /// JSON object text, passed to the provider and kept in the ledger.
    public var metadata: String
    /// Open tracking; `nil` leaves the provider's default (Postmark's server setting).
    public var trackOpens: Bool?
    /// Link tracking; `nil` leaves the provider's default.
    public var trackLinks: LinkTracking?
    /// Extra headers, in order.
    public var headers: [MailHeader]
    /// Recorded as sent by the `dry-run` provider and never handed to the configured one: mail
    /// of a dry-run automation execution (ENGINE.md §4).
    public var dryRun = false

    public init(
        idempotencyKey: String, recipient: EmailAddress, sender: String, subject: String, html: String?, text: String?,
        stream: EmailStream = .transactional, tag: String? = nil, metadata: String = "{}",
        trackOpens: Bool? = nil, trackLinks: LinkTracking? = nil, headers: [MailHeader] = []
    ) {
        self.trackOpens = trackOpens
        self.trackLinks = trackLinks
        self.headers = headers
        self.idempotencyKey = idempotencyKey
        self.recipient = recipient
        self.sender = sender
        self.subject = subject
        self.html = html
        self.text = text
        self.stream = stream
        self.tag = tag
        self.metadata = metadata
    }
}

/// One row of the send ledger.
public struct EmailJob: Sendable, Equatable {
    public var id: Int64
    public var message: NewEmailJob
    public var status: EmailStatus
    public var attempts: Int
    public var nextAttemptAt: Timestamp
    public var lastError: String?
    public var provider: String?
    public var providerMessageID: String?
    public var createdAt: Timestamp
    public var sentAt: Timestamp?
    /// Set on a campaign's rows: their subject and bodies are rendered from the campaign for
    /// the contact at send time (``CampaignMail``).
    public var campaignID: Int64?
    public var contactID: Int64?

    public init(
        id: Int64, message: NewEmailJob, status: EmailStatus, attempts: Int, nextAttemptAt: Timestamp,
        lastError: String?, provider: String?, providerMessageID: String?, createdAt: Timestamp, sentAt: Timestamp?
    ) {
        self.id = id
        self.message = message
        self.status = status
        self.attempts = attempts
        self.nextAttemptAt = nextAttemptAt
        self.lastError = lastError
        self.provider = provider
        self.providerMessageID = providerMessageID
        self.createdAt = createdAt
        self.sentAt = sentAt
    }
}

/// What became of one claimed message, recorded in the ledger.
public enum EmailOutcome: Sendable, Equatable {
    case sent(provider: String, messageID: String, at: Timestamp)
    /// Permanent: never retried. `suppressRecipient` also suppresses the address (Postmark 406).
    case failed(reason: String, suppressRecipient: Bool)
    /// Temporary: back to `queued`, due at `retryAt`.
    case retry(reason: String, retryAt: Timestamp)
    /// Not the message's fault (the provider refused Cortex's configuration): back to `queued`,
    /// due at `retryAt`, and the attempt its claim counted is given back, so a bad token held
    /// for hours never uses up a message's attempts.
    case hold(reason: String, retryAt: Timestamp)
}

/// Which ledger rows to list, newest first (by id).
public struct EmailJobQuery: Sendable, Equatable {
    public var email: EmailAddress?
    public var status: EmailStatus?
    public var limit: Int
    /// Only rows with an id below this (the previous page's last).
    public var before: Int64?

    public init(email: EmailAddress? = nil, status: EmailStatus? = nil, limit: Int = 50, before: Int64? = nil) {
        self.email = email
        self.status = status
        self.limit = limit
        self.before = before
    }
}
