/// A signed-in console session (ENGINE.md §6): which API key opened it (by its SHA-256 hash, so
/// revoking the key ends it), the token its writes must carry against cross-site requests, and
/// when it ends.
public struct ConsoleSession: Sendable, Equatable {
    public var keyHash: String
    public var csrfToken: String
    public var expiresAt: Timestamp

    public init(keyHash: String, csrfToken: String, expiresAt: Timestamp) {
        self.keyHash = keyHash
        self.csrfToken = csrfToken
        self.expiresAt = expiresAt
    }
}

/// Console sessions, found by the SHA-256 hash (hex) of their cookie's token: the token itself
/// is never stored, so a copy of the database signs nobody in.
public protocol ConsoleSessionRepository: Sendable {
    /// Saves a new session; sessions already ended are deleted on the way.
    func createConsoleSession(tokenHash: String, _ session: ConsoleSession, at time: Timestamp) async throws

    /// The session, unless there is none or it ended by `now`.
    func consoleSession(tokenHash: String, now: Timestamp) async throws -> ConsoleSession?

    /// Ends the session (signing out); nothing when there is none.
    func deleteConsoleSession(tokenHash: String) async throws
}
