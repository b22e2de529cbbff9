import Synchronization

/// A worker's pause between passes that a test releases by hand, so a test steps a
/// long-running loop without sleeping. Each call records its duration and waits for
/// `release()`; like `Task.sleep`, it throws when its task is cancelled.
public final class ManualPause: Sendable {
    private struct State {
        var durations: [Duration] = []
        var waiter: CheckedContinuation<Void, any Error>?
        var releases = 0
    }

    private let state = Mutex(State())

    public init() {}

    /// Every duration asked for so far, one per call.
    public var durations: [Duration] { state.withLock { $0.durations } }

    public func callAsFunction(_ duration: Duration) async throws {
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                // Under the lock, so a cancellation either is seen here or finds the waiter.
                let now: Result<Void, any Error>? = state.withLock { state in
                    state.durations.append(duration)
                    if Task.isCancelled { return .failure(CancellationError()) }
                    if state.releases > 0 {
                        state.releases -= 1
                        return .success(())
                    }
                    state.waiter = continuation
                    return nil
                }
                if let now { continuation.resume(with: now) }
            }
        } onCancel: {
            let waiter = state.withLock { state in
                defer { state.waiter = nil }
                return state.waiter
            }
            waiter?.resume(throwing: CancellationError())
        }
    }

    /// Ends the current pause, or the next one if none is waiting.
    public func release() {
        let waiter = state.withLock { state -> CheckedContinuation<Void, any Error>? in
            guard let waiter = state.waiter else {
                state.releases += 1
                return nil
            }
            state.waiter = nil
            return waiter
        }
        waiter?.resume()
    }
}
