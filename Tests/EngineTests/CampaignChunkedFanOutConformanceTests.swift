import CortexTestSupport
import Testing

@testable import Engine

/// A campaign's audience goes into the ledger chunk by chunk of contact ids, each chunk one
/// transaction, on every store: `sending` from the first chunk, not `sent` before the last,
/// resumed by any worker where the previous one stopped (a crash between chunks), never a
/// row twice or missing, and a cancel between chunks stops it.
@Suite struct CampaignChunkedFanOutConformanceTests {
    static let t0 = CampaignFanOutConformanceTests.t0

    @Test(arguments: StoreBackend.enabled)
    func aCampaignIsFannedOutChunkByChunkAndResumedByAnyWorker(backend: StoreBackend) async throws {
        try await backend.withStore { store in
            try await CampaignFanOutConformanceTests.directory(store)
            let id = try await store.createCampaign(try CampaignFanOutConformanceTests.definition(), at: Self.t0)
            _ = try await store.scheduleCampaign(id: id, at: Self.t0, now: Self.t0)
            let worker = { CampaignWorker(store: store, clock: ManualWallClock(Self.t0), logger: StoreBackend.quietLogger, contactsPerChunk: 2) }

            let first = try #require(try await worker().runOnce())
            #expect(first.campaignID == id && !first.finished)
            let midway = try #require(try await store.campaign(id: id))
            #expect(midway.status == .sending && midway.fanOutAfter != nil)
            #expect(try await store.nextCampaignDue() != nil, "a campaign part fanned out is due at once")

            // Each further chunk by a new worker, as after a crash and a restart.
            var steps = [first]
            while let step = try await worker().runOnce() {
                steps.append(step)
                if step.finished { break }
            }
            #expect(steps.count > 2)
            #expect(steps.dropLast().allSatisfy { !$0.finished } && steps.last?.finished == true)
            #expect(steps.map(\.recipients).reduce(0, +) == 3)
            #expect(try await CampaignFanOutConformanceTests.recipients(store, id) == ["ada@example.com", "eve@example.com", "fay@example.com"])
            #expect(try await store.campaign(id: id)?.fanOutAfter == nil)
            #expect(try await worker().runOnce() == nil)
        }
    }

    @Test(arguments: StoreBackend.enabled)
    func aCancelBetweenChunksStopsTheFanOut(backend: StoreBackend) async throws {
        try await backend.withStore { store in
            try await CampaignFanOutConformanceTests.directory(store)
            let worker = CampaignWorker(store: store, clock: ManualWallClock(Self.t0), logger: StoreBackend.quietLogger, contactsPerChunk: 1)
            let id = try await store.createCampaign(try CampaignFanOutConformanceTests.definition(), at: Self.t0)
            _ = try await store.scheduleCampaign(id: id, at: Self.t0, now: Self.t0)
            let first = try #require(try await worker.runOnce())
            #expect(!first.finished)
            let cancelled = try #require(try await store.cancelCampaign(id: id, at: Self.t0))
            #expect(cancelled.status == .cancelled && cancelled.fanOutAfter == nil)
            #expect(try await worker.runOnce() == nil)
            let counts = try await store.campaignLedgerCounts(id: id)
            #expect(counts.keys.allSatisfy { $0 == .cancelled } && (counts[.cancelled] ?? 0) == first.recipients)
        }
    }
}
