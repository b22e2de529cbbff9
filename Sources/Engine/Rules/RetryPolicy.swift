/// When a temporarily failed message is tried again: exponential back-off with jitter, honouring
/// the provider's `Retry-After` when it asks for longer, up to a number of attempts.
public struct RetryPolicy: Sendable, Equatable {
    public var maxAttempts: Int
    public var baseSeconds: Double
    public var maxDelaySeconds: Double

    public init(maxAttempts: Int = 8, baseSeconds: Double = 5, maxDelaySeconds: Double = 3600) {
        self.maxAttempts = maxAttempts
        self.baseSeconds = baseSeconds
        self.maxDelaySeconds = maxDelaySeconds
    }

    /// The time of the next attempt after attempt number `attempt` (1-based) failed, or `nil`
    /// when attempts are exhausted. `jitter` in 0..<1 spreads retries (full jitter on half the
    /// delay), so many failed messages do not return at the same instant.
    public func nextAttempt(after attempt: Int, now: Timestamp, retryAfter: Duration?, jitter: Double) -> Timestamp? {
        guard attempt < maxAttempts else { return nil }
        let exponential = min(maxDelaySeconds, baseSeconds * Double(1 << min(attempt - 1, 30)))
        var delay = exponential / 2 + exponential / 2 * min(max(jitter, 0), 1)
        if let retryAfter {
            let asked = Double(retryAfter.components.seconds) + Double(retryAfter.components.attoseconds) / 1e18
            delay = max(delay, asked)
        }
        return Timestamp(microseconds: now.microseconds + Int64(delay * 1_000_000))
    }
}
