import GRDB

extension SQLiteStore {
    public func importContacts(_ rows: [ContactImportRow], source: String, at time: Timestamp) async throws
        -> ContactImportBatchOutcome
    {
        defer { workSignals[.activities].notify() }  // It may have written activities: wake the watcher.
        guard !rows.isEmpty else { return ContactImportBatchOutcome() }
        return try await write { db in
            // SQLite has one writer, so what is read here cannot change before the plan is applied.
            var existing: [String: ContactImportPlan.Stored] = [:]
            var holders: [String: String] = [:]
            for row in rows where existing[row.email.value] == nil {
                guard
                    let stored = try Row.fetchOne(
                        db.cachedStatement(
                            sql: "SELECT id, attributes, consent_status, external_id FROM contacts WHERE email = ?"),
                        arguments: [row.email.value])
                else { continue }
                let id: Int64 = stored["id"]
                let tagKeys = try String.fetchAll(
                    db.cachedStatement(sql: "SELECT tag_key FROM contact_tags WHERE contact_id = ?"), arguments: [id])
                existing[row.email.value] = ContactImportPlan.Stored(
                    id: id, attributes: stored["attributes"], consent: stored["consent_status"],
                    externalID: stored["external_id"], tagKeys: Set(tagKeys))
            }
            for case let externalID? in Set(rows.map(\.externalID)) {
                if let holder = try String.fetchOne(
                    db.cachedStatement(sql: "SELECT email FROM contacts WHERE external_id = ?"), arguments: [externalID])
                {
                    holders[externalID] = holder
                }
            }
            let plan = try ContactImportPlan(rows: rows, source: source, existing: existing, holders: holders)
            try Self.apply(plan, db, source: source, at: time)
            return plan.outcome
        }
    }

    private static func apply(_ plan: ContactImportPlan, _ db: Database, source: String, at time: Timestamp) throws {
        // The unique index on external_id is checked row by row: clear the ids the batch moves
        // before any contact takes one.
        for change in plan.changes where change.releasesExternalID {
            try db.cachedStatement(sql: "UPDATE contacts SET external_id = NULL WHERE id = ?").execute(arguments: [change.id])
        }
        var ids: [String: Int64] = [:]
        for change in plan.changes {
            let id = try change.id ?? contactID(db, change.email, at: time)
            ids[change.email.value] = id
            try db.cachedStatement(
                sql: """
                        UPDATE contacts SET
                            first_name = COALESCE(?, first_name), last_name = COALESCE(?, last_name),
                            external_id = COALESCE(?, external_id), timezone = COALESCE(?, timezone),
                            attributes = COALESCE(?, attributes),
                            consent_status = COALESCE(?, consent_status),
                            consent_at = CASE WHEN ? IS NULL THEN consent_at ELSE ? END,
                            consent_source = CASE WHEN ? IS NULL THEN consent_source ELSE ? END,
                            updated_at = ?
                        WHERE id = ?
                        """
            ).execute(
                arguments: [
                    change.firstName, change.lastName, change.externalID, change.timezone, change.attributes,
                    change.consent?.rawValue, change.consent?.rawValue, time.microseconds, change.consent?.rawValue, source,
                    time.microseconds, id,
                ])
            for tag in change.newTags {
                try db.cachedStatement(
                    sql: """
                        INSERT INTO contact_tags (contact_id, tag, tag_key, created_at) VALUES (?, ?, ?, ?)
                        ON CONFLICT (contact_id, tag_key) DO NOTHING
                        """
                ).execute(arguments: [id, tag, FilterCompiler.foldASCII(tag), time.microseconds])
            }
        }
        for activity in plan.activities {
            guard let id = ids[activity.email.value] else { continue }
            try insertDirectoryActivity(
                db, type: activity.type, contactID: id, email: activity.email, at: time, metadata: activity.metadata,
                source: source)
        }
    }
}
