import CortexTestSupport
import Engine
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

@testable import Gateway

/// The archive's bounds through the API: a rejected body keeps a prefix, old bodies are pruned,
/// and neither can be replayed; the server runs the pruner.
@Suite struct ArchiveRetentionTests {
    /// An archive row's id, as its JSON number text.
    static func id(_ row: JSON) -> String {
        if case .number(let text)? = row["id"] { return text }
        return "none"
    }

    @Test(arguments: StoreBackend.enabled)
    func cutAndPrunedBodiesShowInTheArchiveAndAreNotReplayed(backend: StoreBackend) async throws {
        try await TestApp.with(backend) { app in
            let good = #"{"type":"checkout.completed","data":{"email":"ada@example.com"}}"#
            // Authentic but not JSON (unterminated): archived as rejected, about 100 KB received.
            let bad = #"{"type":"checkout.completed","pad":""# + String(repeating: "x", count: 100_000)
            try await app.test { client in
                let accepted = try await client.execute(
                    uri: "/webhooks/checkout", method: .post, headers: try app.signed(good, id: "msg_keep"), body: .init(good))
                #expect(accepted.status == .accepted)
                let rejected = try await client.execute(
                    uri: "/webhooks/checkout", method: .post, headers: try app.signed(bad, id: "msg_bad"), body: .init(bad))
                #expect(rejected.status == .badRequest)

                let rows = try #require(try await client.execute(uri: "/v1/inbound", method: .get, headers: app.bearer).json["data"]?.arrayValue)
                let (cut, whole) = (rows[0], rows[1])
                #expect(cut["verdict"] == .string("rejected"))
                #expect(cut["body"] == .string(String(bad.prefix(RejectedBodyPrefix.limit))))
                #expect(cut["body_length"] == .int(bad.utf8.count))
                #expect(cut["body_truncated"] == .bool(true) && cut["body_pruned"] == .bool(false))
                #expect(whole["body"] == .string(good) && whole["body_length"] == .int(good.utf8.count))
                #expect(whole["body_truncated"] == .bool(false) && whole["body_pruned"] == .bool(false))

                let replayCut = try await client.execute(
                    uri: "/v1/inbound/\(Self.id(cut))/replay", method: .post, headers: app.bearer)
                #expect(replayCut.status == .conflict)
                #expect(replayCut.errorCode == "body_truncated")
            }

            _ = try await app.store.pruneInboundBodies(
                receivedBefore: app.clock.now().adding(seconds: 1), limit: 100, at: app.clock.now())
            try await app.test { client in
                let rows = try #require(try await client.execute(uri: "/v1/inbound", method: .get, headers: app.bearer).json["data"]?.arrayValue)
                let pruned = rows[1]
                #expect(pruned["body_pruned"] == .bool(true) && pruned["body_truncated"] == .bool(false))
                #expect(pruned["body"] == .null && pruned["body_base64"] == .null)
                #expect(pruned["headers"] == .object([:]))
                #expect(pruned["body_length"] == .int(good.utf8.count))
                #expect(pruned["verdict"] == .string("accepted") && pruned["external_id"] == .string("msg_keep"))

                let replay = try await client.execute(
                    uri: "/v1/inbound/\(Self.id(pruned))/replay", method: .post, headers: app.bearer)
                #expect(replay.status == .conflict)
                #expect(replay.errorCode == "body_pruned")

                // The sender retries the old event: still a duplicate, nothing written again.
                let retry = try await client.execute(
                    uri: "/webhooks/checkout", method: .post, headers: try app.signed(good, id: "msg_keep"), body: .init(good))
                #expect(retry.status == .accepted)
                #expect(retry.json["duplicate"] == .bool(true))
            }
            #expect(try await app.counts().activities == 1)
        }
    }

    @Test func theServerPrunesOldBodiesOnceMigrated() async throws {
        let directory = try StoreBackend.temporaryDirectory()
        let path = directory.appendingPathComponent("cortex.sqlite").path
        let store = try SQLiteStore(path: path)
        try await store.migrate()
        _ = try await store.ingest(delivery(id: "ancient", at: .at("2020-01-01T00:00:00Z")), activities: [])
        _ = try await store.ingest(delivery(id: "fresh", at: SystemWallClock().now()), activities: [])
        let reader = try await CortexConfiguration.reader(
            environment: [
                "CORTEX_HTTP_PORT": "0", "CORTEX_DATABASE_URL": "sqlite:\(path)", "CORTEX_ARCHIVE_RETENTION_DAYS": "7",
            ],
            file: nil)
        let app = try await buildApplication(reader: reader)
        try await app.test(.live) { _ in
            // Bounded wait for the pruner's first pass, which runs at start.
            try await withDeadline(.seconds(10)) {
                while try await store.inboundEvents(InboundQuery()).contains(where: { $0.externalID == "ancient" && !$0.bodyPruned }) {
                    await Task.yield()
                }
            }
        }
        let rows = try await store.inboundEvents(InboundQuery())
        #expect(rows.map { "\($0.externalID ?? ""):\($0.bodyPruned)" } == ["fresh:false", "ancient:true"])
    }

    @Test func retentionZeroRunsNoPruner() async throws {
        var app = try await TestApp.make { $0.archiveRetentionDays = 0 }
        var dependencies = app.dependencies
        dependencies.runsArchivePruner = true
        #expect(dependencies.archivePruners.isEmpty)
        app = try await TestApp.make()
        dependencies = app.dependencies
        dependencies.runsArchivePruner = true
        #expect(dependencies.archivePruners.count == 1)
    }
}
