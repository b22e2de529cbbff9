import Foundation
import Logging
import PostgresNIO

/// The raw archive, replay and suppressions.
extension PostgresStore {
    private typealias InboundRow = (Int64, String, String?, Int64, String, Data, String, String?, Int64?, Int64?, Int64?)

    private static let inboundColumns = """
        id, source, external_id, cortex_us(received_at), headers::text, body, verdict, reason, duplicate_of,
        body_length, cortex_us(body_pruned_at)
        """

    private static func inboundEvent(_ row: InboundRow) -> InboundEvent {
        InboundEvent(
            id: row.0, source: row.1, externalID: row.2, receivedAt: Timestamp(microseconds: row.3), headers: row.4,
            body: [UInt8](row.5), verdict: InboundVerdict(rawValue: row.6) ?? .rejected, reason: row.7,
            duplicateOf: row.8, bodyLength: row.9.map(Int.init), bodyPrunedAt: row.10.map(Timestamp.init(microseconds:)))
    }

    public func archiveRejected(_ delivery: InboundDelivery, reason: String) async throws {
        let headers = delivery.headersJSON
        let kept = RejectedBodyPrefix.of(delivery.body)
        let length = kept.count < delivery.body.count ? Int64(delivery.body.count) : nil
        try await mapped { [self] in
            try await client.query(
                """
                INSERT INTO inbound_events (source, external_id, received_at, headers, body, body_length, verdict, reason)
                VALUES (\(delivery.source), \(delivery.externalID), cortex_ts(\(delivery.receivedAt.microseconds)),
                        \(headers)::jsonb, \(Data(kept)), \(length), 'rejected', \(reason))
                """, logger: logger)
        }
    }

    public func pruneInboundBodies(receivedBefore cutoff: Timestamp, limit: Int, at time: Timestamp) async throws -> Int {
        // SKIP LOCKED: instances pruning at once take different rows, and a row a replay holds
        // is left for the next pass instead of waited for.
        let pruned = try await mapped { [self] in
            try await client.query(
                """
                WITH pruned AS (
                    UPDATE inbound_events
                    SET body = ''::bytea, headers = '{}'::jsonb, body_length = COALESCE(body_length, octet_length(body)),
                        body_pruned_at = cortex_ts(\(time.microseconds))
                    WHERE id IN (
                        SELECT id FROM inbound_events
                        WHERE body_pruned_at IS NULL AND received_at < cortex_ts(\(cutoff.microseconds))
                        ORDER BY received_at LIMIT \(limit)
                        FOR UPDATE SKIP LOCKED)
                    RETURNING 1)
                SELECT count(*) FROM pruned
                """, logger: logger
            ).decode(Int64.self).first { _ in true }
        }
        return Int(pruned ?? 0)
    }

    public func inboundEvents(_ query: InboundQuery) async throws -> [InboundEvent] {
        let verdict = query.verdict?.rawValue
        return try await mapped { [self] in
            try await client.query(
                """
                SELECT \(unescaped: Self.inboundColumns) FROM inbound_events
                WHERE (\(query.source)::text IS NULL OR source = \(query.source))
                  AND (\(verdict)::text IS NULL OR verdict = \(verdict))
                  AND (\(query.before)::bigint IS NULL OR id < \(query.before))
                ORDER BY id DESC
                LIMIT \(query.limit)
                """, logger: logger
            ).decode(InboundRow.self).collectAll().map(Self.inboundEvent)
        }
    }

    public func inboundEvent(id: Int64) async throws -> InboundEvent? {
        try await mapped { [self] in
            try await client.query(
                "SELECT \(unescaped: Self.inboundColumns) FROM inbound_events WHERE id = \(id)", logger: logger
            ).decode(InboundRow.self).first { _ in true }.map(Self.inboundEvent)
        }
    }

    public func replayInbound(id: Int64, activities: [NewActivity], suppressions: [SuppressionChange]) async throws
        -> IngestOutcome
    {
        defer { workSignals[.activities].notify() }  // It may have written activities: wake the watcher.
        let logger = logger
        return try await mapped { [self] in
            try await client.withTransaction(logger: logger) { connection in
                guard
                    let row = try await connection.query(
                        "SELECT \(unescaped: Self.inboundColumns) FROM inbound_events WHERE id = \(id) FOR UPDATE",
                        logger: logger
                    ).decode(InboundRow.self).first(where: { _ in true })
                else { throw StoreError.notFound("no archived delivery \(id)") }
                let event = Self.inboundEvent(row)
                if let original = event.duplicateOf {
                    return IngestOutcome(
                        activityIDs: try await Self.activityIDs(connection, inboundID: original, logger: logger),
                        duplicate: true, inboundID: original)
                }
                if event.verdict == .rejected, let externalID = event.externalID,
                    let holder = try await connection.query(
                        """
                        SELECT id FROM inbound_events
                        WHERE source = \(event.source) AND external_id = \(externalID) AND verdict = 'accepted' AND id <> \(id)
                        """, logger: logger
                    ).decode(Int64.self).first(where: { _ in true })
                {
                    return IngestOutcome(
                        activityIDs: try await Self.activityIDs(connection, inboundID: holder, logger: logger),
                        duplicate: true, inboundID: holder)
                }
                try await connection.query(
                    "UPDATE inbound_events SET verdict = 'accepted', reason = NULL WHERE id = \(id)", logger: logger)
                let existing = try await Self.activityIDs(connection, inboundID: id, logger: logger)
                var ids: [Int64] = []
                for (index, activity) in activities.enumerated() {
                    if index < existing.count {
                        let contactID = try await Self.upsertContact(connection, activity, at: event.receivedAt, logger: logger)
                        try await connection.query(
                            """
                            UPDATE crm_activities SET type = \(activity.type), contact_id = \(contactID),
                                contact_email = \(activity.contactEmail.value),
                                occurred_at = cortex_ts(\(activity.occurredAt.microseconds)),
                                metadata = \(activity.metadata)::jsonb || COALESCE((SELECT jsonb_build_object('email_job_id', j.id)
                                    FROM email_jobs j WHERE j.provider_message_id = \(activity.providerMessageID) ORDER BY j.id LIMIT 1),
                                    '{}'::jsonb)
                            WHERE id = \(existing[index])
                            """, logger: logger)
                        ids.append(existing[index])
                    } else {
                        ids.append(
                            try await Self.insertActivity(
                                connection, activity, inboundID: id, source: event.source, sourceEventID: event.externalID,
                                receivedAt: event.receivedAt, logger: logger))
                    }
                }
                for surplus in existing.dropFirst(activities.count) {
                    try await connection.query("DELETE FROM crm_activities WHERE id = \(surplus)", logger: logger)
                }
                try await Self.apply(suppressions, connection, logger: logger)
                return IngestOutcome(activityIDs: ids, duplicate: false, inboundID: id)
            }
        }
    }

    public func recordReplayFailure(id: Int64, reason: String) async throws {
        try await mapped { [self] in
            try await client.query(
                "UPDATE inbound_events SET reason = \(reason) WHERE id = \(id) AND verdict = 'rejected'", logger: logger)
        }
    }

    static func apply(_ changes: [SuppressionChange], _ connection: PostgresConnection, logger: Logger) async throws {
        for change in changes {
            switch change {
            case .suppress(let email, let reason, let time):
                try await connection.query(
                    """
                    INSERT INTO suppressions (email, reason, created_at)
                    VALUES (\(email.value), \(reason), cortex_ts(\(time.microseconds)))
                    ON CONFLICT (email) DO NOTHING
                    """, logger: logger)
            case .lift(let email, let time):
                try await connection.query(
                    "DELETE FROM suppressions WHERE email = \(email.value) AND created_at <= cortex_ts(\(time.microseconds))",
                    logger: logger)
            }
        }
    }

    public func suppressions(limit: Int) async throws -> [SuppressedAddress] {
        let rows = try await mapped { [self] in
            try await client.query(
                """
                SELECT email, reason, cortex_us(created_at) FROM suppressions
                ORDER BY created_at DESC, email LIMIT \(limit)
                """, logger: logger
            ).decode((String, String, Int64).self).collectAll()
        }
        return rows.compactMap { row in
            EmailAddress(row.0).map {
                SuppressedAddress(email: $0, suppression: Suppression(reason: row.1, since: Timestamp(microseconds: row.2)))
            }
        }
    }

    public func liftSuppression(email: EmailAddress) async throws -> Bool {
        try await mapped { [self] in
            try await client.query(
                "DELETE FROM suppressions WHERE email = \(email.value) RETURNING email", logger: logger
            ).decode(String.self).first { _ in true } != nil
        }
    }
}
