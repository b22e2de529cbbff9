import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The source of "now" for everything that stamps or compares times, and of sleeping until a
/// time: workers sleep on the clock, never on `Task.sleep`, so tests move time instead of
/// waiting for it.
public protocol WallClock: Sendable {
    func now() -> Timestamp

    /// Returns once this clock reads `deadline` or later (at once if it already does); throws
    /// `CancellationError` when the task is cancelled first.
    func sleep(until deadline: Timestamp) async throws
}

extension WallClock {
    /// Sleeps for `duration` from now by this clock.
    public func sleep(for duration: Duration) async throws {
        try await sleep(until: now().adding(duration))
    }
}

/// The real clock of the machine.
public struct SystemWallClock: WallClock {
    public init() {}

    public func now() -> Timestamp {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        return Timestamp(microseconds: Int64(spec.tv_sec) * 1_000_000 + Int64(spec.tv_nsec) / 1_000)
    }

    public func sleep(until deadline: Timestamp) async throws {
        let remaining = deadline.microseconds - now().microseconds
        if remaining > 0 { try await Task.sleep(for: .microseconds(remaining)) }
        try Task.checkCancellation()
    }
}

/// A clock that stands still until told to move; for tests. Moving it wakes, in deadline order,
/// every sleeper whose deadline it reaches, so a test decides exactly when a delay fires.
public final class ManualWallClock: WallClock, Sendable {
    private struct Sleeper {
        let deadline: Timestamp
        let continuation: CheckedContinuation<Void, any Error>
    }

    private struct State {
        var now: Timestamp
        var sleepers: [Int: Sleeper] = [:]
        var nextID = 0
    }

    private let state: Mutex<State>

    public init(_ start: Timestamp) {
        state = Mutex(State(now: start))
    }

    public func now() -> Timestamp {
        state.withLock { $0.now }
    }

    /// How many tasks sleep on this clock now: a test waits for a worker to be asleep before
    /// it moves time, so the move is not lost.
    public var sleeperCount: Int {
        state.withLock { $0.sleepers.count }
    }

    /// The earliest deadline anyone sleeps until.
    public var earliestDeadline: Timestamp? {
        state.withLock { $0.sleepers.values.map(\.deadline).min() }
    }

    public func sleep(until deadline: Timestamp) async throws {
        let id = state.withLock { state -> Int in
            state.nextID += 1
            return state.nextID
        }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let verdict = state.withLock { state -> Result<Void, any Error>? in
                    if Task.isCancelled { return .failure(CancellationError()) }
                    if state.now >= deadline { return .success(()) }
                    state.sleepers[id] = Sleeper(deadline: deadline, continuation: continuation)
                    return nil
                }
                if let verdict { continuation.resume(with: verdict) }
            }
        } onCancel: {
            let sleeper = state.withLock { $0.sleepers.removeValue(forKey: id) }
            sleeper?.continuation.resume(throwing: CancellationError())
        }
    }

    /// Moves the clock to `time` (also backwards) and wakes the sleepers it reaches.
    public func set(_ time: Timestamp) {
        move { _ in time }
    }

    public func advance(seconds: Int64) {
        move { $0.adding(seconds: seconds) }
    }

    public func advance(_ duration: Duration) {
        move { $0.adding(duration) }
    }

    private func move(_ change: (Timestamp) -> Timestamp) {
        let due = state.withLock { state -> [Sleeper] in
            state.now = change(state.now)
            let now = state.now
            let due = state.sleepers.filter { $0.value.deadline <= now }
            for id in due.keys { state.sleepers[id] = nil }
            return due.values.sorted { $0.deadline < $1.deadline }
        }
        for sleeper in due { sleeper.continuation.resume() }
    }
}
