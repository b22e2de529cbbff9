import Foundation
import Testing

@testable import Engine
import CortexTestSupport

@Suite struct SQLiteDurabilityTests {
    @Test func usesWALAndFullSynchronousCommits() async throws {
        let store = try SQLiteStore(path: try StoreBackend.temporaryDirectory().appendingPathComponent("c.sqlite").path)
        try await store.migrate()
        let settings = try await store.durabilitySettings()
        #expect(settings.journalMode == "wal")
        // 2 is FULL: the WAL is synced on every commit, so an acknowledged write survives power loss.
        #expect(settings.synchronous == 2)
    }

    @Test func anUnopenableFileIsAStoreError() {
        #expect(throws: StoreError.self) { try SQLiteStore(path: "/nonexistent-dir/for/sure/cortex.sqlite") }
    }
}
