import GRDB

/// Console sessions on SQLite.
extension SQLiteStore {
    public func createConsoleSession(tokenHash: String, _ session: ConsoleSession, at time: Timestamp) async throws {
        try await write { db in
            try db.execute(sql: "DELETE FROM console_sessions WHERE expires_at <= ?", arguments: [time.microseconds])
            try db.execute(
                sql: "INSERT INTO console_sessions (token_hash, key_hash, csrf_token, created_at, expires_at) VALUES (?, ?, ?, ?, ?)",
                arguments: [tokenHash, session.keyHash, session.csrfToken, time.microseconds, session.expiresAt.microseconds])
        }
    }

    public func consoleSession(tokenHash: String, now: Timestamp) async throws -> ConsoleSession? {
        try await read { db in
            try Row.fetchOne(
                db, sql: "SELECT key_hash, csrf_token, expires_at FROM console_sessions WHERE token_hash = ? AND expires_at > ?",
                arguments: [tokenHash, now.microseconds]
            ).map { row in
                ConsoleSession(keyHash: row[0], csrfToken: row[1], expiresAt: Timestamp(microseconds: row[2]))
            }
        }
    }

    public func deleteConsoleSession(tokenHash: String) async throws {
        try await write { db in try db.execute(sql: "DELETE FROM console_sessions WHERE token_hash = ?", arguments: [tokenHash]) }
    }
}
