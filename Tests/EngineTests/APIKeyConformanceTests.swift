import CortexTestSupport
import Testing

@testable import Engine

/// Stored API keys on every store: listed newest first with their hints, revoked once (a second
/// revocation keeps the first time), and no longer found by their hash once revoked.
@Suite struct APIKeyConformanceTests {
    static let t0 = Timestamp.at("2026-11-29T12:00:00Z")

    @Test(arguments: StoreBackend.enabled)
    func keysAreListedNewestFirstAndARevokedKeyIsNoLongerFound(backend: StoreBackend) async throws {
        try await backend.withStore { store in
            #expect(try await store.apiKeys().isEmpty)
            let first = try await store.createAPIKey(name: "shop", keyHash: "hash-1", hint: "abcd", at: Self.t0)
            let second = try await store.createAPIKey(name: "console", keyHash: "hash-2", hint: nil, at: Self.t0.adding(seconds: 60))
            #expect(first == APIKey(id: first.id, name: "shop", hint: "abcd", createdAt: Self.t0, revokedAt: nil))
            #expect(second.id > first.id && second.hint == nil)
            #expect(try await store.apiKeys() == [second, first])
            #expect(try await store.apiKeyExists(keyHash: "hash-1"))
            #expect(try await store.apiKeyExists(keyHash: "hash-2"))

            let revokedAt = Self.t0.adding(seconds: 3600)
            let revoked = try #require(try await store.revokeAPIKey(id: first.id, at: revokedAt))
            #expect(revoked == APIKey(id: first.id, name: "shop", hint: "abcd", createdAt: Self.t0, revokedAt: revokedAt))
            #expect(try await store.apiKeyExists(keyHash: "hash-1") == false)
            #expect(try await store.apiKeyExists(keyHash: "hash-2"), "only the revoked key stops")

            // Again: a no-op that answers the row with its first revocation time.
            #expect(try await store.revokeAPIKey(id: first.id, at: revokedAt.adding(seconds: 60)) == revoked)
            #expect(try await store.apiKeys() == [second, revoked])
            #expect(try await store.revokeAPIKey(id: second.id + 100, at: revokedAt) == nil)
            #expect(try await store.apiKeys() == [second, revoked], "an unknown id changes nothing")
        }
    }

    /// A row written before `v16_api_key_revocation` (no hint, never revoked) lists with a null
    /// hint and still opens `/v1`.
    @Test(arguments: StoreBackend.enabled)
    func aKeyStoredBeforeHintsListsWithoutOneAndStillWorks(backend: StoreBackend) async throws {
        try await backend.withStore { store in
            let raw = try #require(store as? any GroupCommittingStore)
            let createdAt = backend == .sqlite ? String(Self.t0.microseconds) : "'2026-11-29T12:00:00Z'"
            try await raw.execute(rawSQL: "INSERT INTO api_keys (name, key_hash, created_at) VALUES ('old', 'hash-0', \(createdAt))")
            let old = try #require(try await store.apiKeys().first)
            #expect(old == APIKey(id: old.id, name: "old", hint: nil, createdAt: Self.t0, revokedAt: nil))
            #expect(try await store.apiKeyExists(keyHash: "hash-0"))
        }
    }

    @Test(arguments: StoreBackend.enabled)
    func aRevokedKeysHashCannotBeStoredAgain(backend: StoreBackend) async throws {
        try await backend.withStore { store in
            let key = try await store.createAPIKey(name: "shop", keyHash: "hash-1", hint: "abcd", at: Self.t0)
            _ = try await store.revokeAPIKey(id: key.id, at: Self.t0)
            // Revocation is for good: the same key cannot be brought back under a new row.
            await #expect(throws: StoreError.self) {
                try await store.createAPIKey(name: "again", keyHash: "hash-1", hint: "abcd", at: Self.t0)
            }
            #expect(try await store.apiKeyExists(keyHash: "hash-1") == false)
            #expect(try await store.apiKeys().count == 1)
        }
    }
}
