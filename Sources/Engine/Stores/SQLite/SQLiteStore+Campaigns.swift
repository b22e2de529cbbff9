import GRDB

extension SQLiteStore {
    public func createCampaign(_ definition: CampaignDefinition, at time: Timestamp) async throws -> Int64 {
        try await write { db in
            try db.execute(
                sql: "INSERT INTO campaigns (definition, status, created_at, updated_at) VALUES (?, 'draft', ?, ?)",
                arguments: [JSON.object(definition.json).serialized(), time.microseconds, time.microseconds])
            return db.lastInsertedRowID
        }
    }

    public func campaigns() async throws -> [Campaign] {
        try await read { db in try Self.campaigns(db, where: "1 = 1", []) }
    }

    public func campaign(id: Int64) async throws -> Campaign? {
        try await read { db in try Self.campaigns(db, where: "id = ?", [id]).first }
    }

    public func updateCampaign(id: Int64, _ definition: CampaignDefinition, at time: Timestamp) async throws -> Campaign? {
        try await write { db in
            guard let current = try Self.campaigns(db, where: "id = ?", [id]).first else { return nil }
            guard current.status.isEditable else { throw StoreError.conflict("campaign \(id) is \(current.status.rawValue)") }
            try db.execute(
                sql: "UPDATE campaigns SET definition = ?, updated_at = ? WHERE id = ?",
                arguments: [JSON.object(definition.json).serialized(), time.microseconds, id])
            return try Self.campaigns(db, where: "id = ?", [id]).first
        }
    }

    public func deleteCampaign(id: Int64) async throws -> Bool {
        try await write { db in
            guard let current = try Self.campaigns(db, where: "id = ?", [id]).first else { return false }
            guard current.status.isEditable else { throw StoreError.conflict("campaign \(id) is \(current.status.rawValue)") }
            try db.execute(sql: "DELETE FROM campaigns WHERE id = ?", arguments: [id])
            return true
        }
    }

    private static func campaigns(_ db: Database, where condition: String, _ arguments: StatementArguments) throws -> [Campaign] {
        try Row.fetchAll(
            db, sql: "SELECT \(StoredCampaign.columns) FROM campaigns WHERE \(condition) ORDER BY id DESC", arguments: arguments
        ).map(campaign)
    }

    private static func campaign(_ row: Row) throws -> Campaign {
        try StoredCampaign(
            id: row["id"], definition: row["definition"], status: row["status"], scheduledAt: row["scheduled_at"],
            createdAt: row["created_at"], updatedAt: row["updated_at"], fanOutAfter: row["fanout_after"]
        ).campaign()
    }
}

extension SQLiteStore {
    public func scheduleCampaign(id: Int64, at sendAt: Timestamp, now: Timestamp) async throws -> Campaign? {
        defer { workSignals[.campaigns].notify() }
        return try await write { db in
            guard let current = try Self.campaign(db, id) else { return nil }
            guard current.status == .draft else { throw StoreError.conflict("campaign \(id) is already \(current.status.rawValue)") }
            try db.execute(
                sql: "UPDATE campaigns SET status = 'scheduled', scheduled_at = ?, updated_at = ? WHERE id = ?",
                arguments: [sendAt.microseconds, now.microseconds, id])
            return try Self.campaign(db, id)
        }
    }

    public func cancelCampaign(id: Int64, at time: Timestamp) async throws -> Campaign? {
        try await write { db in
            guard let current = try Self.campaign(db, id) else { return nil }
            guard current.status == .scheduled || current.status == .sending else {
                throw StoreError.conflict("campaign \(id) is \(current.status.rawValue)")
            }
            try db.execute(
                sql: "UPDATE campaigns SET status = 'cancelled', fanout_after = NULL, updated_at = ? WHERE id = ?",
                arguments: [time.microseconds, id])
            try db.execute(
                sql: """
                    UPDATE email_jobs SET status = 'cancelled', lease_until = NULL, last_error = 'the campaign was cancelled'
                    WHERE campaign_id = ? AND status = 'queued'
                    """, arguments: [id])
            return try Self.campaign(db, id)
        }
    }

    public func nextCampaignDue() async throws -> Timestamp? {
        try await read { db in
            try Int64.fetchOne(db, sql: "SELECT min(scheduled_at) FROM campaigns WHERE \(CampaignFanOut.dueCondition)")
                .map(Timestamp.init(microseconds:))
        }
    }

    public func fanOutNextCampaign(now: Timestamp, contactsPerChunk: Int64) async throws -> CampaignFanOutStep? {
        // The earliest due first, as on PostgreSQL; a campaign part fanned out was due earliest.
        guard
            let campaign = try await read({ db in
                try Row.fetchOne(
                    db,
                    sql: """
                        SELECT \(StoredCampaign.columns) FROM campaigns WHERE \(CampaignFanOut.dueCondition) AND scheduled_at <= ?
                        ORDER BY scheduled_at, id LIMIT 1
                        """, arguments: [now.microseconds]
                ).map(Self.campaign)
            })
        else { return nil }
        let audience = try await compiled(campaign.definition.audienceFilter, shape: .set, at: now)
        let step = try await write { db -> CampaignFanOutStep? in
            // Still due, and at the same chunk: not cancelled or advanced since it was read.
            guard let current = try Self.campaign(db, campaign.id), CampaignFanOut.isDue(current),
                current.fanOutAfter == campaign.fanOutAfter
            else { return nil }
            let last = try Int64.fetchOne(db, sql: "SELECT max(id) FROM contacts") ?? 0
            let next = CampaignFanOut.chunkEnd(after: current.fanOutAfter, size: contactsPerChunk, lastID: last)
            let statement = CampaignFanOut.statement(
                campaignID: campaign.id, campaign.definition, audience: audience, after: current.fanOutAfter, through: next, at: now,
                .sqlite)
            try db.execute(sql: statement.sql, arguments: statement.arguments)
            let recipients = db.changesCount
            try db.execute(
                sql: "UPDATE campaigns SET status = 'sending', fanout_after = ?, updated_at = ? WHERE id = ?",
                arguments: [next, now.microseconds, campaign.id])
            return CampaignFanOutStep(campaignID: campaign.id, recipients: recipients, finished: next == nil)
        }
        if let step, step.recipients > 0 { workSignals[.email].notify() }
        return step
    }

    /// Nothing to refresh: SQLite plans by its rules (no `ANALYZE` is ever run), which the
    /// plan tests pin down.
    public func refreshLedgerStatistics() async throws {}

    public func campaignLedgerCounts(id: Int64) async throws -> [EmailStatus: Int] {
        try await read { db in
            var counts: [EmailStatus: Int] = [:]
            for row in try Row.fetchAll(
                db, sql: "SELECT status, count(*) AS n FROM email_jobs WHERE campaign_id = ? GROUP BY status", arguments: [id])
            {
                if let status = EmailStatus(rawValue: row["status"]) { counts[status] = row["n"] }
            }
            return counts
        }
    }

    private static func campaign(_ db: Database, _ id: Int64) throws -> Campaign? {
        try campaigns(db, where: "id = ?", [id]).first
    }
}

extension SQLiteStore {
    public func unsubscribe(contactID: Int64, campaignID: Int64, at time: Timestamp) async throws -> EmailAddress? {
        let email = try await write { db -> EmailAddress? in
            guard let row = try Row.fetchOne(db, sql: "SELECT email, consent_status FROM contacts WHERE id = ?", arguments: [contactID]),
                let email = EmailAddress(row["email"] as String)
            else { return nil }
            // Through each campaign's (campaign_id, contact_id) index: by contact alone it scanned
            // every campaign row in the ledger on every click.
            try db.execute(
                sql: """
                    UPDATE email_jobs SET status = 'cancelled', lease_until = NULL, last_error = 'the recipient unsubscribed'
                    WHERE campaign_id IN (SELECT id FROM campaigns) AND contact_id = ? AND status = 'queued'
                    """, arguments: [contactID])
            guard (row["consent_status"] as String) != ConsentStatus.revoked.rawValue else { return email }
            try db.execute(
                sql: "UPDATE contacts SET consent_status = 'revoked', consent_at = ?, consent_source = 'unsubscribe', updated_at = ? WHERE id = ?",
                arguments: [time.microseconds, time.microseconds, contactID])
            try Self.insertDirectoryActivity(
                db, type: "email.unsubscribed", contactID: contactID, email: email, at: time,
                metadata: CampaignFanOut.metadata(campaignID: campaignID), source: "unsubscribe")
            return email
        }
        workSignals[.activities].notify()
        return email
    }

    public func secret(named name: String, orMake make: @Sendable () -> String) async throws -> String {
        let candidate = make()
        return try await write { db in
            try db.execute(sql: "INSERT INTO cortex_secrets (name, value) VALUES (?, ?) ON CONFLICT (name) DO NOTHING", arguments: [name, candidate])
            return try String.fetchOne(db, sql: "SELECT value FROM cortex_secrets WHERE name = ?", arguments: [name]) ?? candidate
        }
    }
}

extension SQLiteStore {
    public func campaignEngagement(id: Int64) async throws -> [String: Int] {
        let types = CampaignFanOut.engagement.map(\.type)
        return try await read { db in
            var counts: [String: Int] = [:]
            for row in try Row.fetchAll(
                db,
                sql: """
                    SELECT a.type, count(DISTINCT a.contact_id) AS n FROM crm_activities a
                    WHERE a.type IN (\(Self.placeholders(types.count)))
                      AND (json_extract(a.metadata, '$.email_job_id') IN (SELECT id FROM email_jobs WHERE campaign_id = ?)
                           OR (a.type = 'email.unsubscribed' AND json_extract(a.metadata, '$.campaign_id') = ?))
                    GROUP BY a.type
                    """, arguments: StatementArguments(types + [id, id]))
            {
                counts[row["type"]] = row["n"]
            }
            return counts
        }
    }
}

extension SQLiteStore {
    public func campaignEngagementTimeline(id: Int64, bucketSeconds: Int64) async throws -> [CampaignEngagementBucket] {
        let span = max(bucketSeconds, 1)
        return try await read { db in
            let rows = try Row.fetchAll(
                db,
                sql: """
                    SELECT type, (first_at / ?) * ? AS start, count(*) AS n FROM (
                        SELECT a.type, a.contact_id, min(a.occurred_at) AS first_at FROM crm_activities a
                        WHERE a.type IN ('email.opened', 'email.clicked')
                          AND json_extract(a.metadata, '$.email_job_id') IN (SELECT id FROM email_jobs WHERE campaign_id = ?)
                        GROUP BY a.type, a.contact_id
                    ) GROUP BY type, start
                    """, arguments: [span * 1_000_000, span, id])
            return CampaignEngagementBucket.buckets(rows.map { (type: $0["type"], startSeconds: $0["start"], count: $0["n"]) })
        }
    }
}
