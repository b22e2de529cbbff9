/// Which claimed messages are withheld rather than sent, for both stores. Checked on each
/// claimed batch, in the claim's transaction, so a suppression or an unsubscribe committed
/// before the claim is honoured by it, and the check costs a batch's worth of lookups, not a
/// pass over every queued row (a campaign queues hundreds of thousands at once).
public enum LedgerRules {
    /// Why `job` is not sent: its recipient is suppressed (any message), or it belongs to a
    /// campaign and its contact revoked consent (unsubscribed); `nil` to send it.
    public static func withheld(_ job: EmailJob, suppressed: Set<String>, revoked: Set<Int64>) -> (status: EmailStatus, message: String)? {
        if suppressed.contains(job.message.recipient.value) { return (.suppressed, "the recipient is suppressed") }
        if job.campaignID != nil, let contact = job.contactID, revoked.contains(contact) {
            return (.cancelled, "the recipient unsubscribed")
        }
        return nil
    }
}
