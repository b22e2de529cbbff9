import CortexTestSupport
import Foundation
import Testing

@testable import Engine

/// A PostgreSQL server that does not answer: every ingest must fail within the store's call
/// deadline (`operationTimeout`), the wait for a batch slot included. bench/crash_pg_outage.sh
/// found deliveries that queued behind a batch waiting out its deadline answered 503 only after
/// twice the deadline (10 s for the 5 s default). Needs no PostgreSQL: the server is silent.
@Suite struct PostgresIngestDeadlineTests {
    @Test func deliveriesQueuedBehindAStalledBatchFailWithinTheDeadline() async throws {
        let silent = try await SilentServer()
        var settings = PostgresSettings(host: "127.0.0.1", port: silent.port, username: "cortex", tlsMode: .disable)
        // Three connections leave one batch slot (one connection is the LISTEN connection's), so
        // the first delivery's batch holds it while the others queue.
        settings.poolSize = 3
        settings.operationTimeout = .seconds(3)
        let store = PostgresStore(settings: settings, logger: StoreBackend.quietLogger)
        let clock = ContinuousClock()
        let answers = try await store.withServicesRunning {
            let start = clock.now
            return await withTaskGroup(of: (failure: (any Error)?, after: Duration).self) { group in
                for index in 0..<8 {
                    group.addTask {
                        do {
                            _ = try await store.ingest(
                                delivery(id: "stalled\(index)"), activities: [activity(email: "s\(index)@example.com")],
                                suppressions: [])
                            return (nil, clock.now - start)
                        } catch {
                            return (error, clock.now - start)
                        }
                    }
                }
                return await group.reduce(into: []) { $0.append($1) }
            }
        }
        try await silent.stop()
        #expect(answers.count == 8)
        for answer in answers {
            #expect((answer.failure as? StoreError)?.kind == .unavailable, "\(String(describing: answer.failure))")
        }
        // Every call fails at its deadline, 3 s; without the wait counted, the queued ones at 6 s.
        // The bound leaves 1.5 s either way for a busy machine.
        let slowest = answers.map(\.after).max() ?? .zero
        #expect(slowest < .milliseconds(4_500), "the slowest ingest failed after \(slowest)")
    }
}
