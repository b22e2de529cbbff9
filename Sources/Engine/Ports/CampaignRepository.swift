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
}
