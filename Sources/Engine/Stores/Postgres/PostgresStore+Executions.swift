import Logging
import PostgresNIO

extension PostgresStore {
    static let executionColumns = """
        e.id, e.automation_id, e.version, e.contact_email, e.trigger_activity_id, e.status, e.current_node_id,
        cortex_us(e.wake_up_at), e.dry_run, cortex_us(e.created_at), cortex_us(e.finished_at)
        """
    typealias ExecutionRow = (Int64, Int64, Int, String, Int64, String, String?, Int64?, Bool, Int64, Int64?)

    public func spawnExecutions(_ spawns: [ExecutionSpawn], at time: Timestamp) async throws -> [Int64?] {
        guard !spawns.isEmpty else { return [] }
        let ids = try await mapped { [self] in
            try await client.withTransaction(logger: logger) { connection -> [Int64?] in
                let ids = try await Self.spawnBatch(connection, spawns, at: time, logger: logger)
                if ids.contains(where: { $0 != nil }) {
                    try await connection.query("SELECT pg_notify(\(WorkTopic.executions.channel), '')", logger: logger)
                }
                return ids
            }
        }
        if ids.contains(where: { $0 != nil }) { workSignals[.executions].notify() }
        return ids
    }

    /// Due waits first (a delay or timeout that came due), then executions that are running (new
    /// ones among them), each oldest first: in a burst, new executions queue behind the walker,
    /// and a delay that came due must not wait behind that queue (ENGINE.md §4: within 1 s).
    public func claimExecutions(limit: Int, now: Timestamp, leaseSeconds: Int64) async throws -> [Execution] {
        let rows = try await mapped { [self] in
            try await client.query(
                """
                UPDATE automation_executions AS e SET locked_until = cortex_ts(\(now.adding(seconds: leaseSeconds).microseconds))
                WHERE e.id IN (
                    SELECT x.id FROM automation_executions x JOIN automations a ON a.id = x.automation_id
                    WHERE x.status IN ('running', 'waiting') AND x.wake_up_at <= cortex_ts(\(now.microseconds))
                      AND a.status = 'active'
                      AND (x.locked_until IS NULL OR x.locked_until <= cortex_ts(\(now.microseconds)))
                    ORDER BY x.status = 'running', x.wake_up_at, x.id LIMIT \(limit)
                    FOR UPDATE OF x SKIP LOCKED)
                RETURNING \(unescaped: Self.executionColumns)
                """, logger: logger
            ).decode(ExecutionRow.self).collectAll()
        }
        return rows.compactMap(Self.execution).sorted { $0.id < $1.id }
    }

    public func stepInputs(of executions: [Execution]) async throws -> StepInputs {
        guard !executions.isEmpty else { return StepInputs() }
        let emails = Array(Set(executions.map(\.contactEmail.value)))
        let activityIDs = Array(Set(executions.map(\.triggerActivityID)))
        // Two round trips for the whole claim: the contacts with their tags, and the events.
        var inputs = StepInputs()
        inputs.contacts = try await templateContacts(emails.compactMap(EmailAddress.init))
        let events = try await mapped { [self] in
            try await client.query(
                "SELECT id, metadata::text FROM crm_activities WHERE id = ANY(\(activityIDs))", logger: logger
            ).decode((Int64, String).self).collectAll()
        }
        for row in events { inputs.events[row.0] = row.1 }
        return inputs
    }

    public func commitSteps(_ steps: [(execution: Int64, step: StepCommit)], at time: Timestamp) async throws -> [Bool] {
        guard !steps.isEmpty else { return [] }
        let committed = try await mapped { [self] in
            try await client.withTransaction(logger: logger) { connection -> [Bool] in
                // One execution twice would need its first move seen by its second: step by step.
                if Set(steps.map(\.execution)).count == steps.count {
                    return try await Self.commitBatch(connection, steps, at: time, logger: logger)
                }
                var committed: [Bool] = []
                for (id, step) in steps { committed.append(try await Self.commit(connection, id, step, at: time, logger: logger)) }
                return committed
            }
        }
        if steps.contains(where: { $0.step.effects.contains { if case .enqueueEmail = $0 { true } else { false } } }) {
            workSignals[.email].notify()
        }
        if steps.contains(where: { $0.step.effects.contains { if case .enqueueEmail = $0 { false } else { true } } }) {
            workSignals[.activities].notify()  // Tag changes write activities other automations may start on.
        }
        return committed
    }

    /// The steps of distinct executions in a few round trips instead of three or four per step:
    /// one to lock every row, the effects, one `UPDATE` and one log `INSERT` for all of them
    /// (column arrays through `unnest`; arrays cannot hold NULL here, so '' and -1 stand for it).
    /// Same transaction, so each step's effects, move and logs still commit together.
    private static func commitBatch(
        _ connection: PostgresConnection, _ steps: [(execution: Int64, step: StepCommit)], at time: Timestamp, logger: Logger
    ) async throws -> [Bool] {
        // Locked in id order, so two walkers' batches wait for each other instead of deadlocking.
        let rows = try await connection.query(
            """
            SELECT id, status, contact_email, current_node_id FROM automation_executions
            WHERE id = ANY(\(steps.map(\.execution))) ORDER BY id FOR UPDATE
            """, logger: logger
        ).decode((Int64, String, String, String?).self).collectAll()
        let current = Dictionary(rows.map { ($0.0, $0) }, uniquingKeysWith: { first, _ in first })
        var committed: [Bool] = []
        var ids: [Int64] = [], statuses: [String] = [], nodes: [String] = [], wakeUps: [Int64] = [], keepsLease: [Bool] = []
        var finished: [Int64] = [], errors: [String] = []
        var logs: [(execution: Int64, log: ExecutionLog)] = []
        // Mail of every step in one statement (each keyed `automation:<execution>:<node>`, so a
        // step retried after a crash queues nothing new): same transaction as the moves.
        var mail: [NewEmailJob] = []
        var added: [(email: EmailAddress, tag: String)] = []
        for (id, step) in steps {
            guard let row = current[id], let status = ExecutionStatus(rawValue: row.1), let email = EmailAddress(row.2),
                !status.isFinished, step.onlyAt == nil || step.onlyAt == row.3
            else {
                committed.append(false)
                continue
            }
            for effect in step.effects {
                switch effect {
                case .enqueueEmail(let message): mail.append(message)
                case .addTag(let tag): added.append((email, tag))
                case .removeTag(let tag): _ = try await removeTag(connection, tag, from: email, at: time, logger: logger)
                }
            }
            let move = ExecutionRules.columns(of: step.move, at: time)
            ids.append(id)
            statuses.append(move.status.rawValue)
            nodes.append(move.nodeID ?? "")
            wakeUps.append(move.wakeUpAt?.microseconds ?? -1)
            keepsLease.append(move.keepsLease)
            finished.append(move.finishedAt?.microseconds ?? -1)
            errors.append(move.error ?? "")
            logs += step.logs.map { (id, $0) }
            committed.append(true)
        }
        guard !ids.isEmpty else { return committed }
        try await connection.query(
            """
            UPDATE automation_executions e SET status = m.status, current_node_id = COALESCE(NULLIF(m.node, ''), e.current_node_id),
                wake_up_at = cortex_ts(NULLIF(m.wake_up, -1)), locked_until = CASE WHEN m.keeps_lease THEN e.locked_until END,
                finished_at = cortex_ts(NULLIF(m.finished, -1)), last_error = COALESCE(NULLIF(m.error, ''), e.last_error),
                updated_at = cortex_ts(\(time.microseconds))
            FROM unnest(\(ids)::bigint[], \(statuses)::text[], \(nodes)::text[], \(wakeUps)::bigint[], \(keepsLease)::bool[],
                        \(finished)::bigint[], \(errors)::text[]) AS m(id, status, node, wake_up, keeps_lease, finished, error)
            WHERE e.id = m.id
            """, logger: logger)
        _ = try await insertEmailJobs(connection, mail, at: time, logger: logger)
        try await addTagBatch(connection, added, at: time, logger: logger)
        try await insertLogBatch(connection, logs, logger: logger)
        return committed
    }

    private static func commit(_ connection: PostgresConnection, _ id: Int64, _ step: StepCommit, at time: Timestamp, logger: Logger)
        async throws -> Bool
    {
        guard
            let row = try await connection.query(
                "SELECT status, contact_email, current_node_id FROM automation_executions WHERE id = \(id) FOR UPDATE",
                logger: logger
            ).decode((String, String, String?).self).first(where: { _ in true }),
            let status = ExecutionStatus(rawValue: row.0), let email = EmailAddress(row.1), !status.isFinished,
            step.onlyAt == nil || step.onlyAt == row.2
        else { return false }
        for effect in step.effects {
            switch effect {
            case .enqueueEmail(let message): _ = try await insertEmailJobs(connection, [message], at: time, logger: logger)
            case .addTag(let tag): _ = try await addTags(connection, [tag], to: email, at: time, logger: logger)
            case .removeTag(let tag): _ = try await removeTag(connection, tag, from: email, at: time, logger: logger)
            }
        }
        let move = ExecutionRules.columns(of: step.move, at: time)
        try await connection.query(
            """
            UPDATE automation_executions SET status = \(move.status.rawValue),
                current_node_id = COALESCE(\(move.nodeID), current_node_id),
                wake_up_at = cortex_ts(\(move.wakeUpAt?.microseconds)::bigint),
                locked_until = CASE WHEN \(move.keepsLease) THEN locked_until END,
                finished_at = cortex_ts(\(move.finishedAt?.microseconds)::bigint),
                last_error = COALESCE(\(move.error), last_error), updated_at = cortex_ts(\(time.microseconds))
            WHERE id = \(id)
            """, logger: logger)
        try await insertLogs(connection, execution: id, step.logs, logger: logger)
        return true
    }

    public func nextExecutionDue() async throws -> Timestamp? {
        try await mapped { [self] in
            try await client.query(
                """
                SELECT cortex_us(min(GREATEST(e.wake_up_at, COALESCE(e.locked_until, '-infinity'))))
                FROM automation_executions e JOIN automations a ON a.id = e.automation_id
                WHERE e.status IN ('running', 'waiting') AND a.status = 'active'
                """, logger: logger
            ).decode(Int64?.self).first { _ in true }?.map(Timestamp.init(microseconds:))
        }
    }

    public func waitingExecutions(of emails: [EmailAddress]) async throws -> [Execution] {
        guard !emails.isEmpty else { return [] }
        let addresses = emails.map(\.value)
        let rows = try await mapped { [self] in
            try await client.query(
                """
                SELECT \(unescaped: Self.executionColumns) FROM automation_executions e
                WHERE e.status = 'waiting' AND e.contact_email = ANY(\(addresses)) ORDER BY e.id
                """, logger: logger
            ).decode(ExecutionRow.self).collectAll()
        }
        return rows.compactMap(Self.execution)
    }

    public func exitExecutions(automationID: Int64, email: EmailAddress, reason: String, at time: Timestamp) async throws -> Int {
        try await mapped { [self] in
            try await client.withTransaction(logger: logger) { connection in
                let ids = try await connection.query(
                    """
                    UPDATE automation_executions SET status = 'exited', finished_at = cortex_ts(\(time.microseconds)),
                        wake_up_at = NULL, locked_until = NULL, updated_at = cortex_ts(\(time.microseconds))
                    WHERE automation_id = \(automationID) AND contact_email = \(email.value) AND status IN ('running', 'waiting')
                    RETURNING id
                    """, logger: logger
                ).decode(Int64.self).collectAll()
                for id in ids {
                    try await Self.insertLogs(
                        connection, execution: id, [ExecutionLog(at: time, nodeID: nil, action: "exit", outcome: .ok, message: reason)],
                        logger: logger)
                }
                return ids.count
            }
        }
    }

    public func executions(_ query: ExecutionQuery) async throws -> [Execution] {
        let rows = try await mapped { [self] in
            try await client.query(
                """
                SELECT \(unescaped: Self.executionColumns) FROM automation_executions e
                WHERE (\(query.automationID)::bigint IS NULL OR e.automation_id = \(query.automationID))
                  AND (\(query.email?.value)::text IS NULL OR e.contact_email = \(query.email?.value))
                  AND (\(query.status?.rawValue)::text IS NULL OR e.status = \(query.status?.rawValue))
                  AND (\(query.before)::bigint IS NULL OR e.id < \(query.before))
                ORDER BY e.id DESC LIMIT \(query.limit)
                """, logger: logger
            ).decode(ExecutionRow.self).collectAll()
        }
        return rows.compactMap(Self.execution)
    }

    public func execution(id: Int64) async throws -> Execution? {
        try await mapped { [self] in
            try await client.query(
                "SELECT \(unescaped: Self.executionColumns) FROM automation_executions e WHERE e.id = \(id)", logger: logger
            ).decode(ExecutionRow.self).first { _ in true }.flatMap(Self.execution)
        }
    }

    public func executionLogs(id: Int64) async throws -> [ExecutionLog] {
        let rows = try await mapped { [self] in
            try await client.query(
                """
                SELECT cortex_us(at), node_id, action, outcome, message, detail::text FROM automation_logs
                WHERE execution_id = \(id) ORDER BY id
                """, logger: logger
            ).decode((Int64, String?, String, String, String, String?).self).collectAll()
        }
        return rows.map { row in
            ExecutionLog(
                at: Timestamp(microseconds: row.0), nodeID: row.1, action: row.2, outcome: ExecutionLog.Outcome(rawValue: row.3) ?? .ok,
                message: row.4, detail: row.5.flatMap { try? JSONParser.parse(Array($0.utf8)) })
        }
    }

    public func cancelExecution(id: Int64, at time: Timestamp) async throws -> Execution? {
        try await mapped { [self] in
            try await client.withTransaction(logger: logger) { connection in
                let cancelled = try await connection.query(
                    """
                    UPDATE automation_executions SET status = 'cancelled', finished_at = cortex_ts(\(time.microseconds)),
                        wake_up_at = NULL, locked_until = NULL, updated_at = cortex_ts(\(time.microseconds))
                    WHERE id = \(id) AND status IN ('running', 'waiting') RETURNING 1
                    """, logger: logger
                ).decode(Int.self).first { _ in true } != nil
                if cancelled {
                    try await Self.insertLogs(connection, execution: id, [ExecutionRules.cancelledLog(at: time)], logger: logger)
                }
                return try await connection.query(
                    "SELECT \(unescaped: Self.executionColumns) FROM automation_executions e WHERE e.id = \(id)", logger: logger
                ).decode(ExecutionRow.self).first { _ in true }.flatMap(Self.execution)
            }
        }
    }

    static func insertLogs(_ connection: PostgresConnection, execution id: Int64, _ logs: [ExecutionLog], logger: Logger) async throws {
        for log in logs {
            try await connection.query(
                """
                INSERT INTO automation_logs (execution_id, at, node_id, action, outcome, message, detail)
                VALUES (\(id), cortex_ts(\(log.at.microseconds)), \(log.nodeID), \(log.action), \(log.outcome.rawValue),
                        \(log.message), \(log.detail?.serialized())::jsonb)
                """, logger: logger)
        }
    }

    static func execution(_ row: ExecutionRow) -> Execution? {
        guard let email = EmailAddress(row.3), let status = ExecutionStatus(rawValue: row.5) else { return nil }
        return Execution(
            id: row.0, automationID: row.1, version: row.2, contactEmail: email, triggerActivityID: row.4, status: status,
            currentNodeID: row.6, wakeUpAt: row.7.map(Timestamp.init(microseconds:)), dryRun: row.8,
            createdAt: Timestamp(microseconds: row.9), finishedAt: row.10.map(Timestamp.init(microseconds:)))
    }
}

extension PostgresStore {
    public func templateContacts(_ emails: [EmailAddress]) async throws -> [EmailAddress: Contact] {
        guard !emails.isEmpty else { return [:] }
        let addresses = Array(Set(emails.map(\.value)))
        let rows = try await mapped { [self] in
            try await client.query(
                """
                SELECT c.email, c.first_name, c.last_name, cortex_us(c.created_at), c.external_id, c.timezone, c.attributes::text,
                    COALESCE((SELECT array_agg(t.tag ORDER BY t.tag_key) FROM contact_tags t WHERE t.contact_id = c.id), '{}')
                FROM contacts c WHERE c.email = ANY(\(addresses))
                """, logger: logger
            ).decode((String, String?, String?, Int64, String?, String?, String, [String]).self).collectAll()
        }
        var contacts: [EmailAddress: Contact] = [:]
        for row in rows {
            guard let email = EmailAddress(row.0) else { continue }
            contacts[email] = Contact(
                email: email, firstName: row.1, lastName: row.2, createdAt: Timestamp(microseconds: row.3), tags: row.7,
                suppression: nil, externalID: row.4, timezone: row.5, attributes: row.6)
        }
        return contacts
    }
}
