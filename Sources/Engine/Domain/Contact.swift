/// A person in the directory: one row per email address.
public struct Contact: Sendable, Equatable {
    public var email: EmailAddress
    public var firstName: String?
    public var lastName: String?
    public var createdAt: Timestamp
    /// Sorted tag names.
    public var tags: [String]
    /// Present when mail to this contact is suppressed.
    public var suppression: Suppression?

    public init(
        email: EmailAddress, firstName: String?, lastName: String?, createdAt: Timestamp, tags: [String],
        suppression: Suppression?
    ) {
        self.email = email
        self.firstName = firstName
        self.lastName = lastName
        self.createdAt = createdAt
        self.tags = tags
        self.suppression = suppression
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
