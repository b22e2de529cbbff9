/// The send ledger: one row per message, the only road to a provider.
///
/// Claims are leases: due rows are leased (`FOR UPDATE SKIP LOCKED` on
/// PostgreSQL), a lease that runs out (a crashed sender) makes the row claimable again, and a
/// row is never claimed by two senders at once.
public protocol EmailLedger: Sendable {
    /// Adds messages in one transaction, each unless its idempotency key is known; answers
    /// each one's row (`created` false for a known key), in order. Wakes idle senders.
    func enqueueEmails(_ messages: [NewEmailJob], at time: Timestamp) async throws -> [(job: EmailJob, created: Bool)]

    /// Marks due messages to suppressed addresses `suppressed`, then claims up to `limit` due
    /// messages (`sending`, attempts + 1, leased until `now + leaseSeconds`).
    func claimEmailJobs(limit: Int, now: Timestamp, leaseSeconds: Int64) async throws -> [EmailJob]

    /// Of `ids`, the messages still held under the lease that ends at `heldUntil` (still
    /// `sending`, not claimed again by another sender since it ran out), leased again until
    /// `until`; answers them. A sender calls it before it hands over a batch that waited long.
    func renewEmailLeases(_ ids: [Int64], heldUntil: Timestamp, until: Timestamp) async throws -> Set<Int64>

    /// Records each claimed message's own result, in one transaction.
    func recordEmailOutcomes(_ outcomes: [(id: Int64, outcome: EmailOutcome)], at time: Timestamp) async throws

    func emailJob(id: Int64) async throws -> EmailJob?

    func emailJobs(_ query: EmailJobQuery) async throws -> [EmailJob]

    /// When the next queued message is due or a lease ends; `nil` when there is nothing to send.
    func nextEmailDue() async throws -> Timestamp?
}

extension EmailLedger {
    /// Adds one message (see ``enqueueEmails(_:at:)``).
    public func enqueueEmail(_ message: NewEmailJob, at time: Timestamp) async throws -> (job: EmailJob, created: Bool) {
        guard let result = try await enqueueEmails([message], at: time).first else {
            throw StoreError.unavailable("the enqueued message could not be read back")
        }
        return result
    }
}
