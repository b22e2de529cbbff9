import CortexTestSupport
import Logging
import Synchronization
import Testing

@testable import Engine

/// A transport whose answers a test scripts, recording what it was asked to send.
final class ScriptedTransport: MailTransport {
    let name = "scripted"
    let maxBatchSize: Int
    private let script = Mutex<[Result<[DeliveryResult], TransportError>]>([])
    private let log = Mutex<[[OutgoingEmail]]>([])

    init(maxBatchSize: Int = 500) {
        self.maxBatchSize = maxBatchSize
    }

    func answer(_ result: Result<[DeliveryResult], TransportError>) {
        script.withLock { $0.append(result) }
    }

    var batches: [[OutgoingEmail]] { log.withLock { $0 } }

    func send(_ batch: [OutgoingEmail]) async throws(TransportError) -> [DeliveryResult] {
        log.withLock { $0.append(batch) }
        let next = script.withLock { $0.isEmpty ? nil : $0.removeFirst() }
        switch next {
        case .success(let results)?: return results
        case .failure(let error)?: throw error
        case nil: return batch.map { .sent(messageID: "auto-\($0.jobID)") }
        }
    }
}

/// The waits a worker asked for, recorded instead of slept.
final class PauseLog: Sendable {
    private let log = Mutex<[Duration]>([])

    func record(_ duration: Duration) { log.withLock { $0.append(duration) } }

    var durations: [Duration] { log.withLock { $0 } }
}

@Suite struct SenderWorkerTests {
    static let t0 = Timestamp.at("2026-11-26T12:00:00Z")

    static func worker(
        _ store: any Store, _ transport: ScriptedTransport, clock: ManualWallClock, rate: Double? = nil,
        pauses: PauseLog? = nil
    ) -> SenderWorker {
        SenderWorker(
            store: store, transport: transport, clock: clock, ratePerSecond: rate,
            policy: RetryPolicy(maxAttempts: 3, baseSeconds: 10, maxDelaySeconds: 60), logger: StoreBackend.quietLogger,
            pause: { duration in pauses?.record(duration) }, jitter: { 0 })
    }

    static func enqueue(_ store: any Store, _ count: Int) async throws -> [Int64] {
        var ids: [Int64] = []
        for index in 0..<count {
            ids.append(
                try await store.enqueueEmail(EmailLedgerConformanceTests.message("w\(index)", to: "w\(index)@example.com"), at: t0)
                    .job.id)
        }
        return ids
    }

    @Test(arguments: StoreBackend.enabled)
    func sendsInBatchesTheTransportAcceptsAndRecordsEachResult(backend: StoreBackend) async throws {
        try await backend.withStore { store in
            let clock = ManualWallClock(Self.t0)
            let transport = ScriptedTransport(maxBatchSize: 2)
            let ids = try await Self.enqueue(store, 3)
            transport.answer(.success([.sent(messageID: "p-1"), .rejected(reason: "300 invalid email", suppressRecipient: false)]))
            let worker = Self.worker(store, transport, clock: clock)
            #expect(try await worker.runOnce() == .sent(count: 2))
            #expect(try await worker.runOnce() == .sent(count: 1))
            #expect(try await worker.runOnce() == .idle)
            #expect(transport.batches.map { $0.map(\.jobID) } == [[ids[0], ids[1]], [ids[2]]])
            #expect(try await store.emailJob(id: ids[0])?.providerMessageID == "p-1")
            #expect(try await store.emailJob(id: ids[0])?.provider == "scripted")
            #expect(try await store.emailJob(id: ids[1])?.status == .failed)
            #expect(try await store.emailJob(id: ids[2])?.status == .sent)
        }
    }

    @Test(arguments: StoreBackend.enabled)
    func retriesOnlyDeferredMessagesWithBackOffThenGivesUp(backend: StoreBackend) async throws {
        try await backend.withStore { store in
            let clock = ManualWallClock(Self.t0)
            let transport = ScriptedTransport()
            let ids = try await Self.enqueue(store, 2)
            transport.answer(.success([.sent(messageID: "ok"), .deferred(reason: "mailbox busy", retryAfter: nil)]))
            let worker = Self.worker(store, transport, clock: clock)
            _ = try await worker.runOnce()
            let deferred = try #require(try await store.emailJob(id: ids[1]))
            #expect(deferred.status == .queued)
            #expect(deferred.nextAttemptAt == Self.t0.adding(seconds: 5))
            #expect(try await worker.runOnce() == .idle)

            clock.set(Self.t0.adding(seconds: 5))
            transport.answer(.success([.deferred(reason: "mailbox busy", retryAfter: nil)]))
            _ = try await worker.runOnce()
            #expect(transport.batches.last?.map(\.jobID) == [ids[1]])
            #expect(try await store.emailJob(id: ids[1])?.nextAttemptAt == Self.t0.adding(seconds: 15))

            clock.set(Self.t0.adding(seconds: 15))
            transport.answer(.success([.deferred(reason: "mailbox busy", retryAfter: nil)]))
            _ = try await worker.runOnce()
            let failed = try #require(try await store.emailJob(id: ids[1]))
            #expect(failed.status == .failed)
            #expect(failed.lastError == "gave up after 3 attempts: mailbox busy")
            #expect(try await store.emailJob(id: ids[0])?.status == .sent)
        }
    }

    @Test(arguments: StoreBackend.enabled)
    func aThrottledProviderSlowsTheRateAndHonoursRetryAfter(backend: StoreBackend) async throws {
        try await backend.withStore { store in
            let clock = ManualWallClock(Self.t0)
            let transport = ScriptedTransport(maxBatchSize: 10)
            let pauses = PauseLog()
            let ids = try await Self.enqueue(store, 20)
            transport.answer(.failure(TransportError(.throttled(retryAfter: .seconds(30)), "429 too many requests")))
            let worker = Self.worker(store, transport, clock: clock, rate: 20, pauses: pauses)
            _ = try await worker.runOnce()
            #expect(try await store.emailJob(id: ids[0])?.nextAttemptAt == Self.t0.adding(seconds: 30))
            // The first batch of ten (half a second's worth) went at once. The second: the rate
            // halved to 10/s, and ten tokens owed.
            _ = try await worker.runOnce()
            #expect(pauses.durations == [.seconds(1)])
            #expect(try await store.emailJobs(EmailJobQuery(status: .sent)).count == 10)
        }
    }

    @Test(arguments: StoreBackend.enabled)
    func aMisconfiguredProviderPausesSendingWithoutSpendingAttempts(backend: StoreBackend) async throws {
        try await backend.withStore { store in
            let clock = ManualWallClock(Self.t0)
            let transport = ScriptedTransport()
            let id = try await Self.enqueue(store, 1)[0]
            let worker = Self.worker(store, transport, clock: clock)
            // A bad token for five minutes: more paused passes than the message has attempts (3).
            for pass in 0..<5 {
                transport.answer(.failure(TransportError(.misconfigured, "401 invalid server token")))
                _ = try await worker.runOnce()
                #expect(worker.status.pausedReason == "401 invalid server token")
                let held = try #require(try await store.emailJob(id: id))
                #expect(held.status == .queued && held.attempts == 0, "pass \(pass)")
                #expect(held.nextAttemptAt == clock.now().adding(seconds: 60))
                clock.advance(seconds: 60)
            }
            // The token is fixed; the provider defers the message once: its first real attempt,
            // retried, not the attempt that runs out.
            transport.answer(.success([.deferred(reason: "try later", retryAfter: nil)]))
            _ = try await worker.runOnce()
            #expect(worker.status.pausedReason == nil)
            let deferred = try #require(try await store.emailJob(id: id))
            #expect(deferred.status == .queued && deferred.attempts == 1)
            clock.advance(seconds: 600)
            _ = try await worker.runOnce()
            #expect(try await store.emailJob(id: id)?.status == .sent)
        }
    }

    @Test(arguments: StoreBackend.enabled)
    func theRunningWorkerSleepsOnTheClockUntilARetryIsDue(backend: StoreBackend) async throws {
        try await backend.withStore { store in
            let clock = ManualWallClock(Self.t0)
            let transport = ScriptedTransport()
            transport.answer(.success([.deferred(reason: "try later", retryAfter: nil)]))
            let worker = Self.worker(store, transport, clock: clock)
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await worker.run() }
                let id = try await Self.enqueue(store, 1)[0]
                // The policy retries the deferral seconds later: the worker sleeps on the clock until
                // then, however long the test takes, and wakes when the clock gets there.
                let due = try await withDeadline(.seconds(10)) {
                    while true {
                        let job = try await store.emailJob(id: id)
                        if let job, job.attempts == 1, job.status == .queued { return job.nextAttemptAt }
                        await Task.yield()
                    }
                }
                #expect(due > Self.t0)
                try await withDeadline(.seconds(10)) {
                    while clock.earliestDeadline != due { await Task.yield() }
                }
                #expect(try await store.emailJob(id: id)?.status == .queued)
                clock.set(due)
                try await withDeadline(.seconds(10)) {
                    while try await store.emailJob(id: id)?.status != .sent { await Task.yield() }
                }
                #expect(transport.batches.count == 2)
                group.cancelAll()
            }
        }
    }

    @Test(arguments: StoreBackend.enabled)
    func theRunningWorkerSendsAQueuedMessageWithoutPolling(backend: StoreBackend) async throws {
        try await backend.withStore { store in
            let transport = ScriptedTransport()
            let worker = Self.worker(store, transport, clock: ManualWallClock(Self.t0))
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await worker.run() }
                let id = try await Self.enqueue(store, 1)[0]
                // Bounded wait for the worker to be woken by the enqueue, not a sleep.
                try await withDeadline(.seconds(10)) {
                    while try await store.emailJob(id: id)?.status != .sent { await Task.yield() }
                }
                group.cancelAll()
            }
        }
    }

    /// A batch reaches the provider in one call: never more than half a second's worth (the
    /// provider may see at most a second's worth at once, arrival jitter included), and at a low
    /// rate small enough to be sent well inside its lease.
    @Test(arguments: [(1.0, 120, 1), (100.0, 120, 50), (1000.0, 120, 500), (10.0, 2, 5), (4.0, 1, 1), (nil, 120, 500)] as [(Double?, Int64, Int)])
    func aBatchIsAtMostHalfASecondsWorthAndFitsInsideItsLease(rate: Double?, lease: Int64, limit: Int) {
        let store = try! SQLiteStore(path: try! StoreBackend.temporaryDirectory().appendingPathComponent("l.sqlite").path)
        let sender = SenderWorker(
            store: store, transport: ScriptedTransport(maxBatchSize: 500), clock: ManualWallClock(Self.t0),
            ratePerSecond: rate, leaseSeconds: lease, logger: StoreBackend.quietLogger)
        #expect(sender.batchLimit == limit)
    }
}
