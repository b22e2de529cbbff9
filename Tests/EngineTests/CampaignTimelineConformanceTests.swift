import CortexTestSupport
import Testing

@testable import Engine

/// A campaign's opens and clicks over time, on every store: each contact once per kind, in the
/// span of its first open or click, so the series sum to the stats; events about other mail are
/// left out.
@Suite struct CampaignTimelineConformanceTests {
    static let t0 = CampaignFanOutConformanceTests.t0  // 12:00 UTC, an hour's start.

    @Test(arguments: StoreBackend.enabled)
    func firstOpensAndClicksAreCountedInTheirHour(backend: StoreBackend) async throws {
        try await backend.withStore { store in
            try await CampaignFanOutConformanceTests.directory(store)
            let worker = CampaignWorker(store: store, clock: ManualWallClock(Self.t0), logger: StoreBackend.quietLogger)
            let id = try await store.createCampaign(try CampaignFanOutConformanceTests.definition(), at: Self.t0)
            _ = try await store.scheduleCampaign(id: id, at: Self.t0, now: Self.t0)
            #expect(try await worker.runOnce()?.recipients == 3)
            let receipt = try await store.enqueueEmail(EmailLedgerConformanceTests.message("receipt", to: "ada@example.com"), at: Self.t0)
            let jobs = try await store.claimEmailJobs(limit: 10, now: Self.t0, leaseSeconds: 60)
            #expect(jobs.count == 4)
            try await store.recordEmailOutcomes(
                jobs.map { ($0.id, .sent(provider: "postmark", messageID: $0.id == receipt.job.id ? "m-receipt" : "m-\($0.message.recipient.value)", at: Self.t0)) },
                at: Self.t0)

            let events: [(type: String, who: String, message: String, minutes: Int64)] = [
                ("email.opened", "ada", "m-ada@example.com", 10), ("email.clicked", "fay", "m-fay@example.com", 30),
                ("email.opened", "eve", "m-eve@example.com", 70), ("email.opened", "ada", "m-ada@example.com", 120),
                ("email.clicked", "ada", "m-ada@example.com", 125), ("email.opened", "ada", "m-receipt", 5),
            ]
            for (index, event) in events.enumerated() {
                _ = try await store.ingest(
                    InboundDelivery(source: "postmark", externalID: "e\(index)", receivedAt: Self.t0, headers: [], body: []),
                    activities: [
                        NewActivity(
                            type: event.type, contactEmail: EmailAddress("\(event.who)@example.com")!,
                            occurredAt: Self.t0.adding(seconds: event.minutes * 60), metadata: "{}", providerMessageID: event.message)
                    ])
            }

            let hourly = try await store.campaignEngagementTimeline(id: id, bucketSeconds: 3_600)
            #expect(
                hourly == [
                    CampaignEngagementBucket(start: Self.t0, opened: 1, clicked: 1),
                    CampaignEngagementBucket(start: Self.t0.adding(seconds: 3_600), opened: 1, clicked: 0),
                    CampaignEngagementBucket(start: Self.t0.adding(seconds: 7_200), opened: 0, clicked: 1),
                ])
            let daily = try await store.campaignEngagementTimeline(id: id, bucketSeconds: 86_400)
            #expect(daily == [CampaignEngagementBucket(start: Timestamp.at("2026-11-26T00:00:00Z"), opened: 2, clicked: 2)])
            let stats = try await store.campaignEngagement(id: id)
            #expect(stats["email.opened"] == hourly.map(\.opened).reduce(0, +) && stats["email.clicked"] == hourly.map(\.clicked).reduce(0, +))

            let other = try await store.createCampaign(try CampaignFanOutConformanceTests.definition(), at: Self.t0)
            #expect(try await store.campaignEngagementTimeline(id: other, bucketSeconds: 3_600).isEmpty)
        }
    }
}
