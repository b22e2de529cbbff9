import PostgresNIO

/// Stored API keys on PostgreSQL.
extension PostgresStore {
    private static let apiKeyColumns = "id, name, hint, cortex_us(created_at), cortex_us(revoked_at)"
    private typealias APIKeyRow = (Int64, String, String?, Int64, Int64?)

    @discardableResult
    public func createAPIKey(name: String, keyHash: String, hint: String?, at time: Timestamp) async throws -> APIKey {
        let row = try await mapped { [self] in
            try await client.query(
                """
                INSERT INTO api_keys (name, key_hash, hint, created_at)
                VALUES (\(name), \(keyHash), \(hint), cortex_ts(\(time.microseconds)))
                RETURNING \(unescaped: Self.apiKeyColumns)
                """, logger: logger
            ).decode(APIKeyRow.self).first { _ in true }
        }
        guard let row else { throw StoreError.unavailable("API key insert returned no row") }
        return Self.apiKey(row)
    }

    public func apiKeys() async throws -> [APIKey] {
        try await mapped { [self] in
            try await client.query("SELECT \(unescaped: Self.apiKeyColumns) FROM api_keys ORDER BY id DESC", logger: logger)
                .decode(APIKeyRow.self).collectAll().map(Self.apiKey)
        }
    }

    public func revokeAPIKey(id: Int64, at time: Timestamp) async throws -> APIKey? {
        try await mapped { [self] in
            // COALESCE keeps the first revocation's time: revoking again changes nothing.
            try await client.query(
                """
                UPDATE api_keys SET revoked_at = COALESCE(revoked_at, cortex_ts(\(time.microseconds))) WHERE id = \(id)
                RETURNING \(unescaped: Self.apiKeyColumns)
                """, logger: logger
            ).decode(APIKeyRow.self).first { _ in true }.map(Self.apiKey)
        }
    }

    public func apiKeyExists(keyHash: String) async throws -> Bool {
        try await mapped { [self] in
            try await client.query("SELECT 1 FROM api_keys WHERE key_hash = \(keyHash) AND revoked_at IS NULL", logger: logger)
                .decode(Int32.self).first { _ in true } != nil
        }
    }

    private static func apiKey(_ row: APIKeyRow) -> APIKey {
        APIKey(
            id: row.0, name: row.1, hint: row.2, createdAt: Timestamp(microseconds: row.3),
            revokedAt: row.4.map(Timestamp.init(microseconds:)))
    }
}
