import Logging
import PostgresNIO

extension PostgresStore {
    public func answer(_ question: SandboxQuestion, given state: SandboxState) async throws -> Bool {
        let query = try await question.statement(given: state, .postgres) { filter in
            try await compiled(filter, shape: .oneContact, at: state.now)
        }.query
        return try await mapped { [self] in
            try await client.withConnection { connection in
                try await connection.query("BEGIN", logger: logger)
                do {
                    try await Self.apply(state, connection, logger: logger)
                    let found = try await connection.query(query, logger: logger).collectAll().isEmpty == false
                    try await connection.query("ROLLBACK", logger: logger)
                    return found
                } catch {
                    _ = try? await connection.query("ROLLBACK", logger: logger)
                    throw error
                }
            }
        }
    }

    /// Writes the sandbox's state (rolled back by the caller): the contact's fields, its tag
    /// changes, and its activities under negative ids, so no sequence value is used up.
    private static func apply(_ state: SandboxState, _ connection: PostgresConnection, logger: Logger) async throws {
        let update = state.contact
        let contactID = try await contactID(connection, update.email, at: state.now, logger: logger)
        var attributes: String?
        if let changes = update.attributes {
            let stored = try await connection.query("SELECT attributes::text FROM contacts WHERE id = \(contactID)", logger: logger)
                .decode(String.self).first { _ in true }
            attributes = try DirectoryRules.merged(attributes: stored ?? "{}", with: changes)
        }
        let consentAt: Int64? = update.consent == nil ? nil : state.now.microseconds
        try await connection.query(
            """
            UPDATE contacts SET first_name = COALESCE(\(update.firstName), first_name),
                last_name = COALESCE(\(update.lastName), last_name), timezone = COALESCE(\(update.timezone), timezone),
                attributes = COALESCE(\(attributes)::jsonb, attributes),
                consent_status = COALESCE(\(update.consent?.rawValue), consent_status),
                consent_at = COALESCE(cortex_ts(\(consentAt)::bigint), consent_at)
            WHERE id = \(contactID)
            """, logger: logger)
        for change in state.tagChanges {
            let key = FilterCompiler.foldASCII(change.tag)
            if change.added {
                try await connection.query(
                    """
                    INSERT INTO contact_tags (contact_id, tag, tag_key, created_at)
                    VALUES (\(contactID), \(change.tag), \(key), cortex_ts(\(change.at.microseconds)))
                    ON CONFLICT (contact_id, tag_key) DO NOTHING
                    """, logger: logger)
            } else {
                try await connection.query("DELETE FROM contact_tags WHERE contact_id = \(contactID) AND tag_key = \(key)", logger: logger)
            }
        }
        for (index, activity) in state.activities.enumerated() {
            try await connection.query(
                """
                INSERT INTO crm_activities (id, type, contact_id, contact_email, occurred_at, received_at, source, metadata)
                VALUES (\(SandboxQuestion.activityID(index)), \(activity.type), \(contactID), \(update.email.value),
                        cortex_ts(\(activity.occurredAt.microseconds)), cortex_ts(\(activity.receivedAt.microseconds)), 'api',
                        \(activity.metadata)::jsonb)
                """, logger: logger)
        }
    }
}
