/// Decides which of a run of repeated events gets a log line: the first one of each key, then
/// at most one per interval, and that line tells how many were left out since the previous one.
///
/// A flood of bad requests would otherwise write one line each, filling the disk through the
/// log instead of the database. Keys should come from a small fixed set (source names): the
/// throttle remembers one entry per key.
public struct LogThrottle: Sendable {
    private struct Window: Sendable {
        var loggedAt: Timestamp
        var suppressed: Int
    }

    public let intervalSeconds: Int64
    private var windows: [String: Window] = [:]

    public init(intervalSeconds: Int64) {
        self.intervalSeconds = intervalSeconds
    }

    /// Records one event of `key` at `now`. Answers `nil` when it should not be logged, else
    /// how many events of `key` were not logged since the previous line.
    public mutating func record(_ key: String, at now: Timestamp) -> Int? {
        if let window = windows[key], window.loggedAt <= now, now < window.loggedAt.adding(seconds: intervalSeconds) {
            windows[key]?.suppressed += 1
            return nil
        }
        // A clock set back (before the last line) opens a new window rather than silencing the
        // key until the clock catches up.
        let suppressed = windows[key]?.suppressed ?? 0
        windows[key] = Window(loggedAt: now, suppressed: 0)
        return suppressed
    }
}
