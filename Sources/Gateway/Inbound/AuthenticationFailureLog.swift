import Engine
import Logging
import Synchronization

/// The log line of failed authentications: at most one per source per interval, carrying how
/// many failures of that source it stands for, so a flood of bad requests cannot flood the log.
/// `/metrics` still counts every failure.
final class AuthenticationFailureLog: Sendable {
    /// One line per source per minute tells an operator that a sender is misconfigured or
    /// hostile; more says nothing new.
    static let intervalSeconds: Int64 = 60

    private let throttle: Mutex<LogThrottle>

    init(intervalSeconds: Int64 = AuthenticationFailureLog.intervalSeconds) {
        throttle = Mutex(LogThrottle(intervalSeconds: intervalSeconds))
    }

    /// Logs this failure of `source` unless a line for it was written within the interval. The
    /// line names the failure, never a credential; `suppressed` counts the failures of `source`
    /// since the previous line that were not logged.
    func record(source: String, reason: String, detail: String, at now: Timestamp, logger: Logger) {
        guard let suppressed = throttle.withLock({ $0.record(source, at: now) }) else { return }
        logger.notice(
            "inbound authentication failed",
            metadata: ["source": "\(source)", "reason": "\(reason)", "detail": "\(detail)", "suppressed": "\(suppressed)"])
    }
}
