import CortexTestSupport
import Synchronization
import Testing

@testable import Engine

/// A transport that holds each batch until another batch is at it too (or a bound passes), and
/// counts how many it ever held at once.
final class OverlapTransport: MailTransport {
    let name = "overlap"
    let maxBatchSize = 2
    private let state = Mutex((inFlight: 0, most: 0))

    var mostAtOnce: Int { state.withLock { $0.most } }

    func send(_ batch: [OutgoingEmail]) async throws(TransportError) -> [DeliveryResult] {
        state.withLock {
            $0.inFlight += 1
            $0.most = max($0.most, $0.inFlight)
        }
        // Bounded: a sender that sends one batch at a time gets its answer after the bound.
        let bound = ContinuousClock.now + .seconds(5)
        while mostAtOnce < 2, ContinuousClock.now < bound { try? await Task.sleep(for: .milliseconds(1)) }
        state.withLock { $0.inFlight -= 1 }
        return batch.map { .sent(messageID: "m\($0.jobID)") }
    }
}

@Suite struct SenderLanesTests {
    /// While one batch is at the provider, the running worker claims and sends the next: each
    /// lane holds its own leased batch, so the store's commits and the provider's answers overlap
    /// instead of taking turns, and no message is sent twice.
    @Test(arguments: StoreBackend.enabled)
    func theRunningWorkerSendsTwoBatchesAtOnce(backend: StoreBackend) async throws {
        try await backend.withStore { store in
            let transport = OverlapTransport()
            let ids = try await SenderWorkerTests.enqueue(store, 4)
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
            #expect(transport.mostAtOnce == 2)
            for id in ids { #expect(try await store.emailJob(id: id)?.attempts == 1) }
        }
    }
}
