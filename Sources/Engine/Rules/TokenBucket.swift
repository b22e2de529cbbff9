/// A token bucket pacing sends to a rate (messages per second), with a burst of half a second's
/// worth. The rate drops when the provider pushes back and climbs back slowly (AIMD), never
/// above the configured rate. A plain value: no clock, no sleeping; the sender asks how long to
/// wait and does the waiting.
public struct TokenBucket: Sendable, Equatable {
    public let configuredRate: Double
    public private(set) var rate: Double
    private var tokens: Double
    private var updatedAt: Timestamp?

    public init(rate: Double) {
        configuredRate = max(rate, 0.001)
        self.rate = configuredRate
        tokens = max(configuredRate / 2, 1)
    }

    /// Half a second's worth. The provider counts arrivals, not the moments tokens were taken,
    /// and a request reaches it a few milliseconds early or late (a new connection, two lanes
    /// sending, scheduling); with a full second of burst that jitter showed a window holding a
    /// few messages more than the rate times its length plus one second's worth. Half a second
    /// of headroom absorbs it; the long-run rate is the same.
    private var capacity: Double { max(rate / 2, 1) }

    private mutating func refill(_ now: Timestamp) {
        if let updatedAt {
            let elapsed = Double(now.microseconds - updatedAt.microseconds) / 1_000_000
            tokens = min(capacity, tokens + max(elapsed, 0) * rate)
        }
        updatedAt = now
    }

    /// Takes `count` tokens (going into debt if need be) and returns how long to wait before
    /// sending them: zero when they were available.
    public mutating func take(_ count: Int, now: Timestamp) -> Duration {
        refill(now)
        tokens -= Double(count)
        guard tokens < 0 else { return .zero }
        return .microseconds(Int64((-tokens / rate * 1_000_000).rounded(.up)))
    }

    /// The provider said slow down: halve the rate (to at least 0.1 message per second).
    public mutating func backOff() {
        rate = max(rate / 2, 0.1)
        tokens = min(tokens, capacity)
    }

    /// A batch went through: recover a tenth of the configured rate.
    public mutating func recover() {
        rate = min(configuredRate, rate + configuredRate / 10)
    }
}
