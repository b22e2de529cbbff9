import CortexTestSupport
import Testing

@testable import Engine

/// Paging through the activity feed, the send ledger and the raw archive on every store: page
/// after page with a small limit, each page going on after the previous page's last row, gives
/// every row exactly once, in the listing's order, with its filters.
@Suite struct ListPagingConformanceTests {
    static let t0 = Timestamp.at("2026-11-26T12:00:00Z")

    /// Every row `fetch` gives, `limit` at a time, each page asked for after the last row of
    /// the one before; every page but the last is full. Stops after 100 pages, so a cursor that
    /// does not move on fails the test instead of hanging it.
    static func paged<Row>(limit: Int, id: (Row) -> Int64, _ fetch: (Int64?) async throws -> [Row]) async throws -> [Row] {
        var rows: [Row] = []
        var cursor: Int64?
        for _ in 0..<100 {
            let page = try await fetch(cursor)
            #expect(page.count <= limit)
            rows += page
            guard page.count == limit, let last = page.last else { return rows }
            cursor = id(last)
        }
        Issue.record("still paging after 100 pages")
        return rows
    }

    @Test(arguments: StoreBackend.enabled)
    func theActivityFeedPagesInItsOrderOfOccurrenceThenId(backend: StoreBackend) async throws {
        try await backend.withStore { store in
            // Occurrence times out of id order, with ties (also across page boundaries).
            let minutes: [Int64] = [30, 10, 20, 20, 50, 20, 40, 10, 20, 60, 0]
            var written: [(id: Int64, at: Timestamp, email: String, type: String)] = []
            for (index, minute) in minutes.enumerated() {
                let email = index % 3 == 0 ? "bo@example.com" : "ada@example.com"
                let type = index % 2 == 0 ? "checkout.completed" : "email.opened"
                let at = Self.t0.adding(seconds: minute * 60)
                let outcome = try await store.ingest(
                    delivery(id: "evt_\(index)", at: Self.t0),
                    activities: [NewActivity(type: type, contactEmail: .of(email), occurredAt: at, metadata: "{}")])
                written.append((try #require(outcome.activityIDs.first), at, email, type))
            }
            let newestFirst = written.sorted { ($0.at, $0.id) > ($1.at, $1.id) }
            for (email, type) in [(nil, nil), ("ada@example.com", nil), (nil, "email.opened"), ("bo@example.com", "checkout.completed")] {
                let expected = newestFirst.filter { row in email.map { row.email == $0 } ?? true && type.map { row.type == $0 } ?? true }
                for limit in [1, 2, 3] {
                    let rows = try await Self.paged(limit: limit, id: \.id) { before in
                        try await store.activities(
                            ActivityQuery(email: email.map { EmailAddress.of($0) }, type: type, limit: limit, before: before))
                    }
                    #expect(rows.map(\.id) == expected.map(\.id), "email \(email ?? "-"), type \(type ?? "-"), limit \(limit)")
                }
                #expect(try await store.activities(ActivityQuery(email: email.map { .of($0) }, type: type, limit: 100)).map(\.id) == expected.map(\.id))
            }
        }
    }

    @Test(arguments: StoreBackend.enabled)
    func aCursorToAnActivityThatIsGoneIsNotFound(backend: StoreBackend) async throws {
        try await backend.withStore { store in
            let outcome = try await store.ingest(delivery(id: "evt_1"), activities: [activity(email: "ada@example.com")])
            let id = try #require(outcome.activityIDs.first)
            #expect(try await store.activities(ActivityQuery(before: id)).isEmpty)
            #expect(try await store.eraseContact(.of("ada@example.com")))
            await #expect(throws: StoreError.self) { try await store.activities(ActivityQuery(before: id)) }
            await #expect(throws: StoreError.self) { try await store.activities(ActivityQuery(before: id + 1000)) }
        }
    }

    @Test(arguments: StoreBackend.enabled)
    func theLedgerPagesNewestFirstById(backend: StoreBackend) async throws {
        try await backend.withStore { store in
            var written: [(id: Int64, email: String)] = []
            for index in 0..<10 {
                let email = index % 3 == 0 ? "bo@example.com" : "ada@example.com"
                let message = NewEmailJob(
                    idempotencyKey: "m\(index)", recipient: .of(email), sender: "shop@example.com", subject: "Hi", html: nil, text: "Hi")
                written.append((try await store.enqueueEmail(message, at: Self.t0.adding(seconds: Int64(index))).job.id, email))
            }
            let raw = try #require(store as? any GroupCommittingStore)
            try await raw.execute(rawSQL: "UPDATE email_jobs SET status = 'cancelled' WHERE id % 3 = 0")
            let newestFirst = written.sorted { $0.id > $1.id }
            for (email, status) in [(nil, nil), ("ada@example.com", nil), (nil, EmailStatus.cancelled), ("ada@example.com", .queued)] {
                let expected = newestFirst.filter { row in
                    email.map { row.email == $0 } ?? true && status.map { ($0 == .cancelled) == (row.id % 3 == 0) } ?? true
                }
                #expect(!expected.isEmpty)
                for limit in [1, 3, 4] {
                    let rows = try await Self.paged(limit: limit, id: \.id) { before in
                        try await store.emailJobs(EmailJobQuery(email: email.map { .of($0) }, status: status, limit: limit, before: before))
                    }
                    #expect(rows.map(\.id) == expected.map(\.id), "email \(email ?? "-"), status \(status?.rawValue ?? "-"), limit \(limit)")
                }
            }
        }
    }

    @Test(arguments: StoreBackend.enabled)
    func theArchivePagesNewestFirstById(backend: StoreBackend) async throws {
        try await backend.withStore { store in
            for index in 0..<8 {
                let source = index % 2 == 0 ? "checkout" : "postmark"
                _ = try await store.ingest(delivery(source: source, id: "evt_\(index % 4)", at: Self.t0), activities: [])
                if index % 3 == 0 { try await store.archiveRejected(delivery(source: source, id: "bad_\(index)"), reason: "invalid_json") }
            }
            let all = try await store.inboundEvents(InboundQuery(limit: 100))
            #expect(all.count == 11)
            #expect(all.map(\.id) == all.map(\.id).sorted(by: >))
            #expect(Set(all.map(\.verdict)) == [.accepted, .duplicate, .rejected])
            for (source, verdict) in [(nil, nil), ("checkout", nil), (nil, InboundVerdict.duplicate), ("postmark", .accepted)] {
                let expected = all.filter { row in source.map { row.source == $0 } ?? true && verdict.map { row.verdict == $0 } ?? true }
                #expect(!expected.isEmpty)
                for limit in [1, 2, 5] {
                    let rows = try await Self.paged(limit: limit, id: \.id) { before in
                        try await store.inboundEvents(InboundQuery(source: source, verdict: verdict, limit: limit, before: before))
                    }
                    #expect(rows.map(\.id) == expected.map(\.id), "source \(source ?? "-"), verdict \(verdict?.rawValue ?? "-"), limit \(limit)")
                }
            }
        }
    }
}
