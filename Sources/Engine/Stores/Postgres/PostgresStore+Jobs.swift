import PostgresNIO

extension PostgresStore {
    public func enqueueJob(kind: String, payload: String, runAt: Timestamp) async throws -> Int64 {
        let id = try await mapped { [self] in
            try await client.withTransaction(logger: logger) { connection in
                let id = try await connection.query(
                    """
                    INSERT INTO cortex_jobs (kind, payload, run_at, created_at)
                    VALUES (\(kind), \(payload)::jsonb, cortex_ts(\(runAt.microseconds)), now())
                    RETURNING id
                    """, logger: logger
                ).decode(Int64.self).first { _ in true }
                // Delivered to every listening instance when the transaction commits.
                try await connection.query("SELECT pg_notify(\(WorkTopic.jobs.channel), \(kind))", logger: logger)
                guard let id else { throw StoreError.unavailable("job insert returned no id") }
                return id
            }
        }
        workSignals[.jobs].notify()
        return id
    }

    public func claimJobs(kind: String, limit: Int, now: Timestamp, leaseSeconds: Int64) async throws -> [Job] {
        let rows = try await mapped { [self] in
            try await client.query(
                """
                UPDATE cortex_jobs SET state = 'running', attempts = attempts + 1,
                    locked_until = cortex_ts(\(now.adding(seconds: leaseSeconds).microseconds))
                WHERE id IN (
                    SELECT id FROM cortex_jobs
                    WHERE kind = \(kind) AND run_at <= cortex_ts(\(now.microseconds))
                      AND (state = 'available' OR (state = 'running' AND locked_until <= cortex_ts(\(now.microseconds))))
                    ORDER BY run_at, id
                    LIMIT \(limit)
                    FOR UPDATE SKIP LOCKED)
                RETURNING id, kind, payload::text, attempts, cortex_us(run_at)
                """, logger: logger
            ).decode((Int64, String, String, Int32, Int64).self).collectAll()
        }
        return rows.map { Job(id: $0.0, kind: $0.1, payload: $0.2, attempts: Int($0.3), runAt: Timestamp(microseconds: $0.4)) }
            .sorted { ($0.runAt, $0.id) < ($1.runAt, $1.id) }
    }

    public func completeJob(id: Int64, at time: Timestamp) async throws {
        try await mapped { [self] in
            try await client.query(
                """
                UPDATE cortex_jobs SET state = 'completed', completed_at = cortex_ts(\(time.microseconds)),
                    locked_until = NULL
                WHERE id = \(id)
                """, logger: logger)
        }
    }

    public func nextJobDue(kind: String) async throws -> Timestamp? {
        try await mapped { [self] in
            try await client.query(
                """
                SELECT cortex_us(MIN(CASE WHEN state = 'running' THEN locked_until ELSE run_at END))
                FROM cortex_jobs WHERE kind = \(kind) AND state <> 'completed'
                """, logger: logger
            ).decode(Int64?.self).first { _ in true }.flatMap { $0 }.map(Timestamp.init(microseconds:))
        }
    }
}
