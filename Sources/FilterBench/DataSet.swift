import Engine

/// The issue's data set, generated inside the database by set-based SQL (no row crosses the
/// connection): `contacts` contacts, 10 activities each over the 90 days before `now`, tags on a
/// third of the contacts. Deterministic, so both stores hold the same rows and every filter
/// must count the same contacts on both.
///
/// - Contact k (1...contacts): `user<k>@example.com`; attributes `{"plan": "pro"}` for one in
///   four (k % 4 == 0), else `"free"`, and `"seats": k % 10 + 1`; consent granted, unknown or
///   revoked by k % 3.
/// - Tags: `Newsletter` on every third contact (k % 3 == 0), `VIP` also on every ninth.
/// - Activity n (0..<activities), in time order as ingest writes them: contact
///   `n * 7919 % contacts + 1` (a step coprime with the count, so every contact gets exactly 10,
///   scattered over the whole period like real customers), `occurred_at` evenly spaced up to
///   `now`. A multiplicative hash of n picks the type: 30 % `checkout.completed` (product P2P
///   40 %, Canva 25 %, Figma 20 %, Notion 15 %, with an amount), 30 % `email.delivered`, 25 %
///   `email.opened` (a campaign), 15 % `lesson.completed` (a lesson number).
struct DataSet {
    static let contactStep = 7919
    static let period: Int64 = 90 * 86_400 * 1_000_000

    let contacts: Int
    let activities: Int
    let now: Timestamp

    var start: Int64 { now.microseconds - Self.period }

    /// The statements that seed an empty, migrated store, in order.
    func statements(_ dialect: SQLDialect) -> [String] {
        let sqlite = dialect == .sqlite
        /// A time in integer microseconds, as the store keeps times.
        func time(_ microseconds: String) -> String { sqlite ? microseconds : "cortex_ts(\(microseconds))" }
        func json(_ text: String) -> String { sqlite ? text : "(\(text))::jsonb" }
        func series(_ name: String, from first: Int, to last: Int) -> String {
            sqlite
                ? "WITH RECURSIVE \(name)(\(name)) AS (SELECT \(first) UNION ALL SELECT \(name) + 1 FROM \(name) WHERE \(name) < \(last))"
                : "WITH \(name) AS (SELECT generate_series(\(first)::bigint, \(last)::bigint) AS \(name))"
        }
        let created = start - 86_400 * 1_000_000
        let attributes = json(
            #"'{"plan":"' || (CASE WHEN k % 4 = 0 THEN 'pro' ELSE 'free' END) || '","seats":' || ((k % 10) + 1) || '}'"#)
        let metadata = json(
            """
            (CASE WHEN bucket < 30 THEN
                    '{"product":"' || (CASE WHEN pick < 8 THEN 'P2P' WHEN pick < 13 THEN 'Canva'
                                            WHEN pick < 17 THEN 'Figma' ELSE 'Notion' END)
                    || '","amount":' || (4900 + (pick % 4) * 1000) || '}'
                WHEN bucket < 85 THEN '{"campaign":"c' || (n % 12) || '"}'
                ELSE '{"lesson":' || (n % 30) || '}' END)
            """)
        let step = Self.period / Int64(activities)

        let contactRows = """
            \(series("k", from: 1, to: contacts))
            INSERT INTO contacts (id, email, first_name, last_name, created_at, updated_at, attributes, consent_status)
            SELECT k, 'user' || k || '@example.com', 'User', 'Number' || k, \(time("(\(created) + k)")), \(time("(\(created) + k)")),
                \(attributes),
                (CASE k % 3 WHEN 0 THEN 'granted' WHEN 1 THEN 'unknown' ELSE 'revoked' END)
            FROM k
            """
        let tagRows = """
            \(series("k", from: 1, to: contacts))
            INSERT INTO contact_tags (contact_id, tag, tag_key, created_at)
            SELECT k, 'Newsletter', 'newsletter', \(time("\(start)")) FROM k WHERE k % 3 = 0
            UNION ALL SELECT k, 'VIP', 'vip', \(time("\(start)")) FROM k WHERE k % 9 = 0
            """
        let activityRows = """
            \(series("n", from: 0, to: activities - 1)),
            hashed AS (
                SELECT n, ((n * \(Self.contactStep)) % \(contacts)) + 1 AS k, \(start) + n * \(step) AS t,
                    (n * 2654435761) % 4294967296 AS h
                FROM n),
            typed AS (
                SELECT n, k, t, h % 100 AS bucket, (h / 100) % 20 AS pick FROM hashed)
            INSERT INTO crm_activities (type, contact_id, contact_email, occurred_at, received_at, source, metadata)
            SELECT
                (CASE WHEN bucket < 30 THEN 'checkout.completed' WHEN bucket < 60 THEN 'email.delivered'
                      WHEN bucket < 85 THEN 'email.opened' ELSE 'lesson.completed' END),
                k, 'user' || k || '@example.com', \(time("t")), \(time("t")), 'bench',
                \(metadata)
            FROM typed
            """
        var all = [contactRows, tagRows, activityRows]
        // Explicit ids leave PostgreSQL's sequence behind; a later insert must not collide.
        if !sqlite { all.append("SELECT setval('contacts_id_seq', \(contacts))") }
        return all
    }

    /// Fresh statistics, as a store in use has them: SQLite only plans with `sqlite_stat1`
    /// after `ANALYZE`; PostgreSQL's autovacuum would analyze (and, for an insert-only table,
    /// vacuum, which index-only scans need) on its own after a bulk load.
    func analyze(_ dialect: SQLDialect) -> [String] {
        dialect == .sqlite ? ["ANALYZE"] : ["VACUUM (ANALYZE)"]
    }
}
