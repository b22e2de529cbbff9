/// The directory: contacts' own fields, tags, smart lists, and the filter language run against
/// them (ENGINE.md §1–3). One implementation per database; both pass one conformance suite.
public protocol ContactDirectory: Sendable {
    /// One contact with everything the directory knows of it, or `nil`.
    /// Several contacts at once as templates and steps read them: their own columns and tags;
    /// lifecycle, consent, suppression and last activity are left at their defaults (they cost
    /// a pass over the contact's activities). An erased contact is missing.
    func templateContacts(_ emails: [EmailAddress]) async throws -> [EmailAddress: Contact]

    func contact(email: EmailAddress) async throws -> Contact?

    /// Creates the contact, or updates the fields `update` gives. Attributes merge key by key
    /// (a JSON `null` removes a key). A consent change writes a `consent.granted` or
    /// `consent.revoked` activity in the same transaction.
    func saveContact(_ update: ContactUpdate, at time: Timestamp) async throws

    /// Erases a contact: the row, its activities and tags go, and its messages in the send ledger
    /// lose their subject and bodies (queued ones are cancelled). A suppression stays, so an
    /// erased address that bounced is still never mailed. False when there was no such contact.
    func eraseContact(_ email: EmailAddress) async throws -> Bool

    /// Removes a tag (matched ignoring ASCII case), writing a `tag.removed` activity with the
    /// tag as it was written; false when the contact did not have it (no activity then).
    func removeTag(_ tag: String, from email: EmailAddress, at time: Timestamp) async throws -> Bool

    /// Adds tags (matched ignoring ASCII case, kept as first written), creating the contact if
    /// needed. Each tag the contact did not have writes a `tag.added` activity in the same
    /// transaction; a tag it had is a no-op. Answers the tags added.
    func addTags(_ tags: [String], to email: EmailAddress, at time: Timestamp) async throws -> [String]

    /// Stores a smart list whose filter the caller has validated; answers its id.
    func createSmartList(name: String, filter: JSON, at time: Timestamp) async throws -> Int64

    /// A smart list's filter document, or `nil` when no such list exists.
    func smartListFilter(id: Int64) async throws -> JSON?

    /// How many contacts match. Throws ``FilterError`` for a reference to a missing list or a
    /// cycle of lists.
    func countContacts(matching filter: Filter, at now: Timestamp) async throws -> Int

    /// The matching contacts' emails in a stable order, `limit` at a time after `cursor`.
    func contactEmails(matching filter: Filter, after cursor: Int64?, limit: Int, at now: Timestamp) async throws
        -> DirectoryPage

    /// Whether one contact matches (what an automation condition asks); false when the contact
    /// does not exist.
    func contact(_ email: EmailAddress, matches filter: Filter, at now: Timestamp) async throws -> Bool
}

/// The fields of a contact to set; `nil` leaves a field as it is.
public struct ContactUpdate: Sendable, Equatable {
    public var email: EmailAddress
    public var firstName: String?
    public var lastName: String?
    public var externalID: String?
    public var timezone: String?
    /// Merged into the contact's attributes; a `null` value removes the key.
    public var attributes: JSONObject?
    public var consent: ConsentStatus?
    /// Where a consent change came from (`checkout`, `api`, `import`, ...).
    public var consentSource: String?
    /// When the consent was given or revoked (an event's own time); the save's time when `nil`.
    /// A consent older than the one the contact has is ignored, so a late redelivery of an old
    /// opt-in never overrides a newer unsubscribe.
    public var consentAt: Timestamp?

    public init(
        email: EmailAddress, firstName: String? = nil, lastName: String? = nil, externalID: String? = nil,
        timezone: String? = nil, attributes: JSONObject? = nil, consent: ConsentStatus? = nil, consentSource: String? = nil,
        consentAt: Timestamp? = nil
    ) {
        self.consentAt = consentAt
        self.email = email
        self.firstName = firstName
        self.lastName = lastName
        self.externalID = externalID
        self.timezone = timezone
        self.attributes = attributes
        self.consent = consent
        self.consentSource = consentSource
    }
}

/// Marketing consent, from the checkout form's opt-in box, the API, an import or an unsubscribe.
public enum ConsentStatus: String, Sendable, CaseIterable {
    case unknown, granted, revoked
}

/// One page of a filter's members.
public struct DirectoryPage: Sendable, Equatable {
    public var emails: [EmailAddress]
    /// Give it back as `cursor` for the next page; `nil` on the last page.
    public var nextCursor: Int64?

    public init(emails: [EmailAddress], nextCursor: Int64?) {
        self.emails = emails
        self.nextCursor = nextCursor
    }
}

extension ContactDirectory {
    /// The filters of every smart list `filter` reaches through `list` references, for the
    /// compiler. Bounded, so a hostile web of lists cannot make a query load without end; a
    /// missing list is left out and the compiler names it.
    public func referencedListFilters(of filter: Filter, maximum: Int = 100) async throws -> [Int64: Filter] {
        var lists: [Int64: Filter] = [:]
        var pending = Array(filter.referencedLists)
        while let id = pending.popLast() {
            guard lists[id] == nil else { continue }
            guard lists.count < maximum else {
                throw FilterError(path: "", message: "references more than \(maximum) smart lists")
            }
            guard let document = try await smartListFilter(id: id) else { continue }
            let parsed = try FilterParser.parse(document)
            lists[id] = parsed
            pending.append(contentsOf: parsed.referencedLists)
        }
        return lists
    }
}

/// A stored smart list: a name and a filter, resolved whenever it is read.
public struct SmartList: Sendable, Equatable {
    public var id: Int64
    public var name: String
    /// The filter document as stored (validated when it was saved).
    public var filter: JSON
    public var createdAt: Timestamp
    public var updatedAt: Timestamp

    public init(id: Int64, name: String, filter: JSON, createdAt: Timestamp, updatedAt: Timestamp) {
        self.id = id
        self.name = name
        self.filter = filter
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }
}

/// Smart lists kept by a store.
public protocol SmartListRepository: Sendable {
    /// Every smart list, oldest first.
    func smartLists() async throws -> [SmartList]
    func smartList(id: Int64) async throws -> SmartList?
    /// Replaces a list's name and filter; false when there is no such list.
    func updateSmartList(id: Int64, name: String, filter: JSON, at time: Timestamp) async throws -> Bool
    /// Deletes a list; false when there is no such list.
    func deleteSmartList(id: Int64) async throws -> Bool
}
