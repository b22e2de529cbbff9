import CortexTestSupport
import Testing

@testable import Engine

/// Sending a campaign snapshots its audience into the ledger in one statement, on every store:
/// one row per recipient, never to a suppressed contact, a revoked one, or (by default) one who
/// never opted in; a second send queues nothing; a scheduled send waits for its time.
@Suite struct CampaignFanOutConformanceTests {
    static let t0 = Timestamp.at("2026-11-26T12:00:00Z")

    /// Six contacts tagged News: granted, granted but suppressed, unknown, revoked, and two more
    /// granted; one granted contact without the tag.
    static func directory(_ store: any Store) async throws {
        for (name, consent) in [
            ("ada", ConsentStatus.granted), ("bob", .granted), ("cy", .unknown), ("dee", .revoked), ("eve", .granted), ("fay", .granted),
        ] {
            let email = EmailAddress("\(name)@example.com")!
            try await store.saveContact(ContactUpdate(email: email, firstName: name.capitalized, consent: consent), at: t0)
            _ = try await store.addTags(["News"], to: email, at: t0)
        }
        try await store.saveContact(ContactUpdate(email: EmailAddress("out@example.com")!, consent: .granted), at: t0)
        _ = try await store.ingest(
            InboundDelivery(source: "postmark", externalID: "bounce", receivedAt: t0, headers: [], body: []), activities: [],
            suppressions: [.suppress(EmailAddress("bob@example.com")!, reason: "hard bounce", at: t0)])
    }

    static func definition(_ extra: String = "", audience: String = #""filter": {"tag": "News"}"#) throws -> CampaignDefinition {
        let body = #"{"name": "News", "subject": "Hi {{contact.first_name}}", "from": "shop@example.com", "html": "<p>News</p>", \#(audience)\#(extra)}"#
        return try CampaignDefinition.parse(try #require(try JSONParser.parse(Array(body.utf8)).objectValue), defaultFrom: nil)
    }

    static func recipients(_ store: any Store, _ campaign: Int64) async throws -> [String] {
        // Metadata is compared by meaning: PostgreSQL's jsonb respaces it.
        try await store.emailJobs(EmailJobQuery(limit: 100))
            .filter { (try? JSONParser.parse(Array($0.message.metadata.utf8)))?["campaign_id"] == .int(campaign) }
            .map(\.message.recipient.value).sorted()
    }

    @Test(arguments: StoreBackend.enabled)
    func aSendQueuesEachGrantedUnsuppressedRecipientOnce(backend: StoreBackend) async throws {
        try await backend.withStore { store in
            try await Self.directory(store)
            let clock = ManualWallClock(Self.t0)
            let worker = CampaignWorker(store: store, clock: clock, logger: StoreBackend.quietLogger)
            let id = try await store.createCampaign(try Self.definition(), at: Self.t0)
            #expect(try await worker.runOnce() == nil)  // A draft is not sent.
            #expect(try await store.scheduleCampaign(id: id, at: Self.t0, now: Self.t0)?.status == .scheduled)
            let done = try #require(try await worker.runOnce())
            #expect(done.campaignID == id && done.recipients == 3)
            #expect(try await Self.recipients(store, id) == ["ada@example.com", "eve@example.com", "fay@example.com"])
            #expect(try await store.campaign(id: id)?.status == .sending)
            let row = try #require(try await store.emailJobs(EmailJobQuery(email: EmailAddress("ada@example.com")!)).first)
            #expect(row.message.idempotencyKey.hasPrefix("campaign:\(id):") && row.message.stream == .broadcast)
            #expect(row.status == .queued && row.message.subject.isEmpty)  // Rendered per recipient at send time.

            // A second send is refused, and a second fan-out finds nothing to do.
            await #expect(throws: StoreError.self) { try await store.scheduleCampaign(id: id, at: Self.t0, now: Self.t0) }
            #expect(try await worker.runOnce() == nil)
            #expect(try await store.campaignLedgerCounts(id: id) == [.queued: 3])

            // Consent "any": all but the revoked and the suppressed.
            let any = try await store.createCampaign(try Self.definition(#", "consent": "any""#), at: Self.t0)
            _ = try await store.scheduleCampaign(id: any, at: Self.t0, now: Self.t0)
            #expect(try await worker.runOnce()?.recipients == 4)
            #expect(try await Self.recipients(store, any) == ["ada@example.com", "cy@example.com", "eve@example.com", "fay@example.com"])
        }
    }

    @Test(arguments: StoreBackend.enabled)
    func aScheduledSendWaitsForItsTimeAndACancelledOneSendsNothing(backend: StoreBackend) async throws {
        try await backend.withStore { store in
            try await Self.directory(store)
            let list = try await store.createSmartList(name: "News", filter: .object(["tag": .string("News")]), at: Self.t0)
            let clock = ManualWallClock(Self.t0)
            let worker = CampaignWorker(store: store, clock: clock, logger: StoreBackend.quietLogger)
            let id = try await store.createCampaign(try Self.definition(audience: #""list_id": \#(list)"#), at: Self.t0)
            _ = try await store.scheduleCampaign(id: id, at: Self.t0.adding(seconds: 3600), now: Self.t0)
            #expect(try await store.nextCampaignDue() == Self.t0.adding(seconds: 3600))
            #expect(try await worker.runOnce() == nil)
            clock.advance(seconds: 3600)
            #expect(try await worker.runOnce()?.recipients == 3)
            #expect(try await store.nextCampaignDue() == nil)

            // Cancelling while sending: the queued rows are cancelled, the campaign too.
            #expect(try await store.cancelCampaign(id: id, at: clock.now())?.status == .cancelled)
            #expect(try await store.campaignLedgerCounts(id: id) == [.cancelled: 3])
            #expect(try await store.claimEmailJobs(limit: 10, now: clock.now(), leaseSeconds: 60).isEmpty)
            await #expect(throws: StoreError.self) { try await store.cancelCampaign(id: id, at: clock.now()) }

            // A scheduled campaign cancelled before its time is never fanned out.
            let later = try await store.createCampaign(try Self.definition(), at: Self.t0)
            _ = try await store.scheduleCampaign(id: later, at: clock.now().adding(seconds: 60), now: clock.now())
            _ = try await store.cancelCampaign(id: later, at: clock.now())
            clock.advance(seconds: 60)
            #expect(try await worker.runOnce() == nil)
            #expect(try await store.campaignLedgerCounts(id: later).isEmpty)
        }
    }

    /// Consent revoked or an address suppressed after the fan-out: the claim withholds the row.
    @Test(arguments: StoreBackend.enabled)
    func aRecipientWhoOptsOutAfterTheFanOutIsNotSent(backend: StoreBackend) async throws {
        try await backend.withStore { store in
            try await Self.directory(store)
            let worker = CampaignWorker(store: store, clock: ManualWallClock(Self.t0), logger: StoreBackend.quietLogger)
            let id = try await store.createCampaign(try Self.definition(), at: Self.t0)
            _ = try await store.scheduleCampaign(id: id, at: Self.t0, now: Self.t0)
            #expect(try await worker.runOnce()?.recipients == 3)
            try await store.saveContact(ContactUpdate(email: EmailAddress("ada@example.com")!, consent: .revoked), at: Self.t0)
            _ = try await store.ingest(
                InboundDelivery(source: "postmark", externalID: "complaint", receivedAt: Self.t0, headers: [], body: []), activities: [],
                suppressions: [.suppress(EmailAddress("eve@example.com")!, reason: "spam complaint", at: Self.t0)])
            let claimed = try await store.claimEmailJobs(limit: 10, now: Self.t0, leaseSeconds: 60)
            #expect(claimed.map(\.message.recipient.value) == ["fay@example.com"])
            #expect(try await store.campaignLedgerCounts(id: id) == [.cancelled: 1, .suppressed: 1, .sending: 1])
        }
    }

    /// Of several due campaigns, the one due earliest goes first, whatever their ids.
    @Test(arguments: StoreBackend.enabled)
    func theEarliestDueCampaignIsFannedOutFirst(backend: StoreBackend) async throws {
        try await backend.withStore { store in
            try await Self.directory(store)
            let later = try await store.createCampaign(try Self.definition(), at: Self.t0)
            let earlier = try await store.createCampaign(try Self.definition(), at: Self.t0)
            _ = try await store.scheduleCampaign(id: later, at: Self.t0.adding(seconds: 20), now: Self.t0)
            _ = try await store.scheduleCampaign(id: earlier, at: Self.t0.adding(seconds: 10), now: Self.t0)
            let worker = CampaignWorker(store: store, clock: ManualWallClock(Self.t0.adding(seconds: 30)), logger: StoreBackend.quietLogger)
            #expect(try await worker.runOnce()?.campaignID == earlier)
            #expect(try await worker.runOnce()?.campaignID == later)
        }
    }
}
