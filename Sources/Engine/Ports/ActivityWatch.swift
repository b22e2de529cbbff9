/// What the automation watcher reads: activities in commit order after a saved cursor, which
/// of them an event rule matches, and the cursor itself (ENGINE.md §4).
public protocol ActivityWatch: Sendable {
    /// Up to `limit` activities with ids above `cursor`, in id order.
    func activities(after cursor: Int64, limit: Int) async throws -> [Activity]

    /// The ids in `(after, through]` of activities `condition` matches (type, `where`, window).
    func activityIDs(after: Int64, through: Int64, matching condition: ActivityCondition, at now: Timestamp) async throws -> [Int64]

    func activity(id: Int64) async throws -> Activity?

    /// Whether the contact has an activity `condition` matches that was received at or after
    /// `since`, other than activity `excluding` (a wait's lookback).
    func hasActivity(of email: EmailAddress, matching condition: ActivityCondition, since: Timestamp, excluding: Int64, at now: Timestamp)
        async throws -> Bool

    /// The last activity id the watcher named `name` has handled; `nil` before it first ran.
    func watchCursor(_ name: String) async throws -> Int64?
    /// Moves the cursor forward to `id` (never back).
    func saveWatchCursor(_ name: String, _ id: Int64) async throws
    /// The highest activity id committed, 0 when there is none.
    func latestActivityID() async throws -> Int64

    /// Whether activity ids become visible in id order: SQLite's single writer commits them so;
    /// PostgreSQL's concurrent transactions do not.
    var commitsInIDOrder: Bool { get }
}
