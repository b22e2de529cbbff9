/// What one batch of import rows does to the directory, worked out in memory from what the
/// database holds for the batch's contacts.
///
/// Both stores apply the batch through this one plan, so they cannot disagree on the rules
/// (later row wins, merge order, which tag or consent change is real, which `external_id` is
/// taken), and PostgreSQL can write 500 rows in a handful of set-based statements instead of
/// several round trips per row. The store must read ``Stored`` and the `external_id` holders
/// inside the transaction that applies the plan, with the contacts locked where it can.
struct ContactImportPlan: Sendable {
    /// A contact as stored before the batch.
    struct Stored: Sendable {
        var id: Int64
        /// The attributes object as JSON text.
        var attributes: String
        var consent: String
        var externalID: String?
        /// The contact's tags, folded with `FilterCompiler.foldASCII`.
        var tagKeys: Set<String>

        init(id: Int64, attributes: String, consent: String, externalID: String?, tagKeys: Set<String>) {
            self.id = id
            self.attributes = attributes
            self.consent = consent
            self.externalID = externalID
            self.tagKeys = tagKeys
        }
    }

    /// The writes for one contact: `nil` fields are left as they are.
    struct Change: Sendable {
        var email: EmailAddress
        /// `nil` when the batch creates the contact.
        var id: Int64?
        var storedExternalID: String?
        var firstName: String?
        var lastName: String?
        var externalID: String?
        var timezone: String?
        /// The merged attributes object's text, when any row gave attributes.
        var attributes: String?
        /// The consent status to store, when a row changed it.
        var consent: ConsentStatus?
        /// Tags the contact did not have, as first written, in order.
        var newTags: [String] = []

        /// Whether the contact gives up the `external_id` it had, which must be cleared before any
        /// contact of the batch takes it (unique indexes are checked row by row).
        var releasesExternalID: Bool {
            guard let stored = storedExternalID, let externalID else { return false }
            return stored != externalID
        }
    }

    /// An activity to write, in row order.
    struct ActivityWrite: Sendable {
        var email: EmailAddress
        var type: String
        var metadata: String
    }

    /// One entry per contact, in the order contacts first appear in the batch.
    private(set) var changes: [Change] = []
    private(set) var activities: [ActivityWrite] = []
    private(set) var outcome = ContactImportBatchOutcome()

    /// - Parameters:
    ///   - existing: the stored contacts the rows name, by email (`EmailAddress.value`).
    ///   - holders: for each `external_id` the rows give, the email of the contact holding it.
    init(rows: [ContactImportRow], source: String, existing: [String: Stored], holders: [String: String]) throws {
        var index: [String: Int] = [:]
        var holders = holders
        var consents: [String: String] = [:]
        var tagKeys: [String: Set<String>] = [:]
        var attributes: [String: String] = [:]
        for (email, stored) in existing {
            if let held = stored.externalID { holders[held] = email }
        }
        for row in rows {
            let email = row.email.value
            let stored = existing[email]
            let position = index[email]
            var currentExternalID = stored?.externalID
            if let position, let moved = changes[position].externalID { currentExternalID = moved }
            let externalID = Self.given(row.externalID)
            if let externalID, let holder = holders[externalID], holder != email {
                outcome.failures.append(ContactImportFailure(
                    line: row.line,
                    reason: "\"external_id\" \"\(ContactImportColumn.shown(externalID))\" belongs to another contact; the row was not applied",
                    column: "external_id"))
                continue
            }
            if let externalID {
                if let current = currentExternalID, current != externalID { holders[current] = nil }
                holders[externalID] = email
            }
            var change: Change
            if let position {
                change = changes[position]
                outcome.updated += 1
            } else {
                change = Change(email: row.email, id: stored?.id, storedExternalID: stored?.externalID)
                if stored == nil { outcome.created += 1 } else { outcome.updated += 1 }
                consents[email] = stored?.consent ?? ConsentStatus.unknown.rawValue
                tagKeys[email] = stored?.tagKeys ?? []
                attributes[email] = stored?.attributes ?? "{}"
            }
            change.firstName = Self.given(row.firstName) ?? change.firstName
            change.lastName = Self.given(row.lastName) ?? change.lastName
            change.externalID = externalID ?? change.externalID
            change.timezone = Self.given(row.timezone) ?? change.timezone
            if !row.attributes.members.isEmpty {
                let merged = try DirectoryRules.merged(attributes: attributes[email] ?? "{}", with: row.attributes)
                attributes[email] = merged
                change.attributes = merged
            }
            for tag in DirectoryRules.distinctTags(row.tags) {
                guard tagKeys[email, default: []].insert(FilterCompiler.foldASCII(tag)).inserted else { continue }
                change.newTags.append(tag)
                activities.append(ActivityWrite(email: row.email, type: "tag.added", metadata: DirectoryRules.tagMetadata(tag)))
            }
            if let consent = row.consent, consent.rawValue != consents[email] {
                consents[email] = consent.rawValue
                change.consent = consent
                if let type = DirectoryRules.consentActivityType(consent) {
                    activities.append(ActivityWrite(
                        email: row.email, type: type, metadata: DirectoryRules.consentMetadata(source: source)))
                }
            }
            if let position { changes[position] = change } else {
                index[email] = changes.count
                changes.append(change)
            }
        }
    }

    /// An empty text is "not given", as the reader already treats an empty cell, so a row made
    /// in code means the same on both stores.
    private static func given(_ text: String?) -> String? {
        guard let text, !text.isEmpty else { return nil }
        return text
    }
}
