import Logging
import PostgresNIO

extension PostgresStore {
    /// Reads the batch's contacts (locked), their tags and the `external_id` holders in three
    /// statements, works the batch out with ``ContactImportPlan``, and writes it in at most five
    /// set-based statements: a round trip per row would cost 100,000 round trips per file.
    public func importContacts(_ rows: [ContactImportRow], source: String, at time: Timestamp) async throws
        -> ContactImportBatchOutcome
    {
        defer { workSignals[.activities].notify() }  // It may have written activities: wake the watcher.
        guard !rows.isEmpty else { return ContactImportBatchOutcome() }
        return try await mapped { [self] in
            try await client.withTransaction(logger: logger) { connection in
                let plan = try await Self.plan(rows, source: source, connection, logger: logger)
                try await Self.apply(plan, source: source, at: time, connection, logger: logger)
                return plan.outcome
            }
        }
    }

    private static func plan(_ rows: [ContactImportRow], source: String, _ connection: PostgresConnection, logger: Logger)
        async throws -> ContactImportPlan
    {
        // Sorted, so two imports touching the same contacts lock them in one order and cannot deadlock.
        let emails = Set(rows.map(\.email.value)).sorted()
        let stored = try await connection.query(
            """
            SELECT id, email, attributes::text, consent_status, external_id FROM contacts
            WHERE email = ANY(\(emails)) ORDER BY email FOR UPDATE
            """, logger: logger
        ).decode((Int64, String, String, String, String?).self).collectAll()
        var tagKeys: [Int64: Set<String>] = [:]
        if !stored.isEmpty {
            let tags = try await connection.query(
                "SELECT contact_id, tag_key FROM contact_tags WHERE contact_id = ANY(\(stored.map { $0.0 }))", logger: logger
            ).decode((Int64, String).self).collectAll()
            for (id, key) in tags { tagKeys[id, default: []].insert(key) }
        }
        var existing: [String: ContactImportPlan.Stored] = [:]
        for (id, email, attributes, consent, externalID) in stored {
            existing[email] = ContactImportPlan.Stored(
                id: id, attributes: attributes, consent: consent, externalID: externalID, tagKeys: tagKeys[id] ?? [])
        }
        var holders: [String: String] = [:]
        let externalIDs = Array(Set(rows.compactMap(\.externalID)))
        if !externalIDs.isEmpty {
            for (externalID, email) in try await connection.query(
                "SELECT external_id, email FROM contacts WHERE external_id = ANY(\(externalIDs))", logger: logger
            ).decode((String, String).self).collectAll() {
                holders[externalID] = email
            }
        }
        return try ContactImportPlan(rows: rows, source: source, existing: existing, holders: holders)
    }

    private static func apply(
        _ plan: ContactImportPlan, source: String, at time: Timestamp, _ connection: PostgresConnection, logger: Logger
    ) async throws {
        let now = time.microseconds
        // The unique index on external_id is checked row by row: clear the ids the batch moves
        // before any contact takes one.
        let releasing = plan.changes.filter(\.releasesExternalID).compactMap(\.id)
        if !releasing.isEmpty {
            try await connection.query(
                "UPDATE contacts SET external_id = NULL WHERE id = ANY(\(releasing))", logger: logger)
        }
        var ids: [String: Int64] = [:]
        for change in plan.changes { if let id = change.id { ids[change.email.value] = id } }
        // New contacts are inserted whole, and only stored ones updated: an insert followed by
        // an update would write every new row twice.
        let created = Columns(plan.changes.filter { $0.id == nil })
        if !created.emails.isEmpty {
            // A contact created by another transaction since the read above makes this fail, and
            // the batch with it; the caller may import the file again, as every row is an upsert.
            let inserted = try await connection.query(
                """
                INSERT INTO contacts (email, first_name, last_name, external_id, timezone, attributes,
                    consent_status, consent_at, consent_source, created_at, updated_at)
                SELECT u.email, NULLIF(u.first_name, ''), NULLIF(u.last_name, ''), NULLIF(u.external_id, ''),
                    NULLIF(u.timezone, ''), COALESCE(NULLIF(u.attributes, '')::jsonb, '{}'::jsonb),
                    COALESCE(NULLIF(u.consent, ''), 'unknown'),
                    CASE WHEN u.consent = '' THEN NULL ELSE cortex_ts(\(now)) END,
                    CASE WHEN u.consent = '' THEN NULL ELSE \(source) END,
                    cortex_ts(\(now)), cortex_ts(\(now))
                FROM unnest(
                    \(created.emails)::text[], \(created.firstNames)::text[], \(created.lastNames)::text[],
                    \(created.externalIDs)::text[], \(created.timezones)::text[], \(created.attributes)::text[],
                    \(created.consents)::text[]
                ) WITH ORDINALITY AS u(email, first_name, last_name, external_id, timezone, attributes, consent, n)
                ORDER BY u.n
                RETURNING id, email
                """, logger: logger
            ).decode((Int64, String).self).collectAll()
            for (id, email) in inserted { ids[email] = id }
        }
        let stored = Columns(plan.changes.filter { $0.id != nil })
        if !stored.emails.isEmpty {
            let storedIDs: [Int64] = stored.emails.map { ids[$0] ?? 0 }
            try await connection.query(
                """
                UPDATE contacts c SET
                    first_name = COALESCE(NULLIF(u.first_name, ''), c.first_name),
                    last_name = COALESCE(NULLIF(u.last_name, ''), c.last_name),
                    external_id = COALESCE(NULLIF(u.external_id, ''), c.external_id),
                    timezone = COALESCE(NULLIF(u.timezone, ''), c.timezone),
                    attributes = COALESCE(NULLIF(u.attributes, '')::jsonb, c.attributes),
                    consent_status = COALESCE(NULLIF(u.consent, ''), c.consent_status),
                    consent_at = CASE WHEN u.consent = '' THEN c.consent_at ELSE cortex_ts(\(now)) END,
                    consent_source = CASE WHEN u.consent = '' THEN c.consent_source ELSE \(source) END,
                    updated_at = cortex_ts(\(now))
                FROM unnest(
                    \(storedIDs)::bigint[], \(stored.firstNames)::text[], \(stored.lastNames)::text[],
                    \(stored.externalIDs)::text[], \(stored.timezones)::text[], \(stored.attributes)::text[],
                    \(stored.consents)::text[]
                ) AS u(id, first_name, last_name, external_id, timezone, attributes, consent)
                WHERE c.id = u.id
                """, logger: logger)
        }
        let changes = plan.changes
        var tagIDs: [Int64] = []
        var tags: [String] = []
        for change in changes {
            for tag in change.newTags {
                tagIDs.append(ids[change.email.value] ?? 0)
                tags.append(tag)
            }
        }
        if !tags.isEmpty {
            let tagKeys: [String] = tags.map(FilterCompiler.foldASCII)
            try await connection.query(
                """
                INSERT INTO contact_tags (contact_id, tag, tag_key, created_at)
                SELECT t.id, t.tag, t.tag_key, cortex_ts(\(now))
                FROM unnest(\(tagIDs)::bigint[], \(tags)::text[], \(tagKeys)::text[]) AS t(id, tag, tag_key)
                ON CONFLICT (contact_id, tag_key) DO NOTHING
                """, logger: logger)
        }
        let activities = plan.activities
        if !activities.isEmpty {
            let types: [String] = activities.map(\.type)
            let contactIDs: [Int64] = activities.map { ids[$0.email.value] ?? 0 }
            let emails: [String] = activities.map(\.email.value)
            let metadata: [String] = activities.map(\.metadata)
            // In row order, so activity ids follow the file as they would row by row.
            try await connection.query(
                """
                INSERT INTO crm_activities (type, contact_id, contact_email, occurred_at, received_at, source, metadata)
                SELECT a.type, a.id, a.email, cortex_ts(\(now)), cortex_ts(\(now)), \(source), a.metadata::jsonb
                FROM unnest(
                    \(types)::text[], \(contactIDs)::bigint[], \(emails)::text[], \(metadata)::text[]
                ) WITH ORDINALITY AS a(type, id, email, metadata, n)
                ORDER BY a.n
                """, logger: logger)
        }
    }
}

/// The plan's changes as one array per column, for `unnest`. Arrays of optionals cannot be
/// bound; every text the plan sets is non-empty, so `''` stands for "not given".
private struct Columns {
    let emails: [String]
    let firstNames: [String]
    let lastNames: [String]
    let externalIDs: [String]
    let timezones: [String]
    let attributes: [String]
    let consents: [String]

    init(_ changes: [ContactImportPlan.Change]) {
        emails = changes.map(\.email.value)
        firstNames = changes.map { $0.firstName ?? "" }
        lastNames = changes.map { $0.lastName ?? "" }
        externalIDs = changes.map { $0.externalID ?? "" }
        timezones = changes.map { $0.timezone ?? "" }
        attributes = changes.map { $0.attributes ?? "" }
        consents = changes.map { $0.consent?.rawValue ?? "" }
    }
}
