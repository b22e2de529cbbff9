import Logging
import PostgresNIO

extension PostgresStore {
    public func createAutomation(_ definition: AutomationDefinition, at time: Timestamp) async throws -> Int64 {
        try await mapped { [self] in
            try await client.withTransaction(logger: logger) { connection in
                let id = try await connection.query(
                    """
                    INSERT INTO automations (name, status, version, reentry, exit_when, timezone, created_at, updated_at)
                    VALUES (\(definition.name), 'draft', 1, \(definition.reentryJSON.serialized()),
                            \(definition.exitWhen?.serialized())::json, \(definition.timezone),
                            cortex_ts(\(time.microseconds)), cortex_ts(\(time.microseconds)))
                    RETURNING id
                    """, logger: logger
                ).decode(Int64.self).first { _ in true }
                guard let id else { throw StoreError.unavailable("automation insert returned no id") }
                try await Self.insertVersion(connection, id: id, version: 1, graph: definition.graph, at: time, logger: logger)
                return id
            }
        }
    }

    public func automations() async throws -> [Automation] {
        try await mapped { [self] in
            try await client.withConnection { connection in
                try await Self.automations(connection, id: nil, logger: logger)
            }
        }
    }

    public func automation(id: Int64) async throws -> Automation? {
        try await mapped { [self] in
            try await client.withConnection { connection in
                try await Self.automations(connection, id: id, logger: logger).first
            }
        }
    }

    public func updateAutomation(id: Int64, _ definition: AutomationDefinition, at time: Timestamp) async throws -> Automation? {
        try await mapped { [self] in
            try await client.withTransaction(logger: logger) { connection in
                // Locked, so two concurrent edits cannot both make the same new version.
                let locked = try await connection.query(
                    "SELECT status, version FROM automations WHERE id = \(id) FOR UPDATE", logger: logger
                ).decode((String, Int).self).first { _ in true }
                guard let (status, current) = locked else { return nil }
                guard status != AutomationStatus.archived.rawValue else { throw StoreError.conflict("automation \(id) is archived") }
                let hasRun = try await connection.query(
                    "SELECT EXISTS (SELECT 1 FROM automation_executions WHERE automation_id = \(id) AND version = \(current))",
                    logger: logger
                ).decode(Bool.self).first { _ in true } ?? false
                let version = hasRun ? current + 1 : current
                if hasRun {
                    try await Self.insertVersion(connection, id: id, version: version, graph: definition.graph, at: time, logger: logger)
                } else {
                    try await connection.query(
                        """
                        UPDATE automation_versions SET graph = \(definition.graph.serialized())::json
                        WHERE automation_id = \(id) AND version = \(version)
                        """, logger: logger)
                }
                try await connection.query(
                    """
                    UPDATE automations SET name = \(definition.name), version = \(version),
                        reentry = \(definition.reentryJSON.serialized()), exit_when = \(definition.exitWhen?.serialized())::json,
                        timezone = \(definition.timezone), updated_at = cortex_ts(\(time.microseconds))
                    WHERE id = \(id)
                    """, logger: logger)
                return try await Self.automations(connection, id: id, logger: logger).first
            }
        }
    }

    public func setAutomationStatus(id: Int64, from expected: AutomationStatus, to status: AutomationStatus, at time: Timestamp)
        async throws -> Automation?
    {
        defer { if status == .active { workSignals[.automations].notify() } }
        return try await mapped { [self] in
            try await client.withTransaction(logger: logger) { connection in
                let changed = try await connection.query(
                    """
                    UPDATE automations SET status = \(status.rawValue), updated_at = cortex_ts(\(time.microseconds))
                    WHERE id = \(id) AND status = \(expected.rawValue) RETURNING 1
                    """, logger: logger
                ).decode(Int.self).first { _ in true } != nil
                if changed, status == .active {
                    try await connection.query("SELECT pg_notify(\(WorkTopic.automations.channel), '')", logger: logger)
                    try await connection.query(
                        """
                        UPDATE automation_watch SET last_activity_id = (SELECT COALESCE(max(id), 0) FROM crm_activities)
                        WHERE name = \(AutomationWatcher.cursorName)
                          AND NOT EXISTS (SELECT 1 FROM automations WHERE status = 'active' AND id <> \(id))
                        """, logger: logger)
                }
                if changed, status == .archived {
                    // Archiving cancels the running executions, each with its log row.
                    try await connection.query(
                        """
                        INSERT INTO automation_logs (execution_id, at, action, outcome, message)
                        SELECT id, cortex_ts(\(time.microseconds)), 'cancel', 'skipped', 'Cancelled: the automation was archived'
                        FROM automation_executions WHERE automation_id = \(id) AND status IN ('running', 'waiting')
                        """, logger: logger)
                    try await connection.query(
                        """
                        UPDATE automation_executions SET status = 'cancelled', finished_at = cortex_ts(\(time.microseconds)),
                            wake_up_at = NULL, locked_until = NULL, updated_at = cortex_ts(\(time.microseconds))
                        WHERE automation_id = \(id) AND status IN ('running', 'waiting')
                        """, logger: logger)
                }
                guard let automation = try await Self.automations(connection, id: id, logger: logger).first else { return nil }
                guard changed else {
                    throw StoreError.conflict("automation \(id) is \(automation.status.rawValue), not \(expected.rawValue)")
                }
                return automation
            }
        }
    }

    public func automationGraph(id: Int64, version: Int) async throws -> JSON? {
        let text = try await mapped { [self] in
            try await client.query(
                "SELECT graph::text FROM automation_versions WHERE automation_id = \(id) AND version = \(version)", logger: logger
            ).decode(String.self).first { _ in true }
        }
        return try text.map { try JSONParser.parse(Array($0.utf8)) }
    }

    public func automationNodeCounts(id: Int64) async throws -> AutomationNodeCounts {
        try await mapped { [self] in
            try await client.withConnection { connection in
                var counts = AutomationNodeCounts()
                counts.executions = try await connection.query(
                    "SELECT count(*)::bigint FROM automation_executions WHERE automation_id = \(id)", logger: logger
                ).decode(Int.self).first { _ in true } ?? 0
                for (node, reached, failed) in try await connection.query(
                    """
                    SELECT l.node_id, count(DISTINCT l.execution_id)::bigint,
                        count(DISTINCT l.execution_id) FILTER (WHERE l.outcome = 'failed')::bigint
                    FROM automation_logs l JOIN automation_executions e ON e.id = l.execution_id
                    WHERE e.automation_id = \(id) AND l.node_id IS NOT NULL GROUP BY l.node_id
                    """, logger: logger
                ).decode((String, Int, Int).self).collectAll() {
                    counts.reached[node] = reached
                    counts.failed[node] = failed
                }
                for (node, waiting) in try await connection.query(
                    """
                    SELECT current_node_id, count(*)::bigint FROM automation_executions
                    WHERE automation_id = \(id) AND status = 'waiting' AND current_node_id IS NOT NULL GROUP BY current_node_id
                    """, logger: logger
                ).decode((String, Int).self).collectAll() {
                    counts.waiting[node] = waiting
                }
                return counts
            }
        }
    }

    private static func insertVersion(
        _ connection: PostgresConnection, id: Int64, version: Int, graph: JSON, at time: Timestamp, logger: Logger
    ) async throws {
        try await connection.query(
            """
            INSERT INTO automation_versions (automation_id, version, graph, created_at)
            VALUES (\(id), \(version), \(graph.serialized())::json, cortex_ts(\(time.microseconds)))
            """, logger: logger)
    }

    private static func automations(_ connection: PostgresConnection, id: Int64?, logger: Logger) async throws -> [Automation] {
        let rows = try await connection.query(
            """
            SELECT a.id, a.name, a.status, a.version, a.reentry, a.exit_when::text, a.timezone, v.graph::text,
                cortex_us(a.created_at), cortex_us(a.updated_at)
            FROM automations a JOIN automation_versions v ON v.automation_id = a.id AND v.version = a.version
            WHERE \(id)::bigint IS NULL OR a.id = \(id) ORDER BY a.id
            """, logger: logger
        ).decode((Int64, String, String, Int, String, String?, String, String, Int64, Int64).self).collectAll()
        return try rows.map { row in
            try StoredAutomation(
                id: row.0, name: row.1, status: row.2, version: row.3, reentry: row.4, exitWhen: row.5, timezone: row.6,
                graph: row.7, createdAt: row.8, updatedAt: row.9
            ).automation()
        }
    }
}
