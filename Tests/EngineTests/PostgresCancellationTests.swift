import CortexTestSupport
import Logging
import PostgresNIO
import Testing

@testable import Engine

/// Issue #14 item 6, carried over: "the PostgresNIO wait that did not honour cancellation under
/// a fully parallel test run" (commit 58afbce). The wait is `PostgresConnection.query`: in
/// PostgresNIO 1.33.2 it writes the query to the channel and awaits the answer's promise with no
/// cancellation handler, so a cancelled task goes on waiting until the server answers. Waiting
/// for a pooled connection does honour cancellation (`ConnectionRequest.leaseConnection`). These
/// tests pin both down against the real server, and check that `withDeadline` returns at its
/// deadline all the same (RELIABILITY.md, "Known issues").
@Suite(.enabled(if: StoreBackend.adminURL != nil, "needs CORTEX_TEST_DATABASE_URL"))
struct PostgresCancellationTests {
    static let logger = StoreBackend.quietLogger

    /// Two clients of at most one connection each on a fresh database, running for `body`: the
    /// one under test, and an observer that reads `pg_stat_activity` while the first is busy.
    static func withClient(_ body: @escaping @Sendable (PostgresClient, PostgresClient) async throws -> Void) async throws {
        try await StoreBackend.withFreshDatabase { settings in
            var configuration = PostgresClient.Configuration(
                host: settings.host, port: settings.port, username: settings.username, password: settings.password,
                database: settings.database, tls: .disable)
            configuration.options.maximumConnections = 1
            let client = PostgresClient(configuration: configuration, backgroundLogger: logger)
            let observer = PostgresClient(configuration: configuration, backgroundLogger: logger)
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { await client.run() }
                group.addTask { await observer.run() }
                defer { group.cancelAll() }
                try await body(client, observer)
            }
        }
    }

    /// Waits (bounded) until the server runs `sql` on a connection to this test's database (the
    /// suites run in parallel, and `pg_stat_activity` shows every database's backends).
    static func untilActive(_ sql: String, _ observer: PostgresClient) async throws {
        try await withDeadline(.seconds(20)) {
            while true {
                let rows = try await observer.query(
                    """
                    SELECT count(*)::int FROM pg_stat_activity
                    WHERE datname = current_database() AND query = \(sql) AND state = 'active'
                    """, logger: logger)
                if try await rows.decode(Int.self).first(where: { _ in true }) == 1 { return }
                try await Task.sleep(for: .milliseconds(10))  // A poll interval, bounded by the deadline.
            }
        }
    }

    /// The deadline as it was before 58afbce: a task group whose timer cancels the work. The
    /// group returns only when the work has honoured the cancellation.
    static func groupDeadline(_ limit: Duration, _ body: @escaping @Sendable () async throws -> Void) async throws {
        try await withThrowingTaskGroup(of: Bool.self) { group in
            group.addTask {
                try await body()
                return true
            }
            group.addTask {
                try await Task.sleep(for: limit)
                return false
            }
            defer { group.cancelAll() }
            guard try await group.next() == true else { throw DeadlineExceeded() }
        }
    }

    static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }

    /// The reproduction: a query the server holds (here `pg_sleep`, in the test run a lock or a
    /// busy server) under a 200 ms task-group deadline returns only when the server answers.
    /// If PostgresNIO learns to cancel a running query, this fails: then drop the known issue.
    @Test func aCancelledQueryReturnsOnlyWhenTheServerAnswers() async throws {
        try await Self.withClient { client, _ in
            let started = ContinuousClock.now
            await #expect(throws: (any Error).self) {
                try await Self.groupDeadline(.milliseconds(200)) {
                    _ = try await client.query("SELECT pg_sleep(3)", logger: Self.logger)
                }
            }
            let waited = ContinuousClock.now - started
            #expect(waited >= .milliseconds(2_500), "returned after \(Self.seconds(waited)) s")
        }
    }

    /// Waiting for a connection of a saturated pool is cancellable: under the same deadline the
    /// lease request leaves the queue at once, however long the connection stays busy.
    @Test func aCancelledWaitForAPooledConnectionReturnsAtOnce() async throws {
        try await Self.withClient { client, observer in
            let busy = Task { _ = try await client.query("SELECT pg_sleep(3)", logger: Self.logger) }
            // The one connection is taken once the server runs the sleep.
            try await Self.untilActive("SELECT pg_sleep(3)", observer)
            let started = ContinuousClock.now
            await #expect(throws: (any Error).self) {
                try await Self.groupDeadline(.milliseconds(200)) {
                    _ = try await client.query("SELECT 1", logger: Self.logger)
                }
            }
            let waited = ContinuousClock.now - started
            #expect(waited < .milliseconds(1_500), "returned after \(Self.seconds(waited)) s")
            _ = await busy.result
        }
    }

    /// What Cortex relies on: `withDeadline` returns at its deadline even though the query in it
    /// ignores the cancellation (its task runs on, unstructured, until the server answers).
    @Test func aDeadlineReturnsOnTimeWhileTheServerHoldsTheQuery() async throws {
        try await Self.withClient { client, _ in
            let started = ContinuousClock.now
            await #expect(throws: DeadlineExceeded.self) {
                try await withDeadline(.milliseconds(200)) {
                    _ = try await client.query("SELECT pg_sleep(10)", logger: Self.logger)
                }
            }
            let waited = ContinuousClock.now - started
            #expect(waited < .seconds(5), "returned after \(Self.seconds(waited)) s")
        }
    }
}
