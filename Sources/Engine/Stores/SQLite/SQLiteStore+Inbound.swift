import Foundation
import GRDB

/// The raw archive, replay and suppressions.
extension SQLiteStore {
    static let inboundColumns = """
        id, source, external_id, received_at, headers, body, verdict, reason, duplicate_of, body_length, body_pruned_at
        """

    static func inboundEvent(_ row: Row) -> InboundEvent {
        InboundEvent(
            id: row["id"], source: row["source"], externalID: row["external_id"],
            receivedAt: Timestamp(microseconds: row["received_at"]), headers: row["headers"],
            body: [UInt8](row["body"] as Data), verdict: InboundVerdict(rawValue: row["verdict"]) ?? .rejected,
            reason: row["reason"], duplicateOf: row["duplicate_of"], bodyLength: row["body_length"],
            bodyPrunedAt: (row["body_pruned_at"] as Int64?).map(Timestamp.init(microseconds:)))
    }

    public func archiveRejected(_ delivery: InboundDelivery, reason: String) async throws {
        let headers = delivery.headersJSON
        let kept = RejectedBodyPrefix.of(delivery.body)
        let length = kept.count < delivery.body.count ? delivery.body.count : nil
        try await write { db in
            try db.execute(
                sql: """
                    INSERT INTO inbound_events (source, external_id, received_at, headers, body, body_length, verdict, reason)
                    VALUES (?, ?, ?, ?, ?, ?, 'rejected', ?)
                    """,
                arguments: [
                    delivery.source, delivery.externalID, delivery.receivedAt.microseconds, headers, Data(kept), length,
                    reason,
                ])
        }
    }

    public func pruneInboundBodies(receivedBefore cutoff: Timestamp, limit: Int, at time: Timestamp) async throws -> Int {
        // One short write transaction per call: the pruner calls again for the next batch, so
        // ingests queued for the single writer get their turn in between.
        try await write { db in
            try db.execute(
                sql: """
                    UPDATE inbound_events
                    SET body = x'', headers = '{}', body_length = COALESCE(body_length, length(body)), body_pruned_at = ?
                    WHERE id IN (
                        SELECT id FROM inbound_events
                        WHERE body_pruned_at IS NULL AND received_at < ?
                        ORDER BY received_at LIMIT ?)
                    """,
                arguments: [time.microseconds, cutoff.microseconds, limit])
            return db.changesCount
        }
    }

    public func inboundEvents(_ query: InboundQuery) async throws -> [InboundEvent] {
        var filter = SQLiteFilter()
        filter.equals("source", query.source)
        filter.equals("verdict", query.verdict?.rawValue)
        if let before = query.before { filter.add("id < ?", [before]) }
        let sql = "SELECT \(Self.inboundColumns) FROM inbound_events \(filter.clause) ORDER BY id DESC LIMIT ?"
        let finalArguments = filter.arguments(limit: query.limit)
        return try await read { db in
            try Row.fetchAll(db, sql: sql, arguments: finalArguments).map(Self.inboundEvent)
        }
    }

    public func inboundEvent(id: Int64) async throws -> InboundEvent? {
        try await read { db in
            try Row.fetchOne(db, sql: "SELECT \(Self.inboundColumns) FROM inbound_events WHERE id = ?", arguments: [id])
                .map(Self.inboundEvent)
        }
    }

    public func replayInbound(id: Int64, activities: [NewActivity], suppressions: [SuppressionChange]) async throws
        -> IngestOutcome
    {
        defer { workSignals[.activities].notify() }  // It may have written activities: wake the watcher.
        return try await write { db in
            guard
                let row = try Row.fetchOne(
                    db, sql: "SELECT \(Self.inboundColumns) FROM inbound_events WHERE id = ?", arguments: [id])
            else { throw StoreError.notFound("no archived delivery \(id)") }
            let event = Self.inboundEvent(row)
            if let original = event.duplicateOf {
                return IngestOutcome(activityIDs: try Self.activityIDs(db, inboundID: original), duplicate: true, inboundID: original)
            }
            if event.verdict == .rejected, let externalID = event.externalID,
                let holder = try Int64.fetchOne(
                    db,
                    sql: "SELECT id FROM inbound_events WHERE source = ? AND external_id = ? AND verdict = 'accepted' AND id <> ?",
                    arguments: [event.source, externalID, id])
            {
                return IngestOutcome(activityIDs: try Self.activityIDs(db, inboundID: holder), duplicate: true, inboundID: holder)
            }
            try db.execute(sql: "UPDATE inbound_events SET verdict = 'accepted', reason = NULL WHERE id = ?", arguments: [id])
            let existing = try Self.activityIDs(db, inboundID: id)
            var ids: [Int64] = []
            for (index, activity) in activities.enumerated() {
                if index < existing.count {
                    let contactID = try Self.upsertContact(db, activity, at: event.receivedAt)
                    try db.execute(
                        sql: """
                            UPDATE crm_activities SET type = ?, contact_id = ?, contact_email = ?, occurred_at = ?,
                                metadata = \(Self.linkedMetadata)
                            WHERE id = ?
                            """,
                        arguments: [
                            activity.type, contactID, activity.contactEmail.value, activity.occurredAt.microseconds,
                            activity.metadata, activity.providerMessageID, activity.metadata, existing[index],
                        ])
                    ids.append(existing[index])
                } else {
                    ids.append(
                        try Self.insertActivity(
                            db, activity, inboundID: id, source: event.source, sourceEventID: event.externalID,
                            receivedAt: event.receivedAt))
                }
            }
            for surplus in existing.dropFirst(activities.count) {
                try db.execute(sql: "DELETE FROM crm_activities WHERE id = ?", arguments: [surplus])
            }
            try Self.apply(suppressions, db)
            return IngestOutcome(activityIDs: ids, duplicate: false, inboundID: id)
        }
    }

    public func recordReplayFailure(id: Int64, reason: String) async throws {
        try await write { db in
            try db.execute(
                sql: "UPDATE inbound_events SET reason = ? WHERE id = ? AND verdict = 'rejected'", arguments: [reason, id])
        }
    }

    static func apply(_ changes: [SuppressionChange], _ db: Database) throws {
        for change in changes {
            switch change {
            case .suppress(let email, let reason, let time):
                try db.cachedStatement(
                    sql: "INSERT INTO suppressions (email, reason, created_at) VALUES (?, ?, ?) ON CONFLICT (email) DO NOTHING"
                ).execute(arguments: [email.value, reason, time.microseconds])
            case .lift(let email, let time):
                try db.cachedStatement(sql: "DELETE FROM suppressions WHERE email = ? AND created_at <= ?")
                    .execute(arguments: [email.value, time.microseconds])
            }
        }
    }

    public func suppressions(limit: Int) async throws -> [SuppressedAddress] {
        try await read { db in
            try Row.fetchAll(
                db, sql: "SELECT email, reason, created_at FROM suppressions ORDER BY created_at DESC, email LIMIT ?",
                arguments: [limit]
            ).compactMap { row in
                EmailAddress(row["email"] as String).map {
                    SuppressedAddress(
                        email: $0,
                        suppression: Suppression(reason: row["reason"], since: Timestamp(microseconds: row["created_at"])))
                }
            }
        }
    }

    public func liftSuppression(email: EmailAddress) async throws -> Bool {
        try await write { db in
            try db.execute(sql: "DELETE FROM suppressions WHERE email = ?", arguments: [email.value])
            return db.changesCount > 0
        }
    }
}
