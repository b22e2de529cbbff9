/// The one-click unsubscribe link of a campaign's message to a contact (ENGINE.md §5):
/// `CORTEX_PUBLIC_URL/u/TOKEN`, the token unforgeable and naming the campaign and the contact.
public protocol UnsubscribeLinks: Sendable {
    func url(campaignID: Int64, contactID: Int64) async throws -> String
}
