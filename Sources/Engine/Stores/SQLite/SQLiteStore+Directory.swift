import Foundation
import GRDB

extension SQLiteStore {
    public func saveContact(_ update: ContactUpdate, at time: Timestamp) async throws {
        defer { workSignals[.activities].notify() }  // It may have written activities: wake the watcher.
        try await write { db in
            let contactID = try Self.contactID(db, update.email, at: time)
            let current = try Row.fetchOne(
                db, sql: "SELECT attributes, consent_status, consent_at FROM contacts WHERE id = ?", arguments: [contactID])
            let attributes = try update.attributes.map { changes in
                try DirectoryRules.merged(attributes: current?["attributes"] ?? "{}", with: changes)
            }
            try db.execute(
                sql: """
                    UPDATE contacts SET
                        first_name = COALESCE(?, first_name), last_name = COALESCE(?, last_name),
                        external_id = COALESCE(?, external_id), timezone = COALESCE(?, timezone),
                        attributes = COALESCE(?, attributes), updated_at = ?
                    WHERE id = ?
                    """,
                arguments: [
                    update.firstName, update.lastName, update.externalID, update.timezone, attributes,
                    time.microseconds, contactID,
                ])
            let consentAt = update.consentAt ?? time
            if let consent = update.consent,
                DirectoryRules.consentChanges(
                    from: current?["consent_status"], since: (current?["consent_at"] as Int64?).map(Timestamp.init(microseconds:)),
                    to: consent, at: consentAt)
            {
                try db.execute(
                    sql: "UPDATE contacts SET consent_status = ?, consent_at = ?, consent_source = ? WHERE id = ?",
                    arguments: [consent.rawValue, consentAt.microseconds, update.consentSource, contactID])
                if let type = DirectoryRules.consentActivityType(consent) {
                    try Self.insertDirectoryActivity(
                        db, type: type, contactID: contactID, email: update.email, at: consentAt,
                        metadata: DirectoryRules.consentMetadata(source: update.consentSource))
                }
            }
        }
    }

    public func addTags(_ tags: [String], to email: EmailAddress, at time: Timestamp) async throws -> [String] {
        defer { workSignals[.activities].notify() }  // It may have written activities: wake the watcher.
        return try await write { db in try Self.addTags(db, tags, to: email, at: time) }
    }

    /// Adds the tags the contact lacks, each with its `tag.added` activity; answers those added.
    static func addTags(_ db: Database, _ tags: [String], to email: EmailAddress, at time: Timestamp) throws -> [String] {
        let contactID = try contactID(db, email, at: time)
        var added: [String] = []
        for tag in DirectoryRules.distinctTags(tags) {
            try db.execute(
                sql: """
                    INSERT INTO contact_tags (contact_id, tag, tag_key, created_at) VALUES (?, ?, ?, ?)
                    ON CONFLICT (contact_id, tag_key) DO NOTHING
                    """,
                arguments: [contactID, tag, FilterCompiler.foldASCII(tag), time.microseconds])
            guard db.changesCount > 0 else { continue }
            added.append(tag)
            try insertDirectoryActivity(
                db, type: "tag.added", contactID: contactID, email: email, at: time, metadata: DirectoryRules.tagMetadata(tag))
        }
        return added
    }

    public func eraseContact(_ email: EmailAddress) async throws -> Bool {
        try await write { db in
            guard let contactID = try Int64.fetchOne(db, sql: "SELECT id FROM contacts WHERE email = ?", arguments: [email.value])
            else { return false }
            try db.execute(sql: "DELETE FROM crm_activities WHERE contact_id = ?", arguments: [contactID])
            try db.execute(sql: "DELETE FROM contacts WHERE id = ?", arguments: [contactID])
            try db.execute(
                sql: """
                    UPDATE email_jobs SET subject = '', html_body = NULL, text_body = NULL, metadata = '{}', options = '{}',
                        status = CASE WHEN status = 'queued' THEN 'cancelled' ELSE status END
                    WHERE recipient = ?
                    """,
                arguments: [email.value])
            return true
        }
    }

    public func removeTag(_ tag: String, from email: EmailAddress, at time: Timestamp) async throws -> Bool {
        defer { workSignals[.activities].notify() }  // It may have written activities: wake the watcher.
        return try await write { db in try Self.removeTag(db, tag, from: email, at: time) }
    }

    /// Removes a tag the contact has, with its `tag.removed` activity; answers whether it had it.
    static func removeTag(_ db: Database, _ tag: String, from email: EmailAddress, at time: Timestamp) throws -> Bool {
        guard
            let row = try Row.fetchOne(
                db,
                sql: """
                    SELECT t.contact_id, t.tag FROM contact_tags t JOIN contacts c ON c.id = t.contact_id
                    WHERE c.email = ? AND t.tag_key = ?
                    """,
                arguments: [email.value, FilterCompiler.foldASCII(tag)])
        else { return false }
        let contactID: Int64 = row["contact_id"]
        let written: String = row["tag"]
        try db.execute(
            sql: "DELETE FROM contact_tags WHERE contact_id = ? AND tag_key = ?",
            arguments: [contactID, FilterCompiler.foldASCII(tag)])
        try insertDirectoryActivity(
            db, type: "tag.removed", contactID: contactID, email: email, at: time,
            metadata: DirectoryRules.tagMetadata(written))
        return true
    }

    public func smartLists() async throws -> [SmartList] {
        let rows = try await read { db in
            try Row.fetchAll(db, sql: "SELECT id, name, filter, created_at, updated_at FROM crm_smart_lists ORDER BY id")
                .map { (row: Row) -> (Int64, String, String, Int64, Int64) in
                    (row["id"], row["name"], row["filter"], row["created_at"], row["updated_at"])
                }
        }
        return try rows.map(DirectoryRules.smartList)
    }

    public func smartList(id: Int64) async throws -> SmartList? {
        let row = try await read { db in
            try Row.fetchOne(
                db, sql: "SELECT id, name, filter, created_at, updated_at FROM crm_smart_lists WHERE id = ?", arguments: [id]
            ).map { (row: Row) -> (Int64, String, String, Int64, Int64) in
                (row["id"], row["name"], row["filter"], row["created_at"], row["updated_at"])
            }
        }
        return try row.map(DirectoryRules.smartList)
    }

    public func updateSmartList(id: Int64, name: String, filter: JSON, at time: Timestamp) async throws -> Bool {
        try await write { db in
            try db.execute(
                sql: "UPDATE crm_smart_lists SET name = ?, filter = ?, updated_at = ? WHERE id = ?",
                arguments: [name, filter.serialized(), time.microseconds, id])
            return db.changesCount > 0
        }
    }

    public func deleteSmartList(id: Int64) async throws -> Bool {
        try await write { db in
            try db.execute(sql: "DELETE FROM crm_smart_lists WHERE id = ?", arguments: [id])
            return db.changesCount > 0
        }
    }

    public func createSmartList(name: String, filter: JSON, at time: Timestamp) async throws -> Int64 {
        try await write { db in
            try db.execute(
                sql: "INSERT INTO crm_smart_lists (name, filter, created_at, updated_at) VALUES (?, ?, ?, ?)",
                arguments: [name, filter.serialized(), time.microseconds, time.microseconds])
            return db.lastInsertedRowID
        }
    }

    public func smartListFilter(id: Int64) async throws -> JSON? {
        let text = try await read { db in
            try String.fetchOne(db, sql: "SELECT filter FROM crm_smart_lists WHERE id = ?", arguments: [id])
        }
        return try text.map { try JSONParser.parse(Array($0.utf8)) }
    }

    public func countContacts(matching filter: Filter, at now: Timestamp) async throws -> Int {
        let statement = DirectoryStatement.count(try await compiled(filter, shape: .set, at: now))
        return try await read { db in
            try Int.fetchOne(db, sql: statement.sql, arguments: statement.arguments) ?? 0
        }
    }

    public func contactEmails(matching filter: Filter, after cursor: Int64?, limit: Int, at now: Timestamp) async throws
        -> DirectoryPage
    {
        try await MemberPageWalk.page(
            after: cursor, limit: limit, dialect: .sqlite,
            compile: { shape in try await compiled(filter, shape: shape, at: now) },
            fetch: { statement in try await members(statement) })
    }

    public func contact(_ email: EmailAddress, matches filter: Filter, at now: Timestamp) async throws -> Bool {
        let compiled = try await compiled(filter, shape: .oneContact, at: now)
        return try await !members(.oneContact(compiled, email: email.value, .sqlite)).isEmpty
    }

    /// Rows `(id, email)` of a directory statement.
    private func members(_ statement: DirectoryStatement) async throws -> [(Int64, String)] {
        try await read { db in
            try Row.fetchAll(db, sql: statement.sql, arguments: statement.arguments)
                .map { (row: Row) -> (Int64, String) in (row["id"], row["email"]) }
        }
    }

    func compiled(_ filter: Filter, shape: FilterCompiler.Shape, at now: Timestamp) async throws -> CompiledFilter {
        let lists = try await referencedListFilters(of: filter)
        return try FilterCompiler.compile(filter, dialect: .sqlite, shape: shape, now: now, lists: lists)
    }

    /// The contact's id, creating the contact when the address is new.
    static func contactID(_ db: Database, _ email: EmailAddress, at time: Timestamp) throws -> Int64 {
        try upsertContact(db, NewActivity(type: "", contactEmail: email, occurredAt: time, metadata: "{}"), at: time)
    }

    /// An activity the directory writes itself (not from an inbound delivery); `source` is
    /// `api`, or `import` for a contact import.
    static func insertDirectoryActivity(
        _ db: Database, type: String, contactID: Int64, email: EmailAddress, at time: Timestamp, metadata: String,
        source: String = "api"
    ) throws {
        try db.cachedStatement(
            sql: """
                INSERT INTO crm_activities (type, contact_id, contact_email, occurred_at, received_at, source, metadata)
                VALUES (?, ?, ?, ?, ?, ?, ?)
                """
        ).execute(arguments: [type, contactID, email.value, time.microseconds, time.microseconds, source, metadata])
    }
}

extension DirectoryStatement {
    var arguments: StatementArguments { StatementArguments(bindings.map(\.sqliteValue)) }
}

extension SQLBinding {
    var sqliteValue: (any DatabaseValueConvertible)? {
        switch self {
        case .text(let text): text
        case .integer(let value): value
        case .real(let value): value
        }
    }
}
