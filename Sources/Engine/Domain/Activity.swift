/// One entry of a contact's activity feed (`crm_activities`).
public struct Activity: Sendable, Equatable {
    public var id: Int64
    public var type: String
    public var contactEmail: EmailAddress
    public var occurredAt: Timestamp
    public var receivedAt: Timestamp
    /// Where it came from: `checkout`, `api`, `postmark`, ...
    public var source: String
    /// The sender's event id (`webhook-id`, idempotency key), when it gave one.
    public var sourceEventID: String?
    /// The event's `data` as JSON object text.
    public var metadata: String

    public init(
        id: Int64, type: String, contactEmail: EmailAddress, occurredAt: Timestamp, receivedAt: Timestamp,
        source: String, sourceEventID: String?, metadata: String
    ) {
        self.id = id
        self.type = type
        self.contactEmail = contactEmail
        self.occurredAt = occurredAt
        self.receivedAt = receivedAt
        self.source = source
        self.sourceEventID = sourceEventID
        self.metadata = metadata
    }
}

/// An activity to be written, normalized from an inbound event.
public struct NewActivity: Sendable, Equatable {
    public var type: String
    public var contactEmail: EmailAddress
    public var occurredAt: Timestamp
    /// JSON object text.
    public var metadata: String
    /// Fills the contact's names when present; never blanks a known name.
    public var firstName: String?
    public var lastName: String?
    /// The provider's id of a message Cortex sent, so the activity can be linked to its ledger row.
    public var providerMessageID: String?

    public init(
        type: String, contactEmail: EmailAddress, occurredAt: Timestamp, metadata: String,
        firstName: String? = nil, lastName: String? = nil, providerMessageID: String? = nil
    ) {
        self.providerMessageID = providerMessageID
        self.type = type
        self.contactEmail = contactEmail
        self.occurredAt = occurredAt
        self.metadata = metadata
        self.firstName = firstName
        self.lastName = lastName
    }
}

/// Which activities to list, newest first: by `occurred_at`, then by id, so the order is total.
public struct ActivityQuery: Sendable, Equatable {
    public var email: EmailAddress?
    public var type: String?
    public var limit: Int
    /// Only activities after this one in that order (the previous page's last): older, or as old
    /// with a lower id. The store fails with `StoreError.notFound` when no activity has this id
    /// (erased with its contact, or removed by a replay) rather than guess where to go on.
    public var before: Int64?

    public init(email: EmailAddress? = nil, type: String? = nil, limit: Int = 50, before: Int64? = nil) {
        self.email = email
        self.type = type
        self.limit = limit
        self.before = before
    }
}
