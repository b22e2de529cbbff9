/// A person in the directory: one row per email address (ENGINE.md §1).
public struct Contact: Sendable, Equatable {
    public var email: EmailAddress
    public var firstName: String?
    public var lastName: String?
    public var createdAt: Timestamp
    /// Tag names as first written, sorted.
    public var tags: [String]
    /// Present when mail to this contact is suppressed.
    public var suppression: Suppression?
    /// The contact's id in another system (a shop's user id).
    public var externalID: String?
    /// An IANA time zone name.
    public var timezone: String?
    /// The attributes object, as JSON text.
    public var attributes: String
    /// `customer` once a checkout or order completed, else `lead`; read from the activities.
    public var lifecycle: String
    public var consent: Consent
    /// When the newest activity occurred; `nil` for a contact with none.
    public var lastActivityAt: Timestamp?

    public init(
        email: EmailAddress, firstName: String?, lastName: String?, createdAt: Timestamp, tags: [String],
        suppression: Suppression?, externalID: String? = nil, timezone: String? = nil, attributes: String = "{}",
        lifecycle: String = "lead", consent: Consent = Consent(status: .unknown, at: nil, source: nil),
        lastActivityAt: Timestamp? = nil
    ) {
        self.email = email
        self.firstName = firstName
        self.lastName = lastName
        self.createdAt = createdAt
        self.tags = tags
        self.suppression = suppression
        self.externalID = externalID
        self.timezone = timezone
        self.attributes = attributes
        self.lifecycle = lifecycle
        self.consent = consent
        self.lastActivityAt = lastActivityAt
    }
}

/// Marketing consent and where it last changed.
public struct Consent: Sendable, Equatable {
    public var status: ConsentStatus
    public var at: Timestamp?
    public var source: String?

    public init(status: ConsentStatus, at: Timestamp?, source: String?) {
        self.status = status
        self.at = at
        self.source = source
    }
}

/// Why and since when an address gets no mail.
public struct Suppression: Sendable, Equatable {
    public var reason: String
    public var since: Timestamp

    public init(reason: String, since: Timestamp) {
        self.reason = reason
        self.since = since
    }
}
