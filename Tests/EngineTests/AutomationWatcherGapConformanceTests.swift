import CortexTestSupport
import Testing

@testable import Engine

/// Activities committed after a run of ids that never commit (a group commit rolled back by a
/// crash) start their executions once the gap's grace is over, on every store. On PostgreSQL the
/// watcher waits `AutomationWatcher.gapGrace` for the missing ids; SQLite commits in id order
/// and never waits.
@Suite struct AutomationWatcherGapConformanceTests {
    typealias Fixture = AutomationRunConformanceTests

    @Test(arguments: StoreBackend.enabled)
    func activitiesAfterARolledBackRunOfIdsAreMatchedWithinOneGrace(backend: StoreBackend) async throws {
        try await backend.withStore { store in
            let clock = ManualWallClock(Fixture.t0)
            // Small batches, as a burst is to the default 5,000: the activities past the first
            // batch are read only once the cursor passes the gap.
            let watcher = AutomationWatcher(store: store, clock: clock, batchSize: 5, logger: StoreBackend.quietLogger, pause: { _ in })
            let id = try await Fixture.activated(try Fixture.welcome(reentry: "always"), in: store, watcher: watcher)
            try await Fixture.purchase(store, "P2P", id: "before-the-gap", at: Fixture.t0)
            if backend == .postgres {
                // 300 ids taken by transactions that rolled back.
                try await (store as? any GroupCommittingStore)?.execute(
                    rawSQL: "SELECT setval('crm_activities_id_seq', (SELECT max(id) FROM crm_activities) + 300)")
            }
            for n in 1...12 { try await Fixture.purchase(store, "P2P", id: "after-the-gap-\(n)", at: Fixture.t0) }
            func drain() async throws { while case .moved = try await watcher.runOnce() {} }

            try await drain()
            let early = try await store.executions(ExecutionQuery(automationID: id)).count
            #expect(early == (backend == .postgres ? 6 : 13))  // On PostgreSQL the batch beyond the gap, no further.
            clock.advance(seconds: AutomationWatcher.gapGrace)
            try await drain()
            #expect(try await store.executions(ExecutionQuery(automationID: id)).count == 13)
        }
    }
}
