import CortexTestSupport
import Testing

@testable import Engine

/// A members page probes contacts one by one over a window, then hands over to sets
/// (``MemberPageWalk``): on every store, the hand-over loses, repeats and reorders nothing.
@Suite struct MemberPageWalkConformanceTests {
    static let now = Timestamp(seconds: 1_800_000_000)
    /// Enough contacts that the walk crosses its window.
    static let contacts = MemberPageWalk.probeWindow + 50

    static func email(_ k: Int) -> EmailAddress { EmailAddress("user\(k)@example.com")! }

    /// Contacts 1...`contacts` with ids equal to their number, written in one statement.
    static func seed(_ store: any Store, dialect: SQLDialect) async throws {
        let raw = try #require(store as? any GroupCommittingStore)
        let rows =
            dialect == .sqlite
            ? "WITH RECURSIVE k(k) AS (SELECT 1 UNION ALL SELECT k + 1 FROM k WHERE k < \(contacts))"
            : "WITH k AS (SELECT generate_series(1, \(contacts))::bigint AS k)"
        let time = dialect == .sqlite ? "\(now.microseconds)" : "cortex_ts(\(now.microseconds))"
        try await raw.execute(
            rawSQL: """
                \(rows)
                INSERT INTO contacts (id, email, created_at, updated_at) SELECT k, 'user' || k || '@example.com', \(time), \(time) FROM k
                """)
    }

    @Test(arguments: StoreBackend.enabled)
    func aPageCrossingTheProbingWindowHoldsEveryMatchOnceInOrder(backend: StoreBackend) async throws {
        try await backend.withStore { store in
            try await Self.seed(store, dialect: backend == .sqlite ? SQLDialect.sqlite : .postgres)
            let window = MemberPageWalk.probeWindow
            // One match inside the window and three after it: the first page must take the sets'
            // matches after the window, starting right after it.
            let rare = [3, window + 1, window + 20, window + 40]
            for k in rare { _ = try await store.addTags(["rare"], to: Self.email(k), at: Self.now) }
            let filter = Filter.tag("rare")

            let first = try await store.contactEmails(matching: filter, after: nil, limit: 2, at: Self.now)
            #expect(first.emails == [Self.email(3), Self.email(window + 1)])
            let cursor = try #require(first.nextCursor)
            let second = try await store.contactEmails(matching: filter, after: cursor, limit: 2, at: Self.now)
            #expect(second.emails == [Self.email(window + 20), Self.email(window + 40)])
            #expect(second.nextCursor == nil)

            // A filter that matches no one walks the whole window, then the sets: an empty last page.
            let none = try await store.contactEmails(matching: .tag("nobody"), after: nil, limit: 2, at: Self.now)
            #expect(none == DirectoryPage(emails: [], nextCursor: nil))
        }
    }
}
