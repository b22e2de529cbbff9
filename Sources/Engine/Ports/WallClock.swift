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
public final class ManualWallClock: WallClock, @unchecked Sendable {
    // A lock rather than an actor: `now()` is synchronous by design.
    private let lock = SpinLock()
    private var current: Timestamp

    public init(_ start: Timestamp) {
        self.current = start
    }

    public func now() -> Timestamp {
        lock.withLock { current }
    }

    public func set(_ time: Timestamp) {
        lock.withLock { current = time }
    }

    public func advance(seconds: Int64) {
        lock.withLock { current = current.adding(seconds: seconds) }
    }
}

/// A minimal mutex over `pthread_mutex_t`, so Engine needs no extra dependency for one lock.
final class SpinLock: @unchecked Sendable {
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)

    init() {
        pthread_mutex_init(mutex, nil)
    }

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }

    func withLock<T>(_ body: () throws -> T) rethrows -> T {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body()
    }
}
