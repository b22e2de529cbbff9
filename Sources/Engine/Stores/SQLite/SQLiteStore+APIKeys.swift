import GRDB

/// Stored API keys on SQLite.
extension SQLiteStore {
    private static let apiKeyColumns = "id, name, hint, created_at, revoked_at"

    @discardableResult
    public func createAPIKey(name: String, keyHash: String, hint: String?, at time: Timestamp) async throws -> APIKey {
        try await write { db in
            let row = try Row.fetchOne(
                db,
                sql: "INSERT INTO api_keys (name, key_hash, hint, created_at) VALUES (?, ?, ?, ?) RETURNING \(Self.apiKeyColumns)",
                arguments: [name, keyHash, hint, time.microseconds])
            guard let row else { throw StoreError.unavailable("API key insert returned no row") }
            return Self.apiKey(row)
        }
    }

    public func apiKeys() async throws -> [APIKey] {
        try await read { db in
            try Row.fetchAll(db, sql: "SELECT \(Self.apiKeyColumns) FROM api_keys ORDER BY id DESC").map(Self.apiKey)
        }
    }

    public func revokeAPIKey(id: Int64, at time: Timestamp) async throws -> APIKey? {
        try await write { db in
            // COALESCE keeps the first revocation's time: revoking again changes nothing.
            try Row.fetchOne(
                db,
                sql: "UPDATE api_keys SET revoked_at = COALESCE(revoked_at, ?) WHERE id = ? RETURNING \(Self.apiKeyColumns)",
                arguments: [time.microseconds, id]
            ).map(Self.apiKey)
        }
    }

    public func apiKeyExists(keyHash: String) async throws -> Bool {
        try await read { db in
            try Int.fetchOne(
                db.cachedStatement(sql: "SELECT 1 FROM api_keys WHERE key_hash = ? AND revoked_at IS NULL"),
                arguments: [keyHash]) != nil
        }
    }

    private static func apiKey(_ row: Row) -> APIKey {
        APIKey(
            id: row["id"], name: row["name"], hint: row["hint"], createdAt: Timestamp(microseconds: row["created_at"]),
            revokedAt: (row["revoked_at"] as Int64?).map(Timestamp.init(microseconds:)))
    }
}
