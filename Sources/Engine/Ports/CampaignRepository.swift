/// Campaigns (ENGINE.md §5): their definitions and status, and the fan-out of a campaign's
/// audience into the send ledger.
public protocol CampaignRepository: Sendable {
    /// Saves a new campaign as a draft; answers its id.
    func createCampaign(_ definition: CampaignDefinition, at time: Timestamp) async throws -> Int64

    /// Every campaign, newest first.
    func campaigns() async throws -> [Campaign]

    func campaign(id: Int64) async throws -> Campaign?

    /// Replaces the definition of a draft or scheduled campaign; `nil` when there is no such
    /// campaign; throws ``StoreError`` `conflict` when it is no longer editable.
    func updateCampaign(id: Int64, _ definition: CampaignDefinition, at time: Timestamp) async throws -> Campaign?

    /// Deletes a draft or scheduled campaign; `false` when there is none; `conflict` otherwise.
    func deleteCampaign(id: Int64) async throws -> Bool

    /// Asks for a draft campaign to be sent at `sendAt` (now or later): it becomes `scheduled`,
    /// and the campaign worker fans it out when due. `nil` when there is none; `conflict` unless
    /// it is a draft (a second send). Wakes the campaign worker.
    func scheduleCampaign(id: Int64, at sendAt: Timestamp, now: Timestamp) async throws -> Campaign?

    /// Cancels a scheduled or sending campaign; its queued ledger rows become `cancelled`. `nil`
    /// when there is none; `conflict` when it is a draft, sent or cancelled.
    func cancelCampaign(id: Int64, at time: Timestamp) async throws -> Campaign?

    /// When the earliest scheduled campaign is due (a campaign part fanned out is due at once);
    /// `nil` when none is scheduled.
    func nextCampaignDue() async throws -> Timestamp?

    /// Fans out the next chunk of the campaign due earliest by `now` (``CampaignFanOut``): the
    /// audience among contacts with ids in (`fanOutAfter`, `fanOutAfter` + `contactsPerChunk`],
    /// its ledger rows, the move to `sending` and the new `fanOutAfter` (`nil` after the last
    /// chunk) in one transaction. So no transaction grows with the audience, and a crash
    /// resumes at the chunk it interrupted: no row twice, none missing. `nil` when none is due.
    func fanOutNextCampaign(now: Timestamp, contactsPerChunk: Int64) async throws -> CampaignFanOutStep?

    /// Brings the query planner's statistics of the send ledger up to date after a large
    /// fan-out, where the store keeps any (PostgreSQL); a no-op elsewhere.
    func refreshLedgerStatistics() async throws

    /// The campaign's ledger rows by status.
    func campaignLedgerCounts(id: Int64) async throws -> [EmailStatus: Int]

    /// Unique contacts per provider event about the campaign's messages (the activities linked
    /// to its ledger rows: `email.delivered`, `email.opened`, ...) and per `email.unsubscribed`
    /// naming the campaign; by activity type.
    func campaignEngagement(id: Int64) async throws -> [String: Int]

    /// The campaign's first opens and first clicks per contact, counted in spans of
    /// `bucketSeconds` (only spans with any), in time order: the opens and clicks of its stats,
    /// over time.
    func campaignEngagementTimeline(id: Int64, bucketSeconds: Int64) async throws -> [CampaignEngagementBucket]

    /// Unsubscribes the contact from a campaign's link, in one transaction: consent revoked
    /// (source `unsubscribe`), an `email.unsubscribed` activity naming the campaign, and the
    /// contact's queued campaign messages cancelled. Idempotent: again, it changes nothing.
    /// Answers the contact's address; `nil` when the contact was erased.
    func unsubscribe(contactID: Int64, campaignID: Int64, at time: Timestamp) async throws -> EmailAddress?

    /// The secret `name`, made by `make` and kept on first use (the first writer wins, so
    /// every instance gets the same value).
    func secret(named name: String, orMake make: @Sendable () -> String) async throws -> String
}
