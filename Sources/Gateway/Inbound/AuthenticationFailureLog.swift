import Engine
import Logging

/// The log line of failed authentications: at most one per source per interval, carrying how
/// many failures of that source it stands for, so a flood of bad requests cannot flood the log.
/// `/metrics` still counts every failure.
final class AuthenticationFailureLog: Sendable {
    /// One line per source per minute tells an operator that a sender is misconfigured or
    /// hostile; more says nothing new.
    static let intervalSeconds: Int64 = 60

    private let log: ThrottledLog

    init(intervalSeconds: Int64 = AuthenticationFailureLog.intervalSeconds) {
        log = ThrottledLog(intervalSeconds: intervalSeconds)
    }

    /// Logs this failure of `source` unless a line for it was written within the interval. The
    /// line names the failure, never a credential; `suppressed` counts the failures of `source`
    /// since the previous line that were not logged.
    func record(source: String, reason: String, detail: String, at now: Timestamp, logger: Logger) {
        log.record(source, at: now) { suppressed in
            logger.notice(
                "inbound authentication failed",
                metadata: ["source": "\(source)", "reason": "\(reason)", "detail": "\(detail)", "suppressed": "\(suppressed)"])
        }
    }
}
