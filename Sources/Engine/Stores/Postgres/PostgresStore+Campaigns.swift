import Logging
import PostgresNIO

extension PostgresStore {
    private typealias CampaignRow = (Int64, String, String, Int64?, Int64, Int64, Int64?)
    private static let campaignColumns =
        "id, definition::text, status, cortex_us(scheduled_at), cortex_us(created_at), cortex_us(updated_at), fanout_after"

    public func createCampaign(_ definition: CampaignDefinition, at time: Timestamp) async throws -> Int64 {
        let text = JSON.object(definition.json).serialized()
        let id = try await mapped { [self] in
            try await client.query(
                """
                INSERT INTO campaigns (definition, status, created_at, updated_at)
                VALUES (\(text)::json, 'draft', cortex_ts(\(time.microseconds)), cortex_ts(\(time.microseconds)))
                RETURNING id
                """, logger: logger
            ).decode(Int64.self).first { _ in true }
        }
        guard let id else { throw StoreError.unavailable("campaign insert returned no id") }
        return id
    }

    public func campaigns() async throws -> [Campaign] {
        try await mapped { [self] in
            try await Self.campaigns(client.query("SELECT \(unescaped: Self.campaignColumns) FROM campaigns ORDER BY id DESC", logger: logger))
        }
    }

    public func campaign(id: Int64) async throws -> Campaign? {
        try await mapped { [self] in
            try await Self.campaigns(
                client.query("SELECT \(unescaped: Self.campaignColumns) FROM campaigns WHERE id = \(id)", logger: logger)
            ).first
        }
    }

    public func updateCampaign(id: Int64, _ definition: CampaignDefinition, at time: Timestamp) async throws -> Campaign? {
        let text = JSON.object(definition.json).serialized()
        return try await mapped { [self] in
            try await client.withTransaction(logger: logger) { connection -> Campaign? in
                guard let current = try await Self.locked(connection, id: id, logger: logger) else { return nil }
                guard current.status.isEditable else { throw StoreError.conflict("campaign \(id) is \(current.status.rawValue)") }
                return try await Self.campaigns(
                    connection.query(
                        """
                        UPDATE campaigns SET definition = \(text)::json, updated_at = cortex_ts(\(time.microseconds))
                        WHERE id = \(id) RETURNING \(unescaped: Self.campaignColumns)
                        """, logger: logger)
                ).first
            }
        }
    }

    public func deleteCampaign(id: Int64) async throws -> Bool {
        try await mapped { [self] in
            try await client.withTransaction(logger: logger) { connection -> Bool in
                guard let current = try await Self.locked(connection, id: id, logger: logger) else { return false }
                guard current.status.isEditable else { throw StoreError.conflict("campaign \(id) is \(current.status.rawValue)") }
                try await connection.query("DELETE FROM campaigns WHERE id = \(id)", logger: logger)
                return true
            }
        }
    }

    /// The campaign, its row locked until the transaction ends.
    private static func locked(_ connection: PostgresConnection, id: Int64, logger: Logger) async throws -> Campaign? {
        try await campaigns(
            connection.query("SELECT \(unescaped: campaignColumns) FROM campaigns WHERE id = \(id) FOR UPDATE", logger: logger)
        ).first
    }

    private static func campaigns(_ rows: PostgresRowSequence) async throws -> [Campaign] {
        var campaigns: [Campaign] = []
        for try await row in rows.decode(CampaignRow.self) {
            campaigns.append(
                try StoredCampaign(
                    id: row.0, definition: row.1, status: row.2, scheduledAt: row.3, createdAt: row.4, updatedAt: row.5,
                    fanOutAfter: row.6
                ).campaign())
        }
        return campaigns
    }
}

extension PostgresStore {
    public func scheduleCampaign(id: Int64, at sendAt: Timestamp, now: Timestamp) async throws -> Campaign? {
        defer { workSignals[.campaigns].notify() }
        return try await mapped { [self] in
            try await client.withTransaction(logger: logger) { connection -> Campaign? in
                guard let current = try await Self.locked(connection, id: id, logger: logger) else { return nil }
                guard current.status == .draft else { throw StoreError.conflict("campaign \(id) is already \(current.status.rawValue)") }
                let campaign = try await Self.campaigns(
                    connection.query(
                        """
                        UPDATE campaigns SET status = 'scheduled', scheduled_at = cortex_ts(\(sendAt.microseconds)),
                            updated_at = cortex_ts(\(now.microseconds))
                        WHERE id = \(id) RETURNING \(unescaped: Self.campaignColumns)
                        """, logger: logger)
                ).first
                try await connection.query("SELECT pg_notify(\(WorkTopic.campaigns.channel), '')", logger: logger)
                return campaign
            }
        }
    }

    public func cancelCampaign(id: Int64, at time: Timestamp) async throws -> Campaign? {
        try await mapped { [self] in
            try await client.withTransaction(logger: logger) { connection -> Campaign? in
                guard let current = try await Self.locked(connection, id: id, logger: logger) else { return nil }
                guard current.status == .scheduled || current.status == .sending else {
                    throw StoreError.conflict("campaign \(id) is \(current.status.rawValue)")
                }
                try await connection.query(
                    """
                    UPDATE email_jobs SET status = 'cancelled', lease_until = NULL, last_error = 'the campaign was cancelled'
                    WHERE campaign_id = \(id) AND status = 'queued'
                    """, logger: logger)
                return try await Self.campaigns(
                    connection.query(
                        """
                        UPDATE campaigns SET status = 'cancelled', fanout_after = NULL, updated_at = cortex_ts(\(time.microseconds))
                        WHERE id = \(id) RETURNING \(unescaped: Self.campaignColumns)
                        """, logger: logger)
                ).first
            }
        }
    }

    public func nextCampaignDue() async throws -> Timestamp? {
        try await mapped { [self] in
            try await client.query(
                "SELECT cortex_us(min(scheduled_at)) FROM campaigns WHERE \(unescaped: CampaignFanOut.dueCondition)", logger: logger)
                .decode(Int64?.self).first { _ in true }.flatMap { $0 }.map(Timestamp.init(microseconds:))
        }
    }

    /// How long a fan-out chunk may take: its size is the data's, not a request's (a chunk of
    /// 200,000 contact ids takes about 3 s here), so the 5-second bound of request-time calls
    /// would fail it again and again on a busy server.
    static let fanOutChunkLimit: Duration = .seconds(120)

    public func fanOutNextCampaign(now: Timestamp, contactsPerChunk: Int64) async throws -> CampaignFanOutStep? {
        guard
            let campaign = try await mapped({ [self] in
                try await Self.campaigns(
                    client.query(
                        """
                        SELECT \(unescaped: Self.campaignColumns) FROM campaigns
                        WHERE \(unescaped: CampaignFanOut.dueCondition) AND scheduled_at <= cortex_ts(\(now.microseconds))
                        ORDER BY scheduled_at, id LIMIT 1
                        """, logger: logger)
                ).first
            })
        else { return nil }
        let audience = try await compiled(try campaign.definition.audienceFilter, shape: .set, at: now)
        let step = try await mapped(limit: Self.fanOutChunkLimit) { [self] in
            try await client.withTransaction(logger: logger) { connection -> CampaignFanOutStep? in
                // Another instance may be fanning it out: skip it rather than wait; and it may have
                // been cancelled or moved on a chunk since it was read.
                guard
                    let current = try await Self.campaigns(
                        connection.query(
                            "SELECT \(unescaped: Self.campaignColumns) FROM campaigns WHERE id = \(campaign.id) FOR UPDATE SKIP LOCKED",
                            logger: logger)
                    ).first,
                    CampaignFanOut.isDue(current), current.fanOutAfter == campaign.fanOutAfter
                else { return nil }
                let last = try await connection.query("SELECT max(id) FROM contacts", logger: logger)
                    .decode(Int64?.self).first { _ in true }.flatMap { $0 } ?? 0
                let next = CampaignFanOut.chunkEnd(after: current.fanOutAfter, size: contactsPerChunk, lastID: last)
                try await connection.query(
                    CampaignFanOut.statement(
                        campaignID: campaign.id, campaign.definition, audience: audience, after: current.fanOutAfter, through: next,
                        at: now, .postgres
                    ).query, logger: logger)
                // Rows of this campaign in this chunk's range can only be the ones just inserted.
                let inserted = Int(
                    try await connection.query(
                        """
                        SELECT count(*) FROM email_jobs WHERE campaign_id = \(campaign.id)
                          AND contact_id > \(current.fanOutAfter ?? 0) AND contact_id <= \(next ?? Int64.max)
                        """, logger: logger
                    ).decode(Int64.self).first { _ in true } ?? 0)
                try await connection.query(
                    """
                    UPDATE campaigns SET status = 'sending', fanout_after = \(next), updated_at = cortex_ts(\(now.microseconds))
                    WHERE id = \(campaign.id)
                    """, logger: logger)
                if inserted > 0 { try await connection.query("SELECT pg_notify(\(WorkTopic.email.channel), '')", logger: logger) }
                return CampaignFanOutStep(campaignID: campaign.id, recipients: inserted, finished: next == nil)
            }
        }
        guard let step else { return nil }
        if step.recipients > 0 { workSignals[.email].notify() }
        return step
    }

    public func refreshLedgerStatistics() async throws {
        // The planner's statistics still describe the ledger before a large fan-out (autovacuum
        // analyzes a minute or more later): it took 139,748 due rows for 725 and looked up an
        // unsubscribing contact's mail through the due index, 21 ms a click instead of 0.1.
        try await mapped(limit: Self.fanOutChunkLimit) { [self] in
            _ = try await client.query("ANALYZE email_jobs (status, campaign_id, contact_id, next_attempt_at)", logger: logger)
        }
    }

    public func campaignLedgerCounts(id: Int64) async throws -> [EmailStatus: Int] {
        let rows = try await mapped { [self] in
            try await client.query(
                "SELECT status, count(*) FROM email_jobs WHERE campaign_id = \(id) GROUP BY status", logger: logger
            ).decode((String, Int64).self).collectAll()
        }
        var counts: [EmailStatus: Int] = [:]
        for (status, count) in rows { if let status = EmailStatus(rawValue: status) { counts[status] = Int(count) } }
        return counts
    }
}

extension PostgresStore {
    public func unsubscribe(contactID: Int64, campaignID: Int64, at time: Timestamp) async throws -> EmailAddress? {
        // One statement, so one round trip (a click answers while a send keeps the server busy):
        // revoke unless revoked (a concurrent second click waits on the row and then finds it
        // revoked, so the activity is written once), log that, and cancel the contact's queued
        // campaign mail through each campaign's (campaign_id, contact_id) index.
        let email = try await mapped { [self] in
            try await client.query(
                """
                WITH revoked AS (
                    UPDATE contacts SET consent_status = 'revoked', consent_at = cortex_ts(\(time.microseconds)),
                        consent_source = 'unsubscribe', updated_at = cortex_ts(\(time.microseconds))
                    WHERE id = \(contactID) AND consent_status <> 'revoked'
                    RETURNING id, email),
                cancelled AS (
                    UPDATE email_jobs SET status = 'cancelled', lease_until = NULL, last_error = 'the recipient unsubscribed'
                    WHERE campaign_id IN (SELECT id FROM campaigns) AND contact_id = \(contactID) AND status = 'queued'),
                logged AS (
                    INSERT INTO crm_activities (type, contact_id, contact_email, occurred_at, received_at, source, metadata)
                    SELECT 'email.unsubscribed', id, email, cortex_ts(\(time.microseconds)), cortex_ts(\(time.microseconds)),
                        'unsubscribe', \(CampaignFanOut.metadata(campaignID: campaignID))::jsonb
                    FROM revoked)
                SELECT email FROM contacts WHERE id = \(contactID)
                """, logger: logger
            ).decode(String.self).collectAll().first.flatMap { EmailAddress($0) }
        }
        workSignals[.activities].notify()
        return email
    }

    public func secret(named name: String, orMake make: @Sendable () -> String) async throws -> String {
        let candidate = make()
        return try await mapped { [self] in
            try await client.withTransaction(logger: logger) { connection -> String in
                try await connection.query(
                    "INSERT INTO cortex_secrets (name, value) VALUES (\(name), \(candidate)) ON CONFLICT (name) DO NOTHING", logger: logger)
                return try await connection.query("SELECT value FROM cortex_secrets WHERE name = \(name)", logger: logger)
                    .decode(String.self).first { _ in true } ?? candidate
            }
        }
    }
}

extension PostgresStore {
    public func campaignEngagement(id: Int64) async throws -> [String: Int] {
        // A join, not `IN (subquery) OR ...`: with the ledger's statistics fresh, a campaign's
        // 100,000 ids no longer fit a hashed subplan and PostgreSQL compared every activity with
        // every id, past the 5-second deadline (a 503 on the stats page during a send).
        let types = CampaignFanOut.engagement.map(\.type)
        let rows = try await mapped { [self] in
            try await client.query(
                """
                SELECT type, count(DISTINCT contact_id) FROM (
                    SELECT a.type, a.contact_id FROM email_jobs j
                    JOIN crm_activities a ON a.metadata -> 'email_job_id' = to_jsonb(j.id)
                    WHERE j.campaign_id = \(id) AND a.type = ANY(\(types))
                    UNION ALL
                    SELECT a.type, a.contact_id FROM crm_activities a
                    WHERE a.type = 'email.unsubscribed' AND a.metadata -> 'campaign_id' = to_jsonb(\(id)::bigint)
                ) engaged
                GROUP BY type
                """, logger: logger
            ).decode((String, Int64).self).collectAll()
        }
        return Dictionary(rows.map { ($0.0, Int($0.1)) }, uniquingKeysWith: { first, _ in first })
    }
}

extension PostgresStore {
    public func campaignEngagementTimeline(id: Int64, bucketSeconds: Int64) async throws -> [CampaignEngagementBucket] {
        let span = max(bucketSeconds, 1)
        let rows = try await mapped { [self] in
            try await client.query(
                """
                SELECT type, (floor(extract(epoch FROM first_at) / \(span)) * \(span))::bigint AS start, count(*) FROM (
                    SELECT a.type, a.contact_id, min(a.occurred_at) AS first_at FROM email_jobs j
                    JOIN crm_activities a ON a.metadata -> 'email_job_id' = to_jsonb(j.id)
                    WHERE j.campaign_id = \(id) AND a.type IN ('email.opened', 'email.clicked')
                    GROUP BY a.type, a.contact_id
                ) firsts
                GROUP BY type, start
                """, logger: logger
            ).decode((String, Int64, Int64).self).collectAll()
        }
        return CampaignEngagementBucket.buckets(rows.map { (type: $0.0, startSeconds: $0.1, count: Int($0.2)) })
    }
}
