import PostgresNIO

/// Console sessions on PostgreSQL.
extension PostgresStore {
    public func createConsoleSession(tokenHash: String, _ session: ConsoleSession, at time: Timestamp) async throws {
        let logger = logger
        try await mapped { [self] in
            try await client.withTransaction(logger: logger) { connection in
                try await connection.query(
                    "DELETE FROM console_sessions WHERE expires_at <= cortex_ts(\(time.microseconds))", logger: logger)
                try await connection.query(
                    """
                    INSERT INTO console_sessions (token_hash, key_hash, csrf_token, created_at, expires_at)
                    VALUES (\(tokenHash), \(session.keyHash), \(session.csrfToken), cortex_ts(\(time.microseconds)),
                            cortex_ts(\(session.expiresAt.microseconds)))
                    """, logger: logger)
            }
        }
    }

    public func consoleSession(tokenHash: String, now: Timestamp) async throws -> ConsoleSession? {
        try await mapped { [self] in
            try await client.query(
                """
                SELECT key_hash, csrf_token, cortex_us(expires_at) FROM console_sessions
                WHERE token_hash = \(tokenHash) AND expires_at > cortex_ts(\(now.microseconds))
                """, logger: logger
            ).decode((String, String, Int64).self).collectAll().first.map { row in
                ConsoleSession(keyHash: row.0, csrfToken: row.1, expiresAt: Timestamp(microseconds: row.2))
            }
        }
    }

    public func deleteConsoleSession(tokenHash: String) async throws {
        try await mapped { [self] in
            _ = try await client.query("DELETE FROM console_sessions WHERE token_hash = \(tokenHash)", logger: logger)
        }
    }
}
