/// Applies the rows of a contact import (ENGINE.md §1, `POST /v1/contacts/import`,
/// `cortex contacts import`) a batch at a time. One implementation per database; both pass
/// `ContactImportConformanceTests`.
public protocol ContactImporter: Sendable {
    /// Upserts each row's contact by email, in row order, in ONE transaction: names,
    /// `external_id` and `timezone` are set when the row gives them; attributes merge key by key
    /// (a JSON `null` removes a key), as ``ContactDirectory/saveContact(_:at:)`` merges them;
    /// each tag the contact did not have is added with a `tag.added` activity; a consent change
    /// sets `consent.source` to `source` and writes its `consent.granted` / `consent.revoked`
    /// activity. The same email twice in a batch is applied twice, so the later row wins.
    ///
    /// A row whose `external_id` another contact holds (at that point of the batch) is not
    /// applied at all and comes back as a failure at its line; the rest of the batch is.
    /// Throws only when the database does, and then nothing of the batch is kept.
    func importContacts(_ rows: [ContactImportRow], source: String, at time: Timestamp) async throws
        -> ContactImportBatchOutcome
}

/// What one batch of an import did: each row is counted once, as created (its contact did not
/// exist before the row), updated, or failed.
public struct ContactImportBatchOutcome: Sendable, Equatable {
    public var created: Int
    public var updated: Int
    /// Rows the store refused, in line order (an `external_id` another contact holds).
    public var failures: [ContactImportFailure]

    public init(created: Int = 0, updated: Int = 0, failures: [ContactImportFailure] = []) {
        self.created = created
        self.updated = updated
        self.failures = failures
    }
}
