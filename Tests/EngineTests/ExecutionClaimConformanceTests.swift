import CortexTestSupport
import Testing

@testable import Engine

/// The executions table is the walker's queue: claims under a lease, never the same execution
/// to two walkers at once (SKIP LOCKED on PostgreSQL), and claimable again when a lease runs out.
@Suite struct ExecutionClaimConformanceTests {
    static let t0 = AutomationRunConformanceTests.t0

    /// `count` running executions of an active one-step automation, one per triggering activity.
    static func spawned(_ count: Int, in store: any Store) async throws -> Set<Int64> {
        let graph = #"""
            {"nodes": [{"id": "t", "type": "trigger", "data": {"event": "signup"}}, {"id": "tag", "type": "add_tag", "data": {"tag": "x"}}],
             "edges": [{"id": "e", "source": "t", "target": "tag"}]}
            """#
        let body = try #require(try JSONParser.parse(Array(#"{"name": "n", "graph": \#(graph), "reentry": "always"}"#.utf8)).objectValue)
        let automation = try await store.createAutomation(try AutomationDefinition.parse(body), at: t0)
        _ = try await store.setAutomationStatus(id: automation, from: .draft, to: .active, at: t0)
        let email = EmailAddress("queue@example.com")!
        _ = try await store.ingest(
            InboundDelivery(source: "checkout", externalID: "signups", receivedAt: t0, headers: [], body: []),
            activities: (0..<count).map { _ in NewActivity(type: "signup", contactEmail: email, occurredAt: t0, metadata: "{}") },
            suppressions: [])
        let activities = try await store.activities(after: 0, limit: count)
        let ids = try await store.spawnExecutions(
            activities.map {
                ExecutionSpawn(automationID: automation, version: 1, contactEmail: email, triggerActivityID: $0.id, firstNodeID: "tag", reentry: .always)
            }, at: t0)
        return Set(ids.compactMap { $0 })
    }

    @Test(arguments: StoreBackend.enabled)
    func concurrentWalkersNeverClaimTheSameExecution(backend: StoreBackend) async throws {
        try await backend.withStore { store in
            let spawned = try await Self.spawned(120, in: store)
            #expect(spawned.count == 120)
            let claims = try await withThrowingTaskGroup(of: [Int64].self) { group in
                for _ in 0..<4 {
                    group.addTask {
                        var mine: [Int64] = []
                        while true {
                            let batch = try await store.claimExecutions(limit: 7, now: Self.t0, leaseSeconds: 60)
                            if batch.isEmpty { return mine }
                            mine += batch.map(\.id)
                        }
                    }
                }
                return try await group.reduce(into: [[Int64]]()) { $0.append($1) }
            }
            let all = claims.flatMap { $0 }
            #expect(all.count == 120)
            #expect(Set(all) == spawned)
        }
    }

    @Test(arguments: StoreBackend.enabled)
    func aLeaseThatRunsOutMakesAnExecutionClaimableAgainAndAMoveEndsIt(backend: StoreBackend) async throws {
        try await backend.withStore { store in
            let spawned = try await Self.spawned(2, in: store)
            let first = try await store.claimExecutions(limit: 10, now: Self.t0, leaseSeconds: 60)
            #expect(Set(first.map(\.id)) == spawned)
            // Leased: nobody else gets them until the lease runs out (a crashed walker).
            #expect(try await store.claimExecutions(limit: 10, now: Self.t0.adding(seconds: 59), leaseSeconds: 60).isEmpty)
            let again = try await store.claimExecutions(limit: 10, now: Self.t0.adding(seconds: 60), leaseSeconds: 60)
            #expect(Set(again.map(\.id)) == spawned)
            // A committed end releases it for good.
            let ended = try #require(again.first)
            let done = StepCommit(move: .complete, logs: [ExecutionLog(at: Self.t0, nodeID: "tag", action: "exit", outcome: .ok, message: "Exited")])
            #expect(try await store.commitSteps([(ended.id, done)], at: Self.t0.adding(seconds: 60)) == [true])
            let later = try await store.claimExecutions(limit: 10, now: Self.t0.adding(seconds: 200), leaseSeconds: 60)
            #expect(later.map(\.id) == spawned.subtracting([ended.id]).sorted())
        }
    }

    /// Several matches of one contact in one watcher pass: re-entry applies to them in order, as
    /// if spawned one after another; a dry run is no entry; a repeated match spawns nothing.
    @Test(arguments: StoreBackend.enabled)
    func reentryAppliesInOrderWithinOneBatch(backend: StoreBackend) async throws {
        try await backend.withStore { store in
            _ = try await Self.spawned(0, in: store)  // The automation (id 1) and the contact.
            let email = EmailAddress("queue@example.com")!
            _ = try await store.ingest(
                InboundDelivery(source: "checkout", externalID: "more", receivedAt: Self.t0, headers: [], body: []),
                activities: (0..<6).map { _ in NewActivity(type: "signup", contactEmail: email, occurredAt: Self.t0, metadata: "{}") },
                suppressions: [])
            let activities = try await store.activities(after: 0, limit: 10).map(\.id)
            func spawn(_ activity: Int64, _ reentry: Reentry, dryRun: Bool = false) -> ExecutionSpawn {
                ExecutionSpawn(
                    automationID: 1, version: 1, contactEmail: email, triggerActivityID: activity, firstNodeID: "tag", reentry: reentry,
                    dryRun: dryRun)
            }
            let once = try await store.spawnExecutions(
                [spawn(activities[0], .once, dryRun: true), spawn(activities[1], .once), spawn(activities[2], .once)], at: Self.t0)
            #expect(once.map { $0 != nil } == [true, true, false])
            let after = try await store.spawnExecutions(
                [spawn(activities[3], .after(seconds: 60)), spawn(activities[4], .always), spawn(activities[1], .always)],
                at: Self.t0.adding(seconds: 30))
            #expect(after.map { $0 != nil } == [false, true, false])
            let logs = try await store.executionLogs(id: try #require(once[1]))
            #expect(logs.map(\.message) == ["Spawned execution \(once[1]!) for queue@example.com"])
        }
    }

    /// A delay that came due is claimed before running executions, even older ones: in a burst,
    /// new executions queue behind the walker, and a due delay must not wait behind them.
    @Test(arguments: StoreBackend.enabled)
    func dueWaitsAreClaimedBeforeRunningExecutions(backend: StoreBackend) async throws {
        try await backend.withStore { store in
            let spawned = try await Self.spawned(3, in: store).sorted()
            let wait = StepCommit(
                move: .wait(node: "tag", until: Self.t0.adding(seconds: 2)),
                logs: [ExecutionLog(at: Self.t0, nodeID: "tag", action: "delay", outcome: .waiting, message: "Pausing")])
            _ = try await store.claimExecutions(limit: 1, now: Self.t0, leaseSeconds: 60)
            #expect(try await store.commitSteps([(spawned[0], wait)], at: Self.t0) == [true])
            let later = try await store.spawnExecutions(
                [ExecutionSpawn(automationID: 1, version: 1, contactEmail: EmailAddress("queue@example.com")!,
                    triggerActivityID: 999_999, firstNodeID: "tag", reentry: .always)], at: Self.t0.adding(seconds: 1))
            #expect(later.first != nil)
            let claimed = try await store.claimExecutions(limit: 1, now: Self.t0.adding(seconds: 3), leaseSeconds: 60)
            #expect(claimed.map(\.id) == [spawned[0]])
        }
    }
}
