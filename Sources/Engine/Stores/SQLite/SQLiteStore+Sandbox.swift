import GRDB

extension SQLiteStore {
    public func answer(_ question: SandboxQuestion, given state: SandboxState) async throws -> Bool {
        let statement = try await question.statement(given: state, .sqlite) { filter in
            try await compiled(filter, shape: .oneContact, at: state.now)
        }
        return try await rolledBack { db in
            try Self.apply(state, db)
            return try Row.fetchOne(db, sql: statement.sql, arguments: statement.arguments) != nil
        }
    }

    /// Writes the sandbox's state (rolled back by the caller): the contact's fields, its tag
    /// changes, and its activities under negative ids.
    private static func apply(_ state: SandboxState, _ db: Database) throws {
        let update = state.contact
        let contactID = try contactID(db, update.email, at: state.now)
        let attributes = try update.attributes.map { changes in
            let stored = try String.fetchOne(db, sql: "SELECT attributes FROM contacts WHERE id = ?", arguments: [contactID])
            return try DirectoryRules.merged(attributes: stored ?? "{}", with: changes)
        }
        try db.execute(
            sql: """
                UPDATE contacts SET first_name = COALESCE(?, first_name), last_name = COALESCE(?, last_name),
                    timezone = COALESCE(?, timezone), attributes = COALESCE(?, attributes),
                    consent_status = COALESCE(?, consent_status), consent_at = CASE WHEN ? IS NULL THEN consent_at ELSE ? END
                WHERE id = ?
                """,
            arguments: [
                update.firstName, update.lastName, update.timezone, attributes, update.consent?.rawValue,
                update.consent?.rawValue, state.now.microseconds, contactID,
            ])
        for change in state.tagChanges {
            if change.added {
                try db.execute(
                    sql: """
                        INSERT INTO contact_tags (contact_id, tag, tag_key, created_at) VALUES (?, ?, ?, ?)
                        ON CONFLICT (contact_id, tag_key) DO NOTHING
                        """,
                    arguments: [contactID, change.tag, FilterCompiler.foldASCII(change.tag), change.at.microseconds])
            } else {
                try db.execute(
                    sql: "DELETE FROM contact_tags WHERE contact_id = ? AND tag_key = ?",
                    arguments: [contactID, FilterCompiler.foldASCII(change.tag)])
            }
        }
        for (index, activity) in state.activities.enumerated() {
            try db.execute(
                sql: """
                    INSERT INTO crm_activities (id, type, contact_id, contact_email, occurred_at, received_at, source, metadata)
                    VALUES (?, ?, ?, ?, ?, ?, 'api', ?)
                    """,
                arguments: [
                    SandboxQuestion.activityID(index), activity.type, contactID, update.email.value,
                    activity.occurredAt.microseconds, activity.receivedAt.microseconds, activity.metadata,
                ])
        }
    }
}
