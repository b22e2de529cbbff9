import Synchronization

/// Thrown when a database call does not finish in time.
public struct DeadlineExceeded: Error, Sendable {}

/// Runs `body`, throwing ``DeadlineExceeded`` after `limit` and cancelling `body`.
///
/// A connection pool waits for a lost server by design (it retries with back-off for up to a
/// minute); a request handler must instead answer 503 promptly so the sender retries later. A
/// task group would wait for `body` to honour the cancellation, and a driver that is slow to do
/// so (a connection attempt in flight) would stretch the deadline; so `body` runs in a task of
/// its own that is cancelled, and this call returns at the deadline whatever `body` does.
package func withDeadline<T: Sendable>(
    _ limit: Duration, _ body: @escaping @Sendable () async throws -> T
) async throws -> T {
    let race = DeadlineRace<T>()
    let work = Task { try await body() }
    return try await withTaskCancellationHandler {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
            race.start(continuation)
            let timer = Task {
                try await Task.sleep(for: limit)
                if race.finish(with: .failure(DeadlineExceeded())) { work.cancel() }
            }
            Task {
                let result = await work.result
                _ = race.finish(with: result)
                timer.cancel()
            }
        }
    } onCancel: {
        work.cancel()
    }
}

/// The caller's continuation, resumed once by whichever of the work and the timer ends first.
private final class DeadlineRace<T: Sendable>: Sendable {
    private let slot = Mutex<CheckedContinuation<T, any Error>?>(nil)

    func start(_ continuation: CheckedContinuation<T, any Error>) {
        slot.withLock { $0 = continuation }
    }

    /// True when this call resumed the caller.
    func finish(with result: Result<T, any Error>) -> Bool {
        guard let continuation = slot.withLock({ $0.take() }) else { return false }
        continuation.resume(with: result)
        return true
    }
}
