import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The source of "now" for everything that stamps or compares times.
///
/// Injected everywhere so that tests fix the time instead of sleeping on it.
public protocol WallClock: Sendable {
    func now() -> Timestamp
}

/// The real clock of the machine.
public struct SystemWallClock: WallClock {
    public init() {}

    public func now() -> Timestamp {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        return Timestamp(microseconds: Int64(spec.tv_sec) * 1_000_000 + Int64(spec.tv_nsec) / 1_000)
    }
}

/// A clock that stands still until told to move; for tests.
public final class ManualWallClock: WallClock, Sendable {
    private let current: Mutex<Timestamp>

    public init(_ start: Timestamp) {
        current = Mutex(start)
    }

    public func now() -> Timestamp {
        current.withLock { $0 }
    }

    public func set(_ time: Timestamp) {
        current.withLock { $0 = time }
    }

    public func advance(seconds: Int64) {
        current.withLock { $0 = $0.adding(seconds: seconds) }
    }
}
