import CortexTestSupport
import Testing

@testable import Engine

/// Work added on one instance wakes the workers of another, each kind on its own channel.
@Suite(.enabled(if: StoreBackend.adminURL != nil, "needs CORTEX_TEST_DATABASE_URL"))
struct PostgresWorkNotificationTests {
    @Test func workAddedOnOneInstanceWakesWorkersOnAnother() async throws {
        try await StoreBackend.withFreshDatabase { settings in
            let first = PostgresStore(settings: settings, logger: StoreBackend.quietLogger)
            let second = PostgresStore(settings: settings, logger: StoreBackend.quietLogger)
            try await first.withServicesRunning {
                try await first.migrate()
                try await second.withServicesRunning {
                    // The listener signals every topic once when its LISTENs are in place.
                    for topic in WorkTopic.allCases {
                        try await withDeadline(.seconds(10)) { await second.workSignals[topic].wait() }
                    }
                    // Mail travels on its own channel, to the sender's signal alone ...
                    _ = try await first.enqueueEmail(EmailLedgerConformanceTests.message("k1"), at: ExecutionClaimConformanceTests.t0)
                    try await withDeadline(.seconds(10)) { await second.workSignals[.email].wait() }
                    // ... and spawned executions on the walker's.
                    _ = try await ExecutionClaimConformanceTests.spawned(1, in: first)
                    try await withDeadline(.seconds(10)) { await second.workSignals[.executions].wait() }
                }
            }
        }
    }
}
