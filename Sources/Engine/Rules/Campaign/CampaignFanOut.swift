/// The one set-based statement that snapshots a campaign's audience into the send ledger
/// (ENGINE.md §5), for either store: a row per recipient, unique per (campaign, contact) (and
/// by its key `campaign:<id>:<contact>`), leaving out suppressed contacts, contacts whose
/// consent is revoked and, with consent `granted`, those whose consent is not granted. Subject
/// and bodies stay empty: they are rendered from the campaign per recipient at send time.
public enum CampaignFanOut {
    /// The ledger's metadata of a campaign's rows.
    public static func metadata(campaignID: Int64) -> String { JSON.object(["campaign_id": .int(campaignID)]).serialized() }

    /// The statement for the audience among contacts with ids after `after` and up to
    /// `through` (one chunk; `nil`: from the first, to the last); `audience` is the campaign's
    /// filter compiled with `.set`.
    public static func statement(
        campaignID: Int64, _ definition: CampaignDefinition, audience: CompiledFilter, after: Int64?, through: Int64?,
        at time: Timestamp, _ dialect: SQLDialect
    ) -> DirectoryStatement {
        var statement = DirectoryStatement(sql: "", bindings: audience.bindings)
        func bind(_ value: SQLBinding) -> String {
            statement.bindings.append(value)
            return dialect == .sqlite ? "?" : "$\(statement.bindings.count)"
        }
        func bindTime() -> String {
            let placeholder = bind(.integer(time.microseconds))
            return dialect == .sqlite ? placeholder : "cortex_ts(\(placeholder)::bigint)"
        }
        // The audience's SQL comes first (its placeholders keep their numbers, and SQLite's
        // positional ones stay in text order); the rest bind after it.
        var consent = "c.consent_status <> 'revoked'"
        if definition.consent == .granted { consent = "c.consent_status = 'granted'" }
        let audienceSQL = """
            WITH audience AS (
                SELECT c.id, c.email FROM contacts c
                WHERE (\(audience.sql))\(after.map { " AND c.id > \(bind(.integer($0)))" } ?? "")\(through.map { " AND c.id <= \(bind(.integer($0)))" } ?? "")
                  AND \(consent) AND NOT EXISTS (SELECT 1 FROM suppressions s WHERE s.email = c.email)
            )
            """
        let options = DeliveryOptionsJSON.encode(trackOpens: definition.trackOpens, trackLinks: definition.trackLinks)
        let json = dialect == .sqlite ? "" : "::jsonb"
        let id = bind(.integer(campaignID))
        let key = dialect == .sqlite ? "'campaign:' || \(id) || ':' || a.id" : "'campaign:' || \(id)::text || ':' || a.id::text"
        let columns = [
            key, "a.email", bind(.text(definition.from)), "''", "NULL", "NULL", "'broadcast'",
            definition.tag.map { bind(.text($0)) } ?? "NULL", bind(.text(metadata(campaignID: campaignID))) + json,
            bind(.text(options)) + json, "'queued'", bindTime(), bindTime(),
            bind(.integer(campaignID)) + (dialect == .sqlite ? "" : "::bigint"), "a.id",
        ]
        // `WHERE true`: SQLite needs it to tell the upsert clause from a join constraint.
        statement.sql = audienceSQL + """

            INSERT INTO email_jobs (idempotency_key, recipient, sender, subject, html_body, text_body, stream, tag, metadata,
                options, status, next_attempt_at, created_at, campaign_id, contact_id)
            SELECT \(columns.joined(separator: ", ")) FROM audience a WHERE true
            ON CONFLICT DO NOTHING
            """
        return statement
    }
}

extension CampaignFanOut {
    /// Campaigns with audience left to fan out: scheduled (once due), or part fanned out.
    static let dueCondition = "(status = 'scheduled' OR (status = 'sending' AND fanout_after IS NOT NULL))"

    /// Whether `campaign` has audience left to fan out (``dueCondition``, read back).
    static func isDue(_ campaign: Campaign) -> Bool {
        campaign.status == .scheduled || (campaign.status == .sending && campaign.fanOutAfter != nil)
    }

    /// Where the chunk after `after` ends: `nil` when it reaches `lastID`, the highest contact id,
    /// so the last chunk (and a campaign in one chunk) reads the audience without an id bound.
    static func chunkEnd(after: Int64?, size: Int64, lastID: Int64) -> Int64? {
        let end = (after ?? 0) + max(size, 1)
        return end >= lastID ? nil : end
    }

    /// The provider events a campaign's stats count, by the stat's name.
    public static let engagement: [(stat: String, type: String)] = [
        ("delivered", "email.delivered"), ("opened", "email.opened"), ("clicked", "email.clicked"),
        ("bounced", "email.bounced"), ("complained", "email.complained"), ("unsubscribed", "email.unsubscribed"),
    ]
}
