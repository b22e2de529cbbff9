/// A unit of background work in `cortex_jobs`, claimed by one worker at a time.
public struct Job: Sendable, Equatable {
    public var id: Int64
    /// Which worker handles it, e.g. `send_email`.
    public var kind: String
    /// JSON object text.
    public var payload: String
    /// How many times it has been claimed, this claim included.
    public var attempts: Int
    public var runAt: Timestamp

    public init(id: Int64, kind: String, payload: String, attempts: Int, runAt: Timestamp) {
        self.id = id
        self.kind = kind
        self.payload = payload
        self.attempts = attempts
        self.runAt = runAt
    }
}
