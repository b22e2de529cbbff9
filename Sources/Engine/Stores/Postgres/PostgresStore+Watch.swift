import Logging
import PostgresNIO

extension PostgresStore {
    private typealias ActivityRow = (Int64, String, String, Int64, Int64, String, String?, String)
    private static let activityColumns = """
        a.id, a.type, a.contact_email, cortex_us(a.occurred_at), cortex_us(a.received_at), a.source, a.source_event_id,
        a.metadata::text
        """

    public func activities(after cursor: Int64, limit: Int) async throws -> [Activity] {
        let rows = try await mapped { [self] in
            try await client.query(
                "SELECT \(unescaped: Self.activityColumns) FROM crm_activities a WHERE a.id > \(cursor) ORDER BY a.id LIMIT \(limit)",
                logger: logger
            ).decode(ActivityRow.self).collectAll()
        }
        return rows.compactMap(Self.activity)
    }

    public func activityIDs(after: Int64, through: Int64, matching condition: ActivityCondition, at now: Timestamp) async throws
        -> [Int64]
    {
        let test = FilterCompiler.compileActivityTest(condition, dialect: .postgres, now: now)
        var statement = DirectoryStatement(sql: "SELECT a.id FROM crm_activities a WHERE \(test.sql)", bindings: test.bindings)
        statement.bindings += [.integer(after), .integer(through)]
        statement.sql += " AND a.id > $\(statement.bindings.count - 1) AND a.id <= $\(statement.bindings.count) ORDER BY a.id"
        let query = statement.query
        return try await mapped { [self] in
            try await client.query(query, logger: logger).decode(Int64.self).collectAll()
        }
    }

    public func hasActivity(
        of email: EmailAddress, matching condition: ActivityCondition, since: Timestamp, excluding: Int64, at now: Timestamp
    ) async throws -> Bool {
        let test = FilterCompiler.compileActivityTest(condition, dialect: .postgres, now: now)
        let query = DirectoryStatement.activity(test, of: email.value, receivedSince: since, excluding: excluding, .postgres).query
        return try await mapped { [self] in
            try await client.query(query, logger: logger).decode(Int.self).first { _ in true } != nil
        }
    }

    public func activity(id: Int64) async throws -> Activity? {
        try await mapped { [self] in
            try await client.query(
                "SELECT \(unescaped: Self.activityColumns) FROM crm_activities a WHERE a.id = \(id)", logger: logger
            ).decode(ActivityRow.self).first { _ in true }.flatMap(Self.activity)
        }
    }

    public var commitsInIDOrder: Bool { false }

    public func watchCursor(_ name: String) async throws -> Int64? {
        try await mapped { [self] in
            try await client.query("SELECT last_activity_id FROM automation_watch WHERE name = \(name)", logger: logger)
                .decode(Int64.self).first { _ in true }
        }
    }

    public func latestActivityID() async throws -> Int64 {
        try await mapped { [self] in
            try await client.query("SELECT COALESCE(max(id), 0) FROM crm_activities", logger: logger)
                .decode(Int64.self).first { _ in true } ?? 0
        }
    }

    public func saveWatchCursor(_ name: String, _ id: Int64) async throws {
        try await mapped { [self] in
            try await client.query(
                """
                INSERT INTO automation_watch (name, last_activity_id) VALUES (\(name), \(id))
                ON CONFLICT (name) DO UPDATE SET last_activity_id = GREATEST(automation_watch.last_activity_id, excluded.last_activity_id)
                """, logger: logger)
        }
    }

    private static func activity(_ row: ActivityRow) -> Activity? {
        guard let email = EmailAddress(row.2) else { return nil }
        return Activity(
            id: row.0, type: row.1, contactEmail: email, occurredAt: Timestamp(microseconds: row.3),
            receivedAt: Timestamp(microseconds: row.4), source: row.5, sourceEventID: row.6, metadata: row.7)
    }
}
