import Engine
import Synchronization

/// A log line that repeats at most once per key per interval (`LogThrottle`), shared by the
/// requests that may write it. Each line carries how many it stands for, so a flood of the same
/// failure (bad credentials, a database that is down) cannot flood the log.
final class ThrottledLog: Sendable {
    private let throttle: Mutex<LogThrottle>

    init(intervalSeconds: Int64) {
        throttle = Mutex(LogThrottle(intervalSeconds: intervalSeconds))
    }

    /// Calls `write` with how many events of `key` were left out since its previous line, unless
    /// a line for `key` was written within the interval.
    func record(_ key: String, at now: Timestamp, _ write: (_ suppressed: Int) -> Void) {
        guard let suppressed = throttle.withLock({ $0.record(key, at: now) }) else { return }
        write(suppressed)
    }
}
