import Foundation
import Testing

@testable import Engine
import CortexTestSupport

/// The sender claims a batch every pass; on SQLite its statement must walk the partial index of
/// due rows. It once scanned and sorted the whole ledger (sent rows included) on every claim,
/// so a 100,000-recipient campaign slowed as it went and every old campaign slowed the next.
@Suite struct SQLiteLedgerPlanTests {
    @Test func theClaimWalksTheDueIndexWithoutSorting() async throws {
        let store = try SQLiteStore(path: try StoreBackend.temporaryDirectory().appendingPathComponent("p.sqlite").path)
        try await store.migrate()
        let now = Timestamp(microseconds: 1_800_000_000_000_000)
        let plan = try await store.queryPlan(
            of: DirectoryStatement(
                sql: SQLiteStore.claimSQL,
                bindings: [.integer(now.adding(seconds: 120).microseconds), .integer(now.microseconds), .integer(now.microseconds), .integer(500)]))
        #expect(plan.contains { $0.contains("USING INDEX email_jobs_due") }, "\(plan)")
        #expect(!plan.contains { $0.contains("TEMP B-TREE") }, "\(plan)")
        #expect(!plan.contains { $0.trimmingCharacters(in: .whitespaces) == "SCAN email_jobs" }, "\(plan)")
    }
}
