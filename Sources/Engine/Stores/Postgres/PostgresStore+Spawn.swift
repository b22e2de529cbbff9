import Logging
import PostgresNIO

extension PostgresStore {
    /// Spawns a watcher pass's executions in a few round trips whatever their number (one spawn
    /// at a time cost four each, and a burst of 10,000 matches waited seconds to start): the
    /// contacts locked in one statement (in id order, so concurrent passes wait rather than
    /// deadlock, and two spawns for one contact read the re-entry rule one after the other),
    /// their last entries read in one, the re-entry rule applied here in order, then one
    /// `INSERT` and one log `INSERT` through `unnest`. One transaction, as before.
    static func spawnBatch(_ connection: PostgresConnection, _ spawns: [ExecutionSpawn], at time: Timestamp, logger: Logger)
        async throws -> [Int64?]
    {
        let emails = Array(Set(spawns.map(\.contactEmail.value)))
        let contacts = try await connection.query(
            "SELECT id, email FROM contacts WHERE email = ANY(\(emails)) ORDER BY id FOR UPDATE", logger: logger
        ).decode((Int64, String).self).collectAll()
        let contactIDs = Dictionary(contacts.map { ($0.1, $0.0) }, uniquingKeysWith: { first, _ in first })
        let automations = Array(Set(spawns.map(\.automationID)))
        let entries = try await connection.query(
            """
            SELECT automation_id, contact_id, cortex_us(max(created_at)) FROM automation_executions
            WHERE automation_id = ANY(\(automations)) AND contact_id = ANY(\(Array(contactIDs.values))) AND NOT dry_run
            GROUP BY automation_id, contact_id
            """, logger: logger
        ).decode((Int64, Int64, Int64).self).collectAll()
        var lastEntry: [EntryKey: Timestamp] = [:]
        for (automation, contact, at) in entries { lastEntry[EntryKey(automation: automation, contact: contact)] = Timestamp(microseconds: at) }

        // In order, as one spawn after another would: an entry counts for the spawns after it.
        var accepted: [(index: Int, contactID: Int64)] = []
        for (index, spawn) in spawns.enumerated() {
            guard let contactID = contactIDs[spawn.contactEmail.value] else { continue }
            let key = EntryKey(automation: spawn.automationID, contact: contactID)
            guard spawn.dryRun || ExecutionRules.mayEnter(spawn.reentry, lastEntry: lastEntry[key], now: time) else { continue }
            if !spawn.dryRun { lastEntry[key] = time }
            accepted.append((index, contactID))
        }
        var ids = [Int64?](repeating: nil, count: spawns.count)
        guard !accepted.isEmpty else { return ids }
        let chosen = accepted.map { spawns[$0.index] }
        let inserted = try await connection.query(
            """
            INSERT INTO automation_executions (automation_id, version, contact_id, contact_email, trigger_activity_id,
                status, current_node_id, wake_up_at, dry_run, created_at, updated_at, finished_at)
            SELECT s.automation_id, s.version, s.contact_id, s.email, s.trigger, CASE WHEN s.node = '' THEN 'completed' ELSE 'running' END,
                NULLIF(s.node, ''), cortex_ts(\(time.microseconds)), s.dry_run, cortex_ts(\(time.microseconds)),
                cortex_ts(\(time.microseconds)), CASE WHEN s.node = '' THEN cortex_ts(\(time.microseconds)) END
            FROM unnest(\(chosen.map(\.automationID))::bigint[], \(chosen.map { $0.version })::int[], \(accepted.map(\.contactID))::bigint[],
                        \(chosen.map(\.contactEmail.value))::text[], \(chosen.map(\.triggerActivityID))::bigint[],
                        \(chosen.map { $0.firstNodeID ?? "" })::text[], \(chosen.map(\.dryRun))::bool[])
                WITH ORDINALITY AS s(automation_id, version, contact_id, email, trigger, node, dry_run, n)
            ORDER BY s.n
            ON CONFLICT (automation_id, trigger_activity_id) DO NOTHING
            RETURNING id, automation_id, trigger_activity_id
            """, logger: logger
        ).decode((Int64, Int64, Int64).self).collectAll()
        let byTrigger = Dictionary(inserted.map { (TriggerKey(automation: $0.1, activity: $0.2), $0.0) }, uniquingKeysWith: { first, _ in first })
        var logs: [(execution: Int64, log: ExecutionLog)] = []
        for (index, _) in accepted {
            let spawn = spawns[index]
            guard let id = byTrigger[TriggerKey(automation: spawn.automationID, activity: spawn.triggerActivityID)] else { continue }
            ids[index] = id
            logs.append((id, ExecutionRules.spawnedLog(id, spawn, at: time)))
        }
        try await insertLogBatch(connection, logs, logger: logger)
        return ids
    }

    /// Log rows of several executions in one `INSERT` through `unnest`, in order (arrays cannot
    /// hold NULL here, so '' stands for it).
    static func insertLogBatch(_ connection: PostgresConnection, _ logs: [(execution: Int64, log: ExecutionLog)], logger: Logger)
        async throws
    {
        guard !logs.isEmpty else { return }
        try await connection.query(
            """
            INSERT INTO automation_logs (execution_id, at, node_id, action, outcome, message, detail)
            SELECT l.execution_id, cortex_ts(l.at), NULLIF(l.node, ''), l.action, l.outcome, l.message, NULLIF(l.detail, '')::jsonb
            FROM unnest(\(logs.map(\.execution))::bigint[], \(logs.map(\.log.at.microseconds))::bigint[],
                        \(logs.map { $0.log.nodeID ?? "" })::text[], \(logs.map(\.log.action))::text[],
                        \(logs.map(\.log.outcome.rawValue))::text[], \(logs.map(\.log.message))::text[],
                        \(logs.map { $0.log.detail?.serialized() ?? "" })::text[])
                WITH ORDINALITY AS l(execution_id, at, node, action, outcome, message, detail, n)
            ORDER BY l.n
            """, logger: logger)
    }

    /// The `add_tag` effects of a walker batch in one statement: each tag the contact lacks is
    /// added with its `tag.added` activity, as ``addTags(_:_:to:at:logger:)`` does one by one (a
    /// contact erased since is left alone rather than made again).
    static func addTagBatch(_ connection: PostgresConnection, _ tags: [(email: EmailAddress, tag: String)], at time: Timestamp, logger: Logger)
        async throws
    {
        guard !tags.isEmpty else { return }
        try await connection.query(
            """
            WITH input AS (
                SELECT * FROM unnest(\(tags.map(\.email.value))::text[], \(tags.map(\.tag))::text[],
                                     \(tags.map { FilterCompiler.foldASCII($0.tag) })::text[])
                    WITH ORDINALITY AS t(email, tag, tag_key, n)
            ), added AS (
                INSERT INTO contact_tags (contact_id, tag, tag_key, created_at)
                SELECT c.id, i.tag, i.tag_key, cortex_ts(\(time.microseconds)) FROM input i JOIN contacts c ON c.email = i.email
                ORDER BY i.n
                ON CONFLICT (contact_id, tag_key) DO NOTHING
                RETURNING contact_id, tag
            )
            INSERT INTO crm_activities (type, contact_id, contact_email, occurred_at, received_at, source, metadata)
            SELECT 'tag.added', a.contact_id, c.email, cortex_ts(\(time.microseconds)), cortex_ts(\(time.microseconds)), 'api',
                jsonb_build_object('tag', a.tag)
            FROM added a JOIN contacts c ON c.id = a.contact_id
            """, logger: logger)
    }

    private struct EntryKey: Hashable {
        let automation: Int64
        let contact: Int64
    }

    private struct TriggerKey: Hashable {
        let automation: Int64
        let activity: Int64
    }
}
