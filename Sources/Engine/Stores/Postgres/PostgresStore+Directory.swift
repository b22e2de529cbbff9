import Logging
import PostgresNIO

extension PostgresStore {
    public func saveContact(_ update: ContactUpdate, at time: Timestamp) async throws {
        defer { workSignals[.activities].notify() }  // It may have written activities: wake the watcher.
        try await mapped { [self] in
            try await client.withTransaction(logger: logger) { connection in
                let contactID = try await Self.contactID(connection, update.email, at: time, logger: logger)
                // The row is locked, so a concurrent merge of attributes cannot lose a key.
                let current = try await connection.query(
                    "SELECT attributes::text, consent_status, cortex_us(consent_at) FROM contacts WHERE id = \(contactID) FOR UPDATE",
                    logger: logger
                ).decode((String, String, Int64?).self).first { _ in true }
                let attributes = try update.attributes.map { changes in
                    try DirectoryRules.merged(attributes: current?.0 ?? "{}", with: changes)
                }
                try await connection.query(
                    """
                    UPDATE contacts SET
                        first_name = COALESCE(\(update.firstName), first_name),
                        last_name = COALESCE(\(update.lastName), last_name),
                        external_id = COALESCE(\(update.externalID), external_id),
                        timezone = COALESCE(\(update.timezone), timezone),
                        attributes = COALESCE(\(attributes)::jsonb, attributes),
                        updated_at = cortex_ts(\(time.microseconds))
                    WHERE id = \(contactID)
                    """, logger: logger)
                let consentAt = update.consentAt ?? time
                if let consent = update.consent,
                    DirectoryRules.consentChanges(
                        from: current?.1, since: current?.2.map(Timestamp.init(microseconds:)), to: consent, at: consentAt)
                {
                    try await connection.query(
                        """
                        UPDATE contacts SET consent_status = \(consent.rawValue), consent_at = cortex_ts(\(consentAt.microseconds)),
                            consent_source = \(update.consentSource)
                        WHERE id = \(contactID)
                        """, logger: logger)
                    if let type = DirectoryRules.consentActivityType(consent) {
                        try await Self.insertDirectoryActivity(
                            connection, type: type, contactID: contactID, email: update.email, at: consentAt,
                            metadata: DirectoryRules.consentMetadata(source: update.consentSource), logger: logger)
                    }
                }
            }
        }
    }

    public func addTags(_ tags: [String], to email: EmailAddress, at time: Timestamp) async throws -> [String] {
        defer { workSignals[.activities].notify() }  // It may have written activities: wake the watcher.
        return try await mapped { [self] in
            try await client.withTransaction(logger: logger) { connection in
                try await Self.addTags(connection, tags, to: email, at: time, logger: logger)
            }
        }
    }

    /// Adds the tags the contact lacks, each with its `tag.added` activity; answers those added.
    static func addTags(_ connection: PostgresConnection, _ tags: [String], to email: EmailAddress, at time: Timestamp, logger: Logger)
        async throws -> [String]
    {
        let contactID = try await contactID(connection, email, at: time, logger: logger)
        var added: [String] = []
        for tag in DirectoryRules.distinctTags(tags) {
            let inserted = try await connection.query(
                """
                INSERT INTO contact_tags (contact_id, tag, tag_key, created_at)
                VALUES (\(contactID), \(tag), \(FilterCompiler.foldASCII(tag)), cortex_ts(\(time.microseconds)))
                ON CONFLICT (contact_id, tag_key) DO NOTHING
                RETURNING 1
                """, logger: logger
            ).decode(Int.self).first { _ in true }
            guard inserted != nil else { continue }
            added.append(tag)
            try await insertDirectoryActivity(
                connection, type: "tag.added", contactID: contactID, email: email, at: time,
                metadata: DirectoryRules.tagMetadata(tag), logger: logger)
        }
        return added
    }

    public func eraseContact(_ email: EmailAddress) async throws -> Bool {
        try await mapped { [self] in
            try await client.withTransaction(logger: logger) { connection in
                guard
                    let contactID = try await connection.query(
                        "SELECT id FROM contacts WHERE email = \(email.value) FOR UPDATE", logger: logger
                    ).decode(Int64.self).first(where: { _ in true })
                else { return false }
                try await connection.query("DELETE FROM crm_activities WHERE contact_id = \(contactID)", logger: logger)
                try await connection.query("DELETE FROM contacts WHERE id = \(contactID)", logger: logger)
                try await connection.query(
                    """
                    UPDATE email_jobs SET subject = '', html_body = NULL, text_body = NULL, metadata = '{}', options = '{}',
                        status = CASE WHEN status = 'queued' THEN 'cancelled' ELSE status END
                    WHERE recipient = \(email.value)
                    """, logger: logger)
                return true
            }
        }
    }

    public func removeTag(_ tag: String, from email: EmailAddress, at time: Timestamp) async throws -> Bool {
        defer { workSignals[.activities].notify() }  // It may have written activities: wake the watcher.
        return try await mapped { [self] in
            try await client.withTransaction(logger: logger) { connection in
                try await Self.removeTag(connection, tag, from: email, at: time, logger: logger)
            }
        }
    }

    /// Removes a tag the contact has, with its `tag.removed` activity; answers whether it had it.
    static func removeTag(_ connection: PostgresConnection, _ tag: String, from email: EmailAddress, at time: Timestamp, logger: Logger)
        async throws -> Bool
    {
        guard
            let row = try await connection.query(
                """
                DELETE FROM contact_tags t USING contacts c
                WHERE c.id = t.contact_id AND c.email = \(email.value) AND t.tag_key = \(FilterCompiler.foldASCII(tag))
                RETURNING t.contact_id, t.tag
                """, logger: logger
            ).decode((Int64, String).self).first(where: { _ in true })
        else { return false }
        try await insertDirectoryActivity(
            connection, type: "tag.removed", contactID: row.0, email: email, at: time,
            metadata: DirectoryRules.tagMetadata(row.1), logger: logger)
        return true
    }

    private static let smartListColumns = "id, name, filter::text, cortex_us(created_at), cortex_us(updated_at)"

    public func smartLists() async throws -> [SmartList] {
        let rows = try await mapped { [self] in
            try await client.query(
                "SELECT \(unescaped: Self.smartListColumns) FROM crm_smart_lists ORDER BY id", logger: logger
            ).decode((Int64, String, String, Int64, Int64).self).collectAll()
        }
        return try rows.map(DirectoryRules.smartList)
    }

    public func smartList(id: Int64) async throws -> SmartList? {
        let row = try await mapped { [self] in
            try await client.query(
                "SELECT \(unescaped: Self.smartListColumns) FROM crm_smart_lists WHERE id = \(id)", logger: logger
            ).decode((Int64, String, String, Int64, Int64).self).first { _ in true }
        }
        return try row.map(DirectoryRules.smartList)
    }

    public func updateSmartList(id: Int64, name: String, filter: JSON, at time: Timestamp) async throws -> Bool {
        try await mapped { [self] in
            try await client.query(
                """
                UPDATE crm_smart_lists SET name = \(name), filter = \(filter.serialized())::jsonb,
                    updated_at = cortex_ts(\(time.microseconds))
                WHERE id = \(id) RETURNING 1
                """, logger: logger
            ).decode(Int.self).first { _ in true } != nil
        }
    }

    public func deleteSmartList(id: Int64) async throws -> Bool {
        try await mapped { [self] in
            try await client.query("DELETE FROM crm_smart_lists WHERE id = \(id) RETURNING 1", logger: logger)
                .decode(Int.self).first { _ in true } != nil
        }
    }

    public func createSmartList(name: String, filter: JSON, at time: Timestamp) async throws -> Int64 {
        try await mapped { [self] in
            let id = try await client.query(
                """
                INSERT INTO crm_smart_lists (name, filter, created_at, updated_at)
                VALUES (\(name), \(filter.serialized())::jsonb, cortex_ts(\(time.microseconds)), cortex_ts(\(time.microseconds)))
                RETURNING id
                """, logger: logger
            ).decode(Int64.self).first { _ in true }
            guard let id else { throw StoreError.unavailable("smart list insert returned no id") }
            return id
        }
    }

    public func smartListFilter(id: Int64) async throws -> JSON? {
        let text = try await mapped { [self] in
            try await client.query("SELECT filter::text FROM crm_smart_lists WHERE id = \(id)", logger: logger)
                .decode(String.self).first { _ in true }
        }
        return try text.map { try JSONParser.parse(Array($0.utf8)) }
    }

    public func countContacts(matching filter: Filter, at now: Timestamp) async throws -> Int {
        let query = DirectoryStatement.count(try await compiled(filter, shape: .set, at: now)).query
        return try await mapped { [self] in
            try await client.query(query, logger: logger).decode(Int.self).first { _ in true } ?? 0
        }
    }

    public func contactEmails(matching filter: Filter, after cursor: Int64?, limit: Int, at now: Timestamp) async throws
        -> DirectoryPage
    {
        try await MemberPageWalk.page(
            after: cursor, limit: limit, dialect: .postgres,
            compile: { shape in try await compiled(filter, shape: shape, at: now) },
            fetch: { statement in try await members(statement) })
    }

    public func contact(_ email: EmailAddress, matches filter: Filter, at now: Timestamp) async throws -> Bool {
        let compiled = try await compiled(filter, shape: .oneContact, at: now)
        return try await !members(.oneContact(compiled, email: email.value, .postgres)).isEmpty
    }

    /// Rows `(id, email)` of a directory statement.
    private func members(_ statement: DirectoryStatement) async throws -> [(Int64, String)] {
        let query = statement.query
        return try await mapped { [self] in
            try await client.query(query, logger: logger).decode((Int64, String).self).collectAll()
        }
    }

    func compiled(_ filter: Filter, shape: FilterCompiler.Shape, at now: Timestamp) async throws -> CompiledFilter {
        let lists = try await referencedListFilters(of: filter)
        return try FilterCompiler.compile(filter, dialect: .postgres, shape: shape, now: now, lists: lists)
    }

    static func contactID(_ connection: PostgresConnection, _ email: EmailAddress, at time: Timestamp, logger: Logger)
        async throws -> Int64
    {
        try await upsertContact(
            connection, NewActivity(type: "", contactEmail: email, occurredAt: time, metadata: "{}"), at: time, logger: logger)
    }

    static func insertDirectoryActivity(
        _ connection: PostgresConnection, type: String, contactID: Int64, email: EmailAddress, at time: Timestamp,
        metadata: String, logger: Logger
    ) async throws {
        try await connection.query(
            """
            INSERT INTO crm_activities (type, contact_id, contact_email, occurred_at, received_at, source, metadata)
            VALUES (\(type), \(contactID), \(email.value), cortex_ts(\(time.microseconds)), cortex_ts(\(time.microseconds)),
                    'api', \(metadata)::jsonb)
            """, logger: logger)
    }
}

extension DirectoryStatement {
    /// The statement with its values bound as `$1`...
    var query: PostgresQuery {
        var binds = PostgresBindings()
        for binding in bindings {
            switch binding {
            case .text(let text): binds.append(text)
            case .integer(let value): binds.append(value)
            case .real(let value): binds.append(value)
            }
        }
        return PostgresQuery(unsafeSQL: sql, binds: binds)
    }
}
