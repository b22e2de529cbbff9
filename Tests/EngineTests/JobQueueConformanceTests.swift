import CortexTestSupport
import Testing

@testable import Engine

/// The claim pattern later workers build on, on every backend.
@Suite struct JobQueueConformanceTests {
    static let t0 = Timestamp.at("2026-11-26T12:00:00Z")

    @Test(arguments: StoreBackend.enabled)
    func concurrentClaimersNeverGetTheSameJob(backend: StoreBackend) async throws {
        try await backend.withStore { store in
            var enqueued: Set<Int64> = []
            for index in 0..<120 {
                enqueued.insert(try await store.enqueueJob(kind: "send", payload: #"{"n":\#(index)}"#, runAt: Self.t0))
            }
            let claims = try await withThrowingTaskGroup(of: [Int64].self) { group in
                for _ in 0..<4 {
                    group.addTask {
                        var mine: [Int64] = []
                        while true {
                            let batch = try await store.claimJobs(kind: "send", limit: 7, now: Self.t0, leaseSeconds: 60)
                            if batch.isEmpty { return mine }
                            mine += batch.map(\.id)
                        }
                    }
                }
                return try await group.reduce(into: [[Int64]]()) { $0.append($1) }
            }
            let all = claims.flatMap { $0 }
            #expect(all.count == enqueued.count, "a job was claimed twice or not at all")
            #expect(Set(all) == enqueued)
        }
    }

    @Test(arguments: StoreBackend.enabled)
    func claimsOnlyDueJobsOfTheKindOldestFirst(backend: StoreBackend) async throws {
        try await backend.withStore { store in
            let late = try await store.enqueueJob(kind: "send", payload: "{}", runAt: Self.t0.adding(seconds: 10))
            let early = try await store.enqueueJob(kind: "send", payload: #"{"a":1}"#, runAt: Self.t0.adding(seconds: -10))
            _ = try await store.enqueueJob(kind: "other", payload: "{}", runAt: Self.t0)
            let now = try await store.claimJobs(kind: "send", limit: 10, now: Self.t0, leaseSeconds: 30)
            #expect(now.map(\.id) == [early])
            #expect(now.first?.attempts == 1)
            #expect(now.first.map { parsedJSON($0.payload) } == .object(["a": .number("1")]))
            #expect(try await store.nextJobDue(kind: "send") == Self.t0.adding(seconds: 10))
            let later = try await store.claimJobs(kind: "send", limit: 10, now: Self.t0.adding(seconds: 10), leaseSeconds: 30)
            #expect(later.map(\.id) == [late])
        }
    }

    @Test(arguments: StoreBackend.enabled)
    func anExpiredLeaseMakesAJobClaimableAgainAndCompletionEndsIt(backend: StoreBackend) async throws {
        try await backend.withStore { store in
            let id = try await store.enqueueJob(kind: "send", payload: "{}", runAt: Self.t0)
            #expect(try await store.claimJobs(kind: "send", limit: 1, now: Self.t0, leaseSeconds: 30).map(\.id) == [id])
            #expect(try await store.claimJobs(kind: "send", limit: 1, now: Self.t0.adding(seconds: 29), leaseSeconds: 30).isEmpty)
            #expect(try await store.nextJobDue(kind: "send") == Self.t0.adding(seconds: 30))
            // The first claimer crashed: after its lease, another worker gets the job.
            let again = try await store.claimJobs(kind: "send", limit: 1, now: Self.t0.adding(seconds: 30), leaseSeconds: 30)
            #expect(again.map(\.id) == [id])
            #expect(again.first?.attempts == 2)
            try await store.completeJob(id: id, at: Self.t0.adding(seconds: 31))
            #expect(try await store.claimJobs(kind: "send", limit: 1, now: Self.t0.adding(seconds: 999), leaseSeconds: 30).isEmpty)
            #expect(try await store.nextJobDue(kind: "send") == nil)
        }
    }

    @Test(arguments: StoreBackend.enabled)
    func enqueueingWakesAnIdleWorker(backend: StoreBackend) async throws {
        try await backend.withStore { store in
            let waiter = Task { await store.workSignals[.jobs].wait() }
            _ = try await store.enqueueJob(kind: "send", payload: "{}", runAt: Self.t0)
            try await withDeadline(.seconds(10)) { await waiter.value }
        }
    }
}

@Suite(.enabled(if: StoreBackend.adminURL != nil, "needs CORTEX_TEST_DATABASE_URL"))
struct PostgresJobNotificationTests {
    @Test func aJobEnqueuedOnOneInstanceWakesWorkersOnAnother() async throws {
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
                    _ = try await first.enqueueJob(kind: "send", payload: "{}", runAt: JobQueueConformanceTests.t0)
                    try await withDeadline(.seconds(10)) { await second.workSignals[.jobs].wait() }
                    // Mail travels on its own channel, to the sender's signal alone.
                    _ = try await first.enqueueEmail(EmailLedgerConformanceTests.message("k1"), at: JobQueueConformanceTests.t0)
                    try await withDeadline(.seconds(10)) { await second.workSignals[.email].wait() }
                }
            }
        }
    }
}
