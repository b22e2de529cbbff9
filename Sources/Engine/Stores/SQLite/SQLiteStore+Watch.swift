import GRDB

extension SQLiteStore {
    private static let activityColumns = "a.id, a.type, a.contact_email, a.occurred_at, a.received_at, a.source, a.source_event_id, a.metadata"

    public func activities(after cursor: Int64, limit: Int) async throws -> [Activity] {
        try await read { db in
            try Row.fetchAll(
                db, sql: "SELECT \(Self.activityColumns) FROM crm_activities a WHERE a.id > ? ORDER BY a.id LIMIT ?",
                arguments: [cursor, limit]
            ).compactMap(Self.activity)
        }
    }

    public func activityIDs(after: Int64, through: Int64, matching condition: ActivityCondition, at now: Timestamp) async throws
        -> [Int64]
    {
        let test = FilterCompiler.compileActivityTest(condition, dialect: .sqlite, now: now)
        var statement = DirectoryStatement(sql: "SELECT a.id FROM crm_activities a WHERE \(test.sql)", bindings: test.bindings)
        statement.sql += " AND a.id > ? AND a.id <= ? ORDER BY a.id"
        statement.bindings += [.integer(after), .integer(through)]
        let final = statement
        return try await read { db in try Int64.fetchAll(db, sql: final.sql, arguments: final.arguments) }
    }

    public func hasActivity(
        of email: EmailAddress, matching condition: ActivityCondition, since: Timestamp, excluding: Int64, at now: Timestamp
    ) async throws -> Bool {
        let test = FilterCompiler.compileActivityTest(condition, dialect: .sqlite, now: now)
        let statement = DirectoryStatement.activity(test, of: email.value, receivedSince: since, excluding: excluding, .sqlite)
        return try await read { db in try Int.fetchOne(db, sql: statement.sql, arguments: statement.arguments) != nil }
    }

    public func activity(id: Int64) async throws -> Activity? {
        try await read { db in
            try Row.fetchOne(db, sql: "SELECT \(Self.activityColumns) FROM crm_activities a WHERE a.id = ?", arguments: [id])
                .flatMap(Self.activity)
        }
    }

    public var commitsInIDOrder: Bool { true }

    public func watchCursor(_ name: String) async throws -> Int64? {
        try await read { db in
            try Int64.fetchOne(db, sql: "SELECT last_activity_id FROM automation_watch WHERE name = ?", arguments: [name])
        }
    }

    public func latestActivityID() async throws -> Int64 {
        try await read { db in try Int64.fetchOne(db, sql: "SELECT max(id) FROM crm_activities") ?? 0 }
    }

    public func saveWatchCursor(_ name: String, _ id: Int64) async throws {
        try await write { db in
            try db.execute(
                sql: """
                    INSERT INTO automation_watch (name, last_activity_id) VALUES (?, ?)
                    ON CONFLICT (name) DO UPDATE SET last_activity_id = max(last_activity_id, excluded.last_activity_id)
                    """,
                arguments: [name, id])
        }
    }

    private static func activity(_ row: Row) -> Activity? {
        guard let email = EmailAddress(row["contact_email"] as String) else { return nil }
        return Activity(
            id: row["id"], type: row["type"], contactEmail: email, occurredAt: Timestamp(microseconds: row["occurred_at"]),
            receivedAt: Timestamp(microseconds: row["received_at"]), source: row["source"], sourceEventID: row["source_event_id"],
            metadata: row["metadata"])
    }
}
