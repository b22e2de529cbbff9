import CortexTestSupport
import ServiceLifecycle
import Synchronization
import Testing

@testable import Engine

/// A provider that holds each batch until `release` says, counting the batches it was given and
/// the calls cut by cancellation. Cut, it throws what AsyncHTTPClient's cancellation becomes in
/// the Postmark transport: a retryable failure.
final class HeldTransport: MailTransport {
    let name = "held"
    let maxBatchSize = 500
    private let state = Mutex((batches: 0, cut: 0))
    /// When a held batch may return (`HeldCall`).
    private let release: @Sendable () -> Bool

    init(release: @escaping @Sendable () -> Bool) {
        self.release = release
    }

    var batches: Int { state.withLock { $0.batches } }
    var cut: Int { state.withLock { $0.cut } }

    func send(_ batch: [OutgoingEmail]) async throws(TransportError) -> [DeliveryResult] {
        state.withLock { $0.batches += 1 }
        guard await HeldCall.wait(until: release) else {
            state.withLock { $0.cut += 1 }
            throw TransportError(.throttled(retryAfter: nil), "Postmark unreachable: cancelled")
        }
        return batch.map { .sent(messageID: "held-\($0.jobID)") }
    }
}

/// When something was first seen.
final class FirstSight: Sendable {
    private let seen = Mutex<ContinuousClock.Instant?>(nil)

    /// The first call's time, on every call.
    func instant() -> ContinuousClock.Instant {
        seen.withLock { seen in
            if seen == nil { seen = .now }
            return seen!
        }
    }
}

/// SIGTERM under load (issue #14 item 4): the sender claims nothing more, finishes the batch it
/// is sending within its grace, and a batch cut short is back in the queue at once, never left
/// `sending` until its lease runs out.
@Suite struct SenderShutdownTests {
    static let t0 = SenderWorkerTests.t0

    static func worker(
        _ store: any Store, _ transport: any MailTransport, grace: Duration, rate: Double? = nil,
        pause: (@Sendable (Duration) async throws -> Void)? = nil
    ) -> SenderWorker {
        SenderWorker(
            store: store, transport: transport, clock: ManualWallClock(t0), ratePerSecond: rate,
            logger: StoreBackend.quietLogger, pause: pause, lanes: 1, shutdownGrace: grace)
    }

    static func until(_ condition: @escaping @Sendable () async throws -> Bool) async throws {
        try await withDeadline(.seconds(20)) {
            while try await !condition() { try await Task.sleep(for: .milliseconds(2)) }
        }
    }

    static func statuses(_ store: any Store, _ ids: [Int64]) async throws -> [EmailStatus?] {
        var statuses: [EmailStatus?] = []
        for id in ids { statuses.append(try await store.emailJob(id: id)?.status) }
        return statuses
    }

    @Test(arguments: StoreBackend.enabled)
    func aShutdownLetsTheBatchBeingSentFinishAndRecordsIt(backend: StoreBackend) async throws {
        try await backend.withStore { store in
            let ids = try await SenderWorkerTests.enqueue(store, 3)
            // The provider answers 200 ms after the shutdown began: the batch is in flight when
            // the signal comes and for a while after it, and must still be sent and recorded.
            let shutdownSeen = FirstSight()
            let transport = HeldTransport {
                guard Task.isShuttingDownGracefully else { return false }
                return ContinuousClock.now - shutdownSeen.instant() >= .milliseconds(200)
            }
            let group = ServiceGroup(
                services: [Self.worker(store, transport, grace: .seconds(60))], logger: StoreBackend.quietLogger)
            let running = Task { try await group.run() }
            defer { running.cancel() }
            try await Self.until { transport.batches == 1 }
            await group.triggerGracefulShutdown()
            try await withDeadline(.seconds(20)) { try await running.value }
            #expect(transport.cut == 0)
            #expect(try await Self.statuses(store, ids) == [.sent, .sent, .sent])
            #expect(try await store.emailJobs(EmailJobQuery(status: .sending)).isEmpty)
        }
    }

    @Test(arguments: StoreBackend.enabled)
    func aBatchThatOutlastsTheGraceIsPutBackInTheQueueAtOnce(backend: StoreBackend) async throws {
        try await backend.withStore { store in
            let ids = try await SenderWorkerTests.enqueue(store, 3)
            let transport = HeldTransport { false }  // A provider that never answers.
            let group = ServiceGroup(
                services: [Self.worker(store, transport, grace: .milliseconds(100))], logger: StoreBackend.quietLogger)
            let running = Task { try await group.run() }
            defer { running.cancel() }
            try await Self.until { transport.batches == 1 }
            await group.triggerGracefulShutdown()
            // Bounded by the grace, not by the provider's 30 s.
            try await withDeadline(.seconds(10)) { try await running.value }
            #expect(transport.cut == 1)
            for id in ids {
                let job = try #require(try await store.emailJob(id: id))
                // Due now (the clock has not moved), not after the lease or a back-off; the
                // attempt stays spent, since the provider may have taken the batch.
                #expect(job.status == .queued)
                #expect(job.nextAttemptAt == Self.t0)
                #expect(job.attempts == 1)
            }
            // After the restart, the next sender sends them at once.
            let next = SenderWorker(
                store: store, transport: ScriptedTransport(), clock: ManualWallClock(Self.t0), ratePerSecond: nil,
                logger: StoreBackend.quietLogger)
            #expect(try await next.runOnce() == .sent(count: 3))
            #expect(try await Self.statuses(store, ids) == [.sent, .sent, .sent])
        }
    }

    @Test(arguments: StoreBackend.enabled)
    func aBatchCutBeforeItReachedTheProviderGetsItsAttemptBack(backend: StoreBackend) async throws {
        try await backend.withStore { store in
            let ids = try await SenderWorkerTests.enqueue(store, 2)
            // At 2 messages a second, the second claim waits for tokens: the shutdown finds it there.
            let pause = ManualPause()
            let transport = HeldTransport { true }
            let worker = Self.worker(store, transport, grace: .milliseconds(100), rate: 2, pause: { try await pause($0) })
            let group = ServiceGroup(services: [worker], logger: StoreBackend.quietLogger)
            let running = Task { try await group.run() }
            defer { running.cancel() }
            try await Self.until { try await store.emailJobs(EmailJobQuery(status: .sent)).count == 1 && !pause.durations.isEmpty }
            await group.triggerGracefulShutdown()
            try await withDeadline(.seconds(10)) { try await running.value }
            #expect(transport.batches == 1)
            let held = try #require(try await store.emailJob(id: ids[1]))
            #expect(held.status == .queued)
            #expect(held.attempts == 0)
            #expect(held.nextAttemptAt == Self.t0)
        }
    }
}
