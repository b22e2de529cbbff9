import CortexTestSupport
import Synchronization
import Testing

@testable import Engine

/// A transport that holds each batch until every message is claimed (the other lane has its
/// batch too) or a bound passes, and counts how many batches it ever held at once and whether
/// the other lane's claim came while it held one.
final class HandOffTransport: MailTransport {
    let name = "hand-off"
    let maxBatchSize = 2
    private let state = Mutex((inFlight: 0, most: 0, claimedMeanwhile: false))
    private let allClaimed: @Sendable () async -> Bool

    init(allClaimed: @escaping @Sendable () async -> Bool) {
        self.allClaimed = allClaimed
    }

    var mostAtOnce: Int { state.withLock { $0.most } }
    var otherLaneClaimedMeanwhile: Bool { state.withLock { $0.claimedMeanwhile } }

    func send(_ batch: [OutgoingEmail]) async throws(TransportError) -> [DeliveryResult] {
        let first = state.withLock {
            $0.inFlight += 1
            $0.most = max($0.most, $0.inFlight)
            return $0.most == 1 && !$0.claimedMeanwhile
        }
        // Bounded: without a second lane the other batch is never claimed while this one is held.
        let bound = ContinuousClock.now + .seconds(5)
        while await !allClaimed(), ContinuousClock.now < bound { try? await Task.sleep(for: .milliseconds(1)) }
        // A second batch handed over now would be at the provider with this one: give it time.
        let moment = ContinuousClock.now + .milliseconds(500)
        while state.withLock({ $0.inFlight < 2 }), ContinuousClock.now < moment { try? await Task.sleep(for: .milliseconds(1)) }
        let claimed = await allClaimed()
        state.withLock {
            $0.inFlight -= 1
            if first { $0.claimedMeanwhile = claimed }
        }
        return batch.map { .sent(messageID: "m\($0.jobID)") }
    }
}

@Suite struct SenderLanesTests {
    /// While one batch is at the provider the running worker claims the next (each lane holds
    /// its own leased batch, so the store's commits and the provider's answers overlap), but it
    /// hands that batch over only once the first one's outcome is recorded: a crash finds at
    /// most one batch at the provider unrecorded, the one it may send twice. With both at the
    /// provider at once, a crash sent 1,000 messages twice (`bench/send_crash.sh`).
    @Test(arguments: StoreBackend.enabled)
    func theRunningWorkerClaimsTheNextBatchWhileOneIsAtTheProviderButNeverHandsOverTwo(backend: StoreBackend) async throws {
        try await backend.withStore { store in
            let ids = try await SenderWorkerTests.enqueue(store, 4)
            let transport = HandOffTransport(allClaimed: {
                (try? await store.emailJobs(EmailJobQuery(status: .queued)).isEmpty) ?? false
            })
            let worker = SenderWorker(
                store: store, transport: transport, clock: ManualWallClock(SenderWorkerTests.t0), ratePerSecond: nil,
                logger: StoreBackend.quietLogger)
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await worker.run() }
                try await withDeadline(.seconds(20)) {
                    for id in ids {
                        while try await store.emailJob(id: id)?.status != .sent { await Task.yield() }
                    }
                }
                group.cancelAll()
            }
            #expect(transport.otherLaneClaimedMeanwhile)
            #expect(transport.mostAtOnce == 1)
            for id in ids { #expect(try await store.emailJob(id: id)?.attempts == 1) }
        }
    }
}
