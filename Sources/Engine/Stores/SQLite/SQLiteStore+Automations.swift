import GRDB

extension SQLiteStore {
    public func createAutomation(_ definition: AutomationDefinition, at time: Timestamp) async throws -> Int64 {
        try await write { db in
            try db.execute(
                sql: """
                    INSERT INTO automations (name, status, version, reentry, exit_when, timezone, created_at, updated_at)
                    VALUES (?, 'draft', 1, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    definition.name, definition.reentryJSON.serialized(), definition.exitWhen?.serialized(),
                    definition.timezone, time.microseconds, time.microseconds,
                ])
            let id = db.lastInsertedRowID
            try Self.insertVersion(db, id: id, version: 1, graph: definition.graph, at: time)
            return id
        }
    }

    public func automations() async throws -> [Automation] {
        try await read { db in try Self.automations(db, where: "1 = 1", []) }
    }

    public func automation(id: Int64) async throws -> Automation? {
        try await read { db in try Self.automations(db, where: "a.id = ?", [id]).first }
    }

    public func updateAutomation(id: Int64, _ definition: AutomationDefinition, at time: Timestamp) async throws -> Automation? {
        try await write { db in
            guard let current = try Self.automations(db, where: "a.id = ?", [id]).first else { return nil }
            guard current.status != .archived else { throw StoreError.conflict("automation \(id) is archived") }
            let hasRun = try Bool.fetchOne(
                db, sql: "SELECT EXISTS (SELECT 1 FROM automation_executions WHERE automation_id = ? AND version = ?)",
                arguments: [id, current.version]) ?? false
            let version = hasRun ? current.version + 1 : current.version
            if hasRun {
                try Self.insertVersion(db, id: id, version: version, graph: definition.graph, at: time)
            } else {
                try db.execute(
                    sql: "UPDATE automation_versions SET graph = ? WHERE automation_id = ? AND version = ?",
                    arguments: [definition.graph.serialized(), id, version])
            }
            try db.execute(
                sql: """
                    UPDATE automations SET name = ?, version = ?, reentry = ?, exit_when = ?, timezone = ?, updated_at = ?
                    WHERE id = ?
                    """,
                arguments: [
                    definition.name, version, definition.reentryJSON.serialized(), definition.exitWhen?.serialized(),
                    definition.timezone, time.microseconds, id,
                ])
            return try Self.automations(db, where: "a.id = ?", [id]).first
        }
    }

    public func setAutomationStatus(id: Int64, from expected: AutomationStatus, to status: AutomationStatus, at time: Timestamp)
        async throws -> Automation?
    {
        defer { if status == .active { workSignals[.automations].notify() } }
        return try await write { db in
            try db.execute(
                sql: "UPDATE automations SET status = ?, updated_at = ? WHERE id = ? AND status = ?",
                arguments: [status.rawValue, time.microseconds, id, expected.rawValue])
            let changed = db.changesCount > 0
            if changed, status == .active {
                try db.execute(
                    sql: """
                        UPDATE automation_watch SET last_activity_id = (SELECT COALESCE(max(id), 0) FROM crm_activities)
                        WHERE name = ? AND NOT EXISTS (SELECT 1 FROM automations WHERE status = 'active' AND id <> ?)
                        """,
                    arguments: [AutomationWatcher.cursorName, id])
            }
            if changed, status == .archived {
                // Archiving cancels the running executions, each with its log row.
                try db.execute(
                    sql: """
                        INSERT INTO automation_logs (execution_id, at, action, outcome, message)
                        SELECT id, ?, 'cancel', 'skipped', 'Cancelled: the automation was archived'
                        FROM automation_executions WHERE automation_id = ? AND status IN ('running', 'waiting');
                        UPDATE automation_executions SET status = 'cancelled', finished_at = ?, wake_up_at = NULL,
                            locked_until = NULL, updated_at = ?
                        WHERE automation_id = ? AND status IN ('running', 'waiting');
                        """,
                    arguments: [time.microseconds, id, time.microseconds, time.microseconds, id])
            }
            guard let automation = try Self.automations(db, where: "a.id = ?", [id]).first else { return nil }
            guard changed else { throw StoreError.conflict("automation \(id) is \(automation.status.rawValue), not \(expected.rawValue)") }
            return automation
        }
    }

    public func automationGraph(id: Int64, version: Int) async throws -> JSON? {
        let text = try await read { db in
            try String.fetchOne(
                db, sql: "SELECT graph FROM automation_versions WHERE automation_id = ? AND version = ?", arguments: [id, version])
        }
        return try text.map { try JSONParser.parse(Array($0.utf8)) }
    }

    public func automationNodeCounts(id: Int64) async throws -> AutomationNodeCounts {
        try await read { db in
            var counts = AutomationNodeCounts()
            counts.executions = try Int.fetchOne(db, sql: "SELECT count(*) FROM automation_executions WHERE automation_id = ?", arguments: [id]) ?? 0
            for row in try Row.fetchAll(
                db,
                sql: """
                    SELECT l.node_id, count(DISTINCT l.execution_id) AS reached,
                        count(DISTINCT CASE WHEN l.outcome = 'failed' THEN l.execution_id END) AS failed
                    FROM automation_logs l JOIN automation_executions e ON e.id = l.execution_id
                    WHERE e.automation_id = ? AND l.node_id IS NOT NULL GROUP BY l.node_id
                    """, arguments: [id])
            {
                counts.reached[row["node_id"]] = row["reached"]
                counts.failed[row["node_id"]] = row["failed"]
            }
            for row in try Row.fetchAll(
                db,
                sql: """
                    SELECT current_node_id, count(*) AS n FROM automation_executions
                    WHERE automation_id = ? AND status = 'waiting' GROUP BY current_node_id
                    """, arguments: [id])
            {
                counts.waiting[row["current_node_id"]] = row["n"]
            }
            return counts
        }
    }

    private static func insertVersion(_ db: Database, id: Int64, version: Int, graph: JSON, at time: Timestamp) throws {
        try db.execute(
            sql: "INSERT INTO automation_versions (automation_id, version, graph, created_at) VALUES (?, ?, ?, ?)",
            arguments: [id, version, graph.serialized(), time.microseconds])
    }

    private static func automations(_ db: Database, where condition: String, _ arguments: StatementArguments) throws -> [Automation] {
        try Row.fetchAll(
            db,
            sql: """
                SELECT \(StoredAutomation.columns), a.created_at, a.updated_at
                FROM automations a JOIN automation_versions v ON v.automation_id = a.id AND v.version = a.version
                WHERE \(condition) ORDER BY a.id
                """,
            arguments: arguments
        ).map { row in
            try StoredAutomation(
                id: row["id"], name: row["name"], status: row["status"], version: row["version"], reentry: row["reentry"],
                exitWhen: row["exit_when"], timezone: row["timezone"], graph: row["graph"], createdAt: row["created_at"],
                updatedAt: row["updated_at"]
            ).automation()
        }
    }
}
