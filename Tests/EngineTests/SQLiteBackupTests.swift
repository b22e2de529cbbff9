import CortexTestSupport
import Foundation
import Synchronization
import Testing

@testable import Engine

/// `cortex backup` (issue #14 item 5): an online copy of a SQLite store taken while it is
/// written is a sound database holding exactly the rows of one moment.
@Suite struct SQLiteBackupTests {
    static func event(_ n: Int) -> (InboundDelivery, [NewActivity]) {
        (delivery(id: "evt-\(n)", body: #"{"n":\#(n)}"#), [activity(email: "user\(n)@example.com")])
    }

    @Test func aBackupTakenDuringWritesIsOneConsistentMoment() async throws {
        let directory = try StoreBackend.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let store = try SQLiteStore(path: directory.appendingPathComponent("cortex.sqlite").path)
        try await store.migrate()
        for n in 0..<200 { _ = try await store.ingest(Self.event(n).0, activities: Self.event(n).1, suppressions: []) }

        // Writers go on through the backup: one event at a time, each its own transaction
        // (an inbound row, a contact and an activity), counted as committed.
        let progress = WriterProgress(committed: 200)
        let writer = Task {
            var n = 200
            while !progress.stop.load(ordering: .acquiring), n < 200_000 {
                _ = try await store.ingest(Self.event(n).0, activities: Self.event(n).1, suppressions: [])
                n += 1
                progress.committed.store(n, ordering: .releasing)
            }
        }
        // Let the writer get going (a bounded wait on what it did, not a sleep).
        try await withDeadline(.seconds(20)) { while progress.committed.load(ordering: .acquiring) < 300 { await Task.yield() } }
        let before = progress.committed.load(ordering: .acquiring)
        let copyPath = directory.appendingPathComponent("backup.sqlite").path
        let summary = try await store.backup(to: copyPath, replacing: false)
        let after = progress.committed.load(ordering: .acquiring)
        progress.stop.store(true, ordering: .releasing)
        try await writer.value
        #expect(after > before, "writes went on during the backup")

        #expect(summary.path == copyPath)
        #expect(summary.bytes > 0 && summary.pages > 0)
        let copy = try SQLiteStore(path: copyPath)
        #expect(try await copy.integrityCheck() == ["ok"])
        // One moment: every committed transaction before the backup began is in the copy, none
        // is in part (each event's three rows are there together), and nothing after it ended.
        let inbound = try await copy.rowCount("inbound_events")
        // (`after` is read once the backup returned: the one write in flight then may be in the copy.)
        #expect(inbound >= before && inbound <= after + 1)
        #expect(try await copy.rowCount("crm_activities") == inbound)
        #expect(try await copy.rowCount("contacts") == inbound)
        // The events are a prefix of the order they were written in: no gap.
        let latest = try await copy.activities(ActivityQuery(email: .of("user\(inbound - 1)@example.com")))
        #expect(latest.count == 1)
        #expect(try await copy.activities(ActivityQuery(email: .of("user\(inbound)@example.com"))).isEmpty)
        // Nothing left beside it but the source and the copy.
        let names = try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.contains("partial") }
        #expect(names.isEmpty)
    }

    @Test func anExistingFileIsReplacedOnlyWhenAskedAndTheSourceNever() async throws {
        let directory = try StoreBackend.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let source = directory.appendingPathComponent("cortex.sqlite").path
        let store = try SQLiteStore(path: source)
        try await store.migrate()
        _ = try await store.ingest(Self.event(1).0, activities: Self.event(1).1, suppressions: [])
        let target = directory.appendingPathComponent("taken.sqlite").path
        try Data("precious".utf8).write(to: URL(fileURLWithPath: target))

        await #expect { try await store.backup(to: target, replacing: false) } throws: { error in
            (error as? StoreError)?.kind == .conflict
        }
        #expect(try Data(contentsOf: URL(fileURLWithPath: target)) == Data("precious".utf8))
        await #expect { try await store.backup(to: source, replacing: true) } throws: { error in
            (error as? StoreError)?.kind == .invalid
        }

        _ = try await store.backup(to: target, replacing: true)
        #expect(try await SQLiteStore(path: target).rowCount("crm_activities") == 1)
        let left = try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.contains("partial") }
        #expect(left.isEmpty)
    }
}

/// How far a writer running beside a test has got, and whether it should stop.
final class WriterProgress: Sendable {
    let committed: Atomic<Int>
    let stop = Atomic<Bool>(false)

    init(committed: Int) {
        self.committed = Atomic(committed)
    }
}
