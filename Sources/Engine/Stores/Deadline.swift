/// Thrown when a database call does not finish in time.
public struct DeadlineExceeded: Error, Sendable {}

/// Runs `body`, cancelling it and throwing ``DeadlineExceeded`` after `limit`.
///
/// A connection pool waits for a lost server by design (it retries with back-off for up to a
/// minute); a request handler must instead answer 503 promptly so the sender retries later.
package func withDeadline<T: Sendable>(
    _ limit: Duration, _ body: @escaping @Sendable () async throws -> T
) async throws -> T {
    try await withThrowingTaskGroup(of: T?.self) { group in
        group.addTask { try await body() }
        group.addTask {
            try await Task.sleep(for: limit)
            return nil
        }
        defer { group.cancelAll() }
        guard let first = try await group.next(), let value = first else { throw DeadlineExceeded() }
        return value
    }
}
