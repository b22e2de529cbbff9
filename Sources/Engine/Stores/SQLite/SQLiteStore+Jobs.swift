import GRDB

extension SQLiteStore {
    public func enqueueJob(kind: String, payload: String, runAt: Timestamp) async throws -> Int64 {
        let id = try await write { db in
            try db.execute(
                sql: "INSERT INTO cortex_jobs (kind, payload, run_at, created_at) VALUES (?, ?, ?, ?)",
                arguments: [kind, payload, runAt.microseconds, runAt.microseconds])
            return db.lastInsertedRowID
        }
        workSignals[.jobs].notify()
        return id
    }

    public func claimJobs(kind: String, limit: Int, now: Timestamp, leaseSeconds: Int64) async throws -> [Job] {
        // SQLite has one writer at a time, so select-then-update inside one statement is a claim.
        try await write { db in
            try Row.fetchAll(
                db.cachedStatement(
                    sql: """
                        UPDATE cortex_jobs SET state = 'running', attempts = attempts + 1, locked_until = ?
                        WHERE id IN (
                            SELECT id FROM cortex_jobs
                            WHERE kind = ? AND run_at <= ?
                              AND (state = 'available' OR (state = 'running' AND locked_until <= ?))
                            ORDER BY run_at, id LIMIT ?)
                        RETURNING id, kind, payload, attempts, run_at
                        """),
                arguments: [now.adding(seconds: leaseSeconds).microseconds, kind, now.microseconds, now.microseconds, limit]
            ).map { row in
                Job(id: row["id"], kind: row["kind"], payload: row["payload"], attempts: row["attempts"],
                    runAt: Timestamp(microseconds: row["run_at"]))
            }.sorted { ($0.runAt, $0.id) < ($1.runAt, $1.id) }
        }
    }

    public func completeJob(id: Int64, at time: Timestamp) async throws {
        try await write { db in
            try db.execute(
                sql: "UPDATE cortex_jobs SET state = 'completed', completed_at = ?, locked_until = NULL WHERE id = ?",
                arguments: [time.microseconds, id])
        }
    }

    public func nextJobDue(kind: String) async throws -> Timestamp? {
        try await read { db in
            try Int64.fetchOne(
                db,
                sql: """
                    SELECT MIN(CASE WHEN state = 'running' THEN locked_until ELSE run_at END)
                    FROM cortex_jobs WHERE kind = ? AND state <> 'completed'
                    """,
                arguments: [kind]
            ).map(Timestamp.init(microseconds:))
        }
    }
}
