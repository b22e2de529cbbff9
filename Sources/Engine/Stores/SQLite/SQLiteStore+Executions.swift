import GRDB

extension SQLiteStore {
    /// An execution's columns as `Self.execution(_:)` reads them, unqualified (a `RETURNING` list).
    static let executionColumnNames = """
        id, automation_id, version, contact_email, trigger_activity_id, status, current_node_id,
        wake_up_at, dry_run, created_at, finished_at
        """
    /// The same, of `automation_executions e`.
    static let executionColumns = executionColumnNames.split(separator: ",")
        .map { "e." + $0.trimmingCharacters(in: .whitespacesAndNewlines) }.joined(separator: ", ")

    public func spawnExecutions(_ spawns: [ExecutionSpawn], at time: Timestamp) async throws -> [Int64?] {
        guard !spawns.isEmpty else { return [] }
        let ids = try await write { db in try spawns.map { try Self.spawn(db, $0, at: time) } }
        if ids.contains(where: { $0 != nil }) { workSignals[.executions].notify() }
        return ids
    }

    private static func spawn(_ db: Database, _ spawn: ExecutionSpawn, at time: Timestamp) throws -> Int64? {
        // A read, not the upsert: the triggering activity's contact exists (or was erased since).
        guard
            let contactID = try Int64.fetchOne(
                db.cachedStatement(sql: "SELECT id FROM contacts WHERE email = ?"), arguments: [spawn.contactEmail.value])
        else { return nil }
        let last = try Int64.fetchOne(
            db.cachedStatement(
                sql: "SELECT max(created_at) FROM automation_executions WHERE automation_id = ? AND contact_id = ? AND NOT dry_run"),
            arguments: [spawn.automationID, contactID])
        guard spawn.dryRun || ExecutionRules.mayEnter(spawn.reentry, lastEntry: last.map(Timestamp.init(microseconds:)), now: time)
        else { return nil }
        try db.cachedStatement(
            sql: """
                INSERT INTO automation_executions (automation_id, version, contact_id, contact_email, trigger_activity_id,
                    status, current_node_id, wake_up_at, dry_run, created_at, updated_at, finished_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT (automation_id, trigger_activity_id) DO NOTHING
                """
        ).execute(arguments: [
            spawn.automationID, spawn.version, contactID, spawn.contactEmail.value, spawn.triggerActivityID,
            spawn.firstNodeID == nil ? "completed" : "running", spawn.firstNodeID, time.microseconds, spawn.dryRun,
            time.microseconds, time.microseconds, spawn.firstNodeID == nil ? time.microseconds : nil,
        ])
        guard db.changesCount > 0 else { return nil }
        let id = db.lastInsertedRowID
        try insertLogs(db, execution: id, [ExecutionRules.spawnedLog(id, spawn, at: time)])
        return id
    }

    /// Due waits first (a delay or timeout that came due), then executions that are running (new
    /// ones among them), each oldest first: in a burst, new executions queue behind the walker,
    /// and a delay that came due must not wait behind that queue (ENGINE.md §4: within 1 s).
    public func claimExecutions(limit: Int, now: Timestamp, leaseSeconds: Int64) async throws -> [Execution] {
        try await write { db in
            try Row.fetchAll(
                db,
                sql: """
                    UPDATE automation_executions SET locked_until = ?
                    WHERE id IN (
                        SELECT x.id FROM automation_executions x JOIN automations a ON a.id = x.automation_id
                        WHERE x.status IN ('running', 'waiting') AND x.wake_up_at <= ? AND a.status = 'active'
                          AND (x.locked_until IS NULL OR x.locked_until <= ?)
                        ORDER BY x.status = 'running', x.wake_up_at, x.id LIMIT ?)
                    RETURNING \(Self.executionColumnNames)
                    """,
                arguments: [now.adding(seconds: leaseSeconds).microseconds, now.microseconds, now.microseconds, limit]
            ).compactMap(Self.execution).sorted { $0.id < $1.id }
        }
    }

    public func stepInputs(of executions: [Execution]) async throws -> StepInputs {
        guard !executions.isEmpty else { return StepInputs() }
        let activityIDs = Array(Set(executions.map(\.triggerActivityID)))
        var inputs = StepInputs()
        inputs.contacts = try await templateContacts(executions.map(\.contactEmail))
        inputs.events = try await read { db in
            var events: [Int64: String] = [:]
            // In slices, so a claim of any size stays under SQLite's limit on bound parameters.
            for slice in activityIDs.slices(of: 500) {
                let rows = try Row.fetchAll(
                    db, sql: "SELECT id, metadata FROM crm_activities WHERE id IN (\(Self.placeholders(slice.count)))",
                    arguments: StatementArguments(Array(slice)))
                for row in rows { events[row["id"]] = row["metadata"] }
            }
            return events
        }
        return inputs
    }

    public func templateContacts(_ emails: [EmailAddress]) async throws -> [EmailAddress: Contact] {
        let addresses = Array(Set(emails.map(\.value)))
        guard !addresses.isEmpty else { return [:] }
        return try await read { db in
            var byID: [Int64: Contact] = [:]
            // In slices, so a claim of any size stays under SQLite's limit on bound parameters.
            for slice in addresses.slices(of: 500) {
                let rows = try Row.fetchAll(
                    db,
                    sql: """
                        SELECT id, email, first_name, last_name, created_at, external_id, timezone, attributes
                        FROM contacts WHERE email IN (\(Self.placeholders(slice.count)))
                        """,
                    arguments: StatementArguments(Array(slice)))
                for row in rows {
                    guard let email = EmailAddress(row["email"] as String) else { continue }
                    byID[row["id"]] = Contact(
                        email: email, firstName: row["first_name"], lastName: row["last_name"],
                        createdAt: Timestamp(microseconds: row["created_at"]), tags: [], suppression: nil,
                        externalID: row["external_id"], timezone: row["timezone"], attributes: row["attributes"])
                }
            }
            for slice in Array(byID.keys).slices(of: 500) {
                let rows = try Row.fetchAll(
                    db,
                    sql: "SELECT contact_id, tag FROM contact_tags WHERE contact_id IN (\(Self.placeholders(slice.count))) ORDER BY tag_key",
                    arguments: StatementArguments(Array(slice)))
                for row in rows { byID[row["contact_id"]]?.tags.append(row["tag"]) }
            }
            return Dictionary(byID.values.map { ($0.email, $0) }, uniquingKeysWith: { first, _ in first })
        }
    }

    /// `?, ?, ...`: an `IN` list of `count` values (SQLite takes an empty one).
    static func placeholders(_ count: Int) -> String {
        Array(repeating: "?", count: count).joined(separator: ", ")
    }

    public func commitSteps(_ steps: [(execution: Int64, step: StepCommit)], at time: Timestamp) async throws -> [Bool] {
        guard !steps.isEmpty else { return [] }
        let committed = try await write { db in try steps.map { try Self.commit(db, $0.execution, $0.step, at: time) } }
        if steps.contains(where: { $0.step.effects.contains { if case .enqueueEmail = $0 { true } else { false } } }) {
            workSignals[.email].notify()
        }
        if steps.contains(where: { $0.step.effects.contains { if case .enqueueEmail = $0 { false } else { true } } }) {
            workSignals[.activities].notify()  // Tag changes write activities other automations may start on.
        }
        return committed
    }

    private static func commit(_ db: Database, _ id: Int64, _ step: StepCommit, at time: Timestamp) throws -> Bool {
        guard let row = try Row.fetchOne(
            db.cachedStatement(sql: "SELECT status, contact_email, current_node_id FROM automation_executions WHERE id = ?"),
            arguments: [id]),
            let status = ExecutionStatus(rawValue: row["status"]), let email = EmailAddress(row["contact_email"] as String)
        else { return false }
        guard !status.isFinished, step.onlyAt == nil || step.onlyAt == row["current_node_id"] else { return false }
        for effect in step.effects {
            switch effect {
            case .enqueueEmail(let message): _ = try insertEmailJob(db, message, at: time)
            case .addTag(let tag): _ = try addTags(db, [tag], to: email, at: time)
            case .removeTag(let tag): _ = try removeTag(db, tag, from: email, at: time)
            }
        }
        let move = ExecutionRules.columns(of: step.move, at: time)
        // Cached: compiled once per connection, not once per step.
        try db.cachedStatement(
            sql: """
                UPDATE automation_executions SET status = ?, current_node_id = COALESCE(?, current_node_id),
                    wake_up_at = ?, locked_until = CASE WHEN ? THEN locked_until END, finished_at = ?,
                    last_error = COALESCE(?, last_error), updated_at = ?
                WHERE id = ?
                """
        ).execute(
            arguments: [
                move.status.rawValue, move.nodeID, move.wakeUpAt?.microseconds, move.keepsLease, move.finishedAt?.microseconds,
                move.error, time.microseconds, id,
            ])
        try insertLogs(db, execution: id, step.logs)
        return true
    }

    public func nextExecutionDue() async throws -> Timestamp? {
        try await read { db in
            try Int64.fetchOne(
                db,
                sql: """
                    SELECT min(max(e.wake_up_at, COALESCE(e.locked_until, 0)))
                    FROM automation_executions e JOIN automations a ON a.id = e.automation_id
                    WHERE e.status IN ('running', 'waiting') AND a.status = 'active'
                    """
            ).map(Timestamp.init(microseconds:))
        }
    }

    public func waitingExecutions(of emails: [EmailAddress]) async throws -> [Execution] {
        guard !emails.isEmpty else { return [] }
        let placeholders = Array(repeating: "?", count: emails.count).joined(separator: ", ")
        return try await read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT \(Self.executionColumns) FROM automation_executions e
                    WHERE e.status = 'waiting' AND e.contact_email IN (\(placeholders)) ORDER BY e.id
                    """,
                arguments: StatementArguments(emails.map(\.value))
            ).compactMap(Self.execution)
        }
    }

    public func exitExecutions(automationID: Int64, email: EmailAddress, reason: String, at time: Timestamp) async throws -> Int {
        try await write { db in
            let ids = try Int64.fetchAll(
                db,
                sql: """
                    SELECT id FROM automation_executions
                    WHERE automation_id = ? AND contact_email = ? AND status IN ('running', 'waiting')
                    """,
                arguments: [automationID, email.value])
            for id in ids {
                try db.execute(
                    sql: """
                        UPDATE automation_executions SET status = 'exited', finished_at = ?, wake_up_at = NULL, locked_until = NULL,
                            updated_at = ?
                        WHERE id = ?
                        """,
                    arguments: [time.microseconds, time.microseconds, id])
                try Self.insertLogs(db, execution: id, [ExecutionLog(at: time, nodeID: nil, action: "exit", outcome: .ok, message: reason)])
            }
            return ids.count
        }
    }

    public func executions(_ query: ExecutionQuery) async throws -> [Execution] {
        var conditions = ["1 = 1"]
        var arguments: [(any DatabaseValueConvertible)?] = []
        if let automation = query.automationID { conditions.append("e.automation_id = ?"); arguments.append(automation) }
        if let email = query.email { conditions.append("e.contact_email = ?"); arguments.append(email.value) }
        if let status = query.status { conditions.append("e.status = ?"); arguments.append(status.rawValue) }
        if let before = query.before { conditions.append("e.id < ?"); arguments.append(before) }
        arguments.append(query.limit)
        let sql = """
            SELECT \(Self.executionColumns) FROM automation_executions e
            WHERE \(conditions.joined(separator: " AND ")) ORDER BY e.id DESC LIMIT ?
            """
        let finalArguments = StatementArguments(arguments)
        return try await read { db in try Row.fetchAll(db, sql: sql, arguments: finalArguments).compactMap(Self.execution) }
    }

    public func execution(id: Int64) async throws -> Execution? {
        try await read { db in
            try Row.fetchOne(db, sql: "SELECT \(Self.executionColumns) FROM automation_executions e WHERE e.id = ?", arguments: [id])
                .flatMap(Self.execution)
        }
    }

    public func executionLogs(id: Int64) async throws -> [ExecutionLog] {
        try await read { db in
            try Row.fetchAll(
                db, sql: "SELECT at, node_id, action, outcome, message, detail FROM automation_logs WHERE execution_id = ? ORDER BY id",
                arguments: [id]
            ).map { row in
                ExecutionLog(
                    at: Timestamp(microseconds: row["at"]), nodeID: row["node_id"], action: row["action"],
                    outcome: ExecutionLog.Outcome(rawValue: row["outcome"]) ?? .ok, message: row["message"],
                    detail: (row["detail"] as String?).flatMap { try? JSONParser.parse(Array($0.utf8)) })
            }
        }
    }

    public func cancelExecution(id: Int64, at time: Timestamp) async throws -> Execution? {
        try await write { db in
            try db.execute(
                sql: """
                    UPDATE automation_executions SET status = 'cancelled', finished_at = ?, wake_up_at = NULL,
                        locked_until = NULL, updated_at = ?
                    WHERE id = ? AND status IN ('running', 'waiting')
                    """,
                arguments: [time.microseconds, time.microseconds, id])
            if db.changesCount > 0 {
                try Self.insertLogs(db, execution: id, [ExecutionRules.cancelledLog(at: time)])
            }
            return try Row.fetchOne(db, sql: "SELECT \(Self.executionColumns) FROM automation_executions e WHERE e.id = ?", arguments: [id])
                .flatMap(Self.execution)
        }
    }

    static func insertLogs(_ db: Database, execution id: Int64, _ logs: [ExecutionLog]) throws {
        for log in logs {
            try db.cachedStatement(
                sql: """
                    INSERT INTO automation_logs (execution_id, at, node_id, action, outcome, message, detail)
                    VALUES (?, ?, ?, ?, ?, ?, ?)
                    """
            ).execute(arguments: [
                id, log.at.microseconds, log.nodeID, log.action, log.outcome.rawValue, log.message, log.detail?.serialized(),
            ])
        }
    }

    static func execution(_ row: Row) -> Execution? {
        guard let email = EmailAddress(row["contact_email"] as String), let status = ExecutionStatus(rawValue: row["status"])
        else { return nil }
        return Execution(
            id: row["id"], automationID: row["automation_id"], version: row["version"], contactEmail: email,
            triggerActivityID: row["trigger_activity_id"], status: status, currentNodeID: row["current_node_id"],
            wakeUpAt: (row["wake_up_at"] as Int64?).map(Timestamp.init(microseconds:)), dryRun: row["dry_run"],
            createdAt: Timestamp(microseconds: row["created_at"]),
            finishedAt: (row["finished_at"] as Int64?).map(Timestamp.init(microseconds:)))
    }
}

extension Array {
    /// Consecutive slices of at most `size` elements.
    fileprivate func slices(of size: Int) -> [ArraySlice<Element>] {
        stride(from: 0, to: count, by: size).map { self[$0..<Swift.min($0 + size, count)] }
    }
}
