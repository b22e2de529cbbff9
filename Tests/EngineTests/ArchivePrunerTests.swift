import CortexTestSupport
import ServiceLifecycle
import Testing

@testable import Engine

@Suite struct ArchivePrunerTests {
    static let day0 = Timestamp.at("2026-01-01T00:00:00Z")
    static func day(_ n: Int) -> Timestamp { day0.adding(seconds: Int64(n) * 86_400) }

    static func ingest(_ store: any Store, _ id: String, at time: Timestamp) async throws {
        _ = try await store.ingest(delivery(id: id, at: time), activities: [])
    }

    static func pruned(_ store: any Store) async throws -> [String] {
        try await store.inboundEvents(InboundQuery()).filter(\.bodyPruned).compactMap(\.externalID).sorted()
    }

    /// Waits, within a bound, until `condition` holds.
    static func until(_ condition: @escaping @Sendable () async throws -> Bool) async throws {
        try await withDeadline(.seconds(10)) {
            while try await !condition() { await Task.yield() }
        }
    }

    /// One pass, bounded: a store that kept answering full batches would loop forever.
    static func pass(_ pruner: ArchivePruner) async throws -> Int {
        try await withDeadline(.seconds(10)) { try await pruner.runOnce() }
    }

    @Test(arguments: StoreBackend.enabled)
    func aPassPrunesEveryBatchOlderThanTheRetention(backend: StoreBackend) async throws {
        try await backend.withStore { store in
            for index in 0..<5 { try await Self.ingest(store, "old\(index)", at: Self.day(0)) }
            try await Self.ingest(store, "edge", at: Self.day(10))
            try await Self.ingest(store, "recent", at: Self.day(30))
            let clock = ManualWallClock(Self.day(40))
            let pruner = ArchivePruner(
                store: store, clock: clock, retentionDays: 30, batchSize: 2, logger: StoreBackend.quietLogger)
            // Three batches of at most two; "edge" is exactly 30 days old and is kept.
            #expect(try await Self.pass(pruner) == 5)
            #expect(try await Self.pruned(store) == ["old0", "old1", "old2", "old3", "old4"])
            #expect(try await Self.pass(pruner) == 0)
            clock.advance(seconds: 1)
            #expect(try await Self.pass(pruner) == 1)
            #expect(try await store.inboundEvents(InboundQuery()).first { $0.externalID == "edge" }?.bodyPrunedAt == clock.now())
        }
    }

    @Test(arguments: StoreBackend.enabled)
    func theServicePrunesAtStartThenEveryIntervalAndStopsOnGracefulShutdown(backend: StoreBackend) async throws {
        try await backend.withStore { store in
            try await Self.ingest(store, "a", at: Self.day(0))
            let clock = ManualWallClock(Self.day(31))
            let pause = ManualPause()
            let pruner = ArchivePruner(
                store: store, clock: clock, retentionDays: 30, interval: .seconds(3_600),
                logger: StoreBackend.quietLogger, pause: { try await pause($0) })
            let group = ServiceGroup(services: [pruner], logger: StoreBackend.quietLogger)
            let running = Task { try await group.run() }
            defer { running.cancel() }
            // The first pass runs at start, before the first pause.
            try await Self.until { pause.durations.count == 1 }
            #expect(try await Self.pruned(store) == ["a"])
            #expect(pause.durations == [.seconds(3_600)])

            // "b" turns 30 days old only after the clock moves on; the next pass finds it.
            try await Self.ingest(store, "b", at: Self.day(1).adding(seconds: 1_800))
            clock.advance(seconds: 3_600)
            #expect(try await Self.pruned(store) == ["a"])
            pause.release()
            try await Self.until { pause.durations.count == 2 }
            #expect(try await Self.pruned(store) == ["a", "b"])

            // Shutdown ends the pause at once; the bound makes a hang fail instead of wait.
            await group.triggerGracefulShutdown()
            try await withDeadline(.seconds(10)) { try await running.value }
        }
    }
}
