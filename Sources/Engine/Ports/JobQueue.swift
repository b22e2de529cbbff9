/// A durable work queue in the database, in the manner of River: jobs are rows; a worker claims
/// due rows with a lease (`FOR UPDATE SKIP LOCKED` on PostgreSQL, so concurrent workers on any
/// instance never claim the same row); a claim whose lease runs out before completion (a crashed
/// worker) becomes claimable again.
public protocol JobQueue: Sendable {
    /// Notified, by topic, when work is added: in this process, and on PostgreSQL in every
    /// instance (LISTEN/NOTIFY, a channel per topic), so idle workers wake at once instead of
    /// polling. Jobs notify ``WorkTopic/jobs``; queued mail ``WorkTopic/email``.
    var workSignals: WorkSignals { get }

    /// Adds a job due at `runAt`; returns its id.
    func enqueueJob(kind: String, payload: String, runAt: Timestamp) async throws -> Int64

    /// Claims up to `limit` due jobs of `kind`, oldest due first, leased until `now + leaseSeconds`.
    func claimJobs(kind: String, limit: Int, now: Timestamp, leaseSeconds: Int64) async throws -> [Job]

    /// Marks a claimed job done; it is never claimed again.
    func completeJob(id: Int64, at time: Timestamp) async throws

    /// When the earliest unfinished job of `kind` is due (or its lease ends), for a worker to
    /// sleep until then; `nil` when there is none.
    func nextJobDue(kind: String) async throws -> Timestamp?
}
