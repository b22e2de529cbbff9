import CortexTestSupport
import Testing

@testable import Engine

/// A one-click unsubscribe on every store: consent revoked, one `email.unsubscribed` activity
/// naming the campaign however often the link is posted, the contact's queued mail of every
/// campaign cancelled, and nothing else touched (other recipients, transactional mail).
@Suite struct CampaignUnsubscribeConformanceTests {
    static let t0 = CampaignFanOutConformanceTests.t0

    @Test(arguments: StoreBackend.enabled)
    func anUnsubscribeRevokesOnceAndCancelsOnlyThatContactsCampaignMail(backend: StoreBackend) async throws {
        try await backend.withStore { store in
            try await CampaignFanOutConformanceTests.directory(store)
            let worker = CampaignWorker(store: store, clock: ManualWallClock(Self.t0), logger: StoreBackend.quietLogger)
            let first = try await store.createCampaign(try CampaignFanOutConformanceTests.definition(), at: Self.t0)
            let second = try await store.createCampaign(try CampaignFanOutConformanceTests.definition(), at: Self.t0)
            for id in [first, second] {
                _ = try await store.scheduleCampaign(id: id, at: Self.t0, now: Self.t0)
                #expect(try await worker.runOnce()?.recipients == 3)
            }
            let receipt = try await store.enqueueEmail(EmailLedgerConformanceTests.message("receipt", to: "ada@example.com"), at: Self.t0)
            let ada = EmailAddress("ada@example.com")!
            let contactID = try #require(
                try await store.emailJobs(EmailJobQuery(email: ada, limit: 10)).compactMap(\.contactID).first)

            for _ in 0..<2 {
                #expect(try await store.unsubscribe(contactID: contactID, campaignID: first, at: Self.t0.adding(seconds: 5)) == ada)
            }
            for id in [first, second] {
                #expect(try await store.campaignLedgerCounts(id: id) == [.queued: 2, .cancelled: 1])
            }
            #expect(try await store.emailJob(id: receipt.job.id)?.status == .queued)
            let contact = try #require(try await store.contact(email: ada))
            #expect(contact.consent.status == .revoked && contact.consent.source == "unsubscribe")
            let unsubscribed = try await store.activities(ActivityQuery(email: ada)).filter { $0.type == "email.unsubscribed" }
            #expect(unsubscribed.count == 1)
            #expect(unsubscribed.first.flatMap { try? JSONParser.parse(Array($0.metadata.utf8)) }?["campaign_id"] == .int(first))
            #expect(try await store.unsubscribe(contactID: 9_999_999, campaignID: first, at: Self.t0) == nil)
        }
    }
}
