/// A stored API key as it may be shown: never the key nor its hash, only what tells keys apart.
public struct APIKey: Sendable, Equatable {
    public var id: Int64
    public var name: String
    /// The key's last 4 characters (`nil` for keys made before hints were kept). Not secret: 4 of
    /// a key's 43 random characters leave the rest as hard to guess as ever.
    public var hint: String?
    public var createdAt: Timestamp
    /// When the key stopped opening `/v1` (`nil` while it is valid).
    public var revokedAt: Timestamp?

    public init(id: Int64, name: String, hint: String?, createdAt: Timestamp, revokedAt: Timestamp? = nil) {
        self.id = id
        self.name = name
        self.hint = hint
        self.createdAt = createdAt
        self.revokedAt = revokedAt
    }
}

/// API keys made with `cortex keys create` or `POST /v1/keys`, kept as SHA-256 hashes (hex).
/// Keys from `CORTEX_API_KEYS` are configuration, not rows, and never pass through here.
public protocol APIKeyRepository: Sendable {
    /// Stores a new key's hash and hint under `name`; the key itself is never stored. A hash
    /// stored before is a `StoreError.conflict`.
    @discardableResult
    func createAPIKey(name: String, keyHash: String, hint: String?, at time: Timestamp) async throws -> APIKey

    /// Every stored key, revoked ones included, newest first.
    func apiKeys() async throws -> [APIKey]

    /// Revokes key `id` at `time`. Revoking a revoked key changes nothing (it keeps its first
    /// `revokedAt`) and answers it as it is; `nil` when there is no key `id`.
    func revokeAPIKey(id: Int64, at time: Timestamp) async throws -> APIKey?

    /// Whether a stored key that is not revoked has this hash.
    func apiKeyExists(keyHash: String) async throws -> Bool
}
