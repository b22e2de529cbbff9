/// A UTC instant with microsecond precision.
///
/// Cortex stores every time as integer microseconds since the Unix epoch (SQLite) or as
/// `timestamptz` (PostgreSQL), which also has microsecond precision, so a value survives a round
/// trip through either store exactly. `Date` would round through a `Double`.
public struct Timestamp: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// Microseconds since 1970-01-01T00:00:00Z.
    public var microseconds: Int64

    public init(microseconds: Int64) {
        self.microseconds = microseconds
    }

    public init(seconds: Int64) {
        self.microseconds = seconds * 1_000_000
    }

    /// Whole seconds since the epoch, rounded towards negative infinity.
    public var seconds: Int64 {
        microseconds >= 0 ? microseconds / 1_000_000 : (microseconds - 999_999) / 1_000_000
    }

    public func adding(seconds: Int64) -> Timestamp {
        Timestamp(microseconds: microseconds + seconds * 1_000_000)
    }

    /// This time plus `duration`, rounded up to the microsecond (a sleep never ends early).
    public func adding(_ duration: Duration) -> Timestamp {
        let (seconds, attoseconds) = duration.components
        let micros = attoseconds / 1_000_000_000_000 + (attoseconds % 1_000_000_000_000 > 0 ? 1 : 0)
        return Timestamp(microseconds: microseconds + seconds * 1_000_000 + micros)
    }

    public static func < (lhs: Timestamp, rhs: Timestamp) -> Bool {
        lhs.microseconds < rhs.microseconds
    }

    /// RFC 3339 in UTC with six fractional digits, e.g. `2026-11-26T15:58:52.000000Z`.
    public var description: String { RFC3339.format(self) }
}
