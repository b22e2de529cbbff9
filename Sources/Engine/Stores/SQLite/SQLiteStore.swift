import Foundation
import GRDB

/// The zero-configuration store: one SQLite file in WAL mode.
///
/// `synchronous=FULL` makes every commit durable before it returns, so a 2xx is never sent for
/// an event a power cut could lose. GRDB's pool gives one writer and concurrent readers.
public final class SQLiteStore: Store, GroupCommittingStore {
    public let path: String
    public let workSignals = WorkSignals()
    let pool: DatabasePool
    /// Concurrent ingests share one transaction and one fsync (see `GroupCommit`).
    private let ingests: GroupCommit<PendingIngest, IngestOutcome>

    /// The most deliveries one ingest transaction commits.
    public static let ingestBatchLimit = 256

    /// Opens (creating if needed) the database file at `path`. Does not migrate.
    public init(path: String) throws {
        self.path = path
        var configuration = Configuration()
        configuration.foreignKeysEnabled = true
        // Another process (`cortex migrate`, `cortex keys create`) may hold the write lock briefly.
        configuration.busyMode = .timeout(10)
        do {
            pool = try DatabasePool(path: path, configuration: configuration)
            // GRDB sets `synchronous = NORMAL` on the writer when it enables WAL, after any
            // `prepareDatabase` hook; NORMAL may lose the last commits on power loss. The pool
            // keeps this one writer connection for its lifetime, so setting it here holds.
            try pool.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA synchronous = FULL") }
        } catch {
            throw StoreError.unavailable("cannot open SQLite database at \(path): \(error)")
        }
        let pool = pool
        ingests = GroupCommit(maxBatch: Self.ingestBatchLimit) { batch in await Self.commit(batch, in: pool) }
    }

    public var description: String { "sqlite:\(path)" }

    // Every database failure leaves the store as a `StoreError` (see `storeError`), so callers
    // above Engine never see GRDB's types.
    func write<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        do {
            return try await pool.write(body)
        } catch let error as DatabaseError {
            throw Self.storeError(error, "write")
        }
    }

    /// Runs `body` in a write transaction that is always rolled back (``SimulationSandbox``).
    func rolledBack<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        do {
            return try await pool.writeWithoutTransaction { db in
                var result: Result<T, any Error>?
                try db.inTransaction(.immediate) {
                    result = Result { try body(db) }
                    return .rollback
                }
                guard let result else { throw StoreError.unavailable("the sandbox transaction did not run") }
                return try result.get()
            }
        } catch let error as DatabaseError {
            throw Self.storeError(error, "write")
        }
    }

    func read<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        do {
            return try await pool.read(body)
        } catch let error as DatabaseError {
            throw Self.storeError(error, "read")
        }
    }

    public func migrate() async throws {
        do {
            try SQLiteMigrations.migrator.migrate(pool)
        } catch let error as DatabaseError {
            throw Self.storeError(error, "migration")
        }
    }

    public func ping() async throws {
        _ = try await read { db in try Int.fetchOne(db, sql: "SELECT 1") }
    }

    /// The journal mode and synchronous level of the connections; for tests of durability settings.
    package func durabilitySettings() async throws -> (journalMode: String, synchronous: Int) {
        try await write { db in
            let mode = try String.fetchOne(db, sql: "PRAGMA journal_mode") ?? ""
            let sync = try Int.fetchOne(db, sql: "PRAGMA synchronous") ?? -1
            return (mode, sync)
        }
    }

    public func ingest(_ delivery: InboundDelivery, activities: [NewActivity], suppressions: [SuppressionChange])
        async throws -> IngestOutcome
    {
        defer { workSignals[.activities].notify() }  // It may have written activities: wake the watcher.
        return try await ingests.submit(PendingIngest(delivery: delivery, activities: activities, suppressions: suppressions))
    }

    package func execute(rawSQL: String) async throws {
        try await write { db in try db.execute(sql: rawSQL) }
    }

    package func ingestTogether(_ deliveries: [(InboundDelivery, [NewActivity])]) async -> [Result<IngestOutcome, any Error>] {
        await Self.commit(
            deliveries.map { PendingIngest(delivery: $0.0, activities: $0.1, suppressions: []) },
            in: pool)
    }

    /// Writes `batch` in one transaction, in order, so a second delivery of the same event id in
    /// the batch sees the first and is recorded as its duplicate. A failure rolls the whole
    /// transaction back; each delivery is then retried in a transaction of its own, so one bad
    /// delivery fails alone. (No savepoint per delivery: on the hot path its two extra
    /// statements cost more than the rare retry.)
    private static func commit(_ batch: [PendingIngest], in pool: DatabasePool) async -> [Result<IngestOutcome, any Error>] {
        if batch.count > 1, let outcomes = try? await pool.write({ db in try batch.map { try Self.ingestOne($0, db) } }) {
            return outcomes.map { .success($0) }
        }
        var results: [Result<IngestOutcome, any Error>] = []
        for pending in batch {
            do {
                results.append(.success(try await pool.write { db in try Self.ingestOne(pending, db) }))
            } catch {
                results.append(.failure(Self.storeError(error, "write")))
            }
        }
        return results
    }

    private static func ingestOne(_ pending: PendingIngest, _ db: Database) throws -> IngestOutcome {
        let delivery = pending.delivery
        if let externalID = delivery.externalID,
            let existing = try Int64.fetchOne(
                db.cachedStatement(
                    sql: "SELECT id FROM inbound_events WHERE source = ? AND external_id = ? AND verdict = 'accepted'"),
                arguments: [delivery.source, externalID])
        {
            _ = try insertInbound(db, delivery, headers: pending.headers, verdict: .duplicate, reason: nil, duplicateOf: existing)
            return IngestOutcome(activityIDs: try activityIDs(db, inboundID: existing), duplicate: true, inboundID: existing)
        }
        let inboundID = try insertInbound(db, delivery, headers: pending.headers, verdict: .accepted, reason: nil)
        var ids: [Int64] = []
        ids.reserveCapacity(pending.activities.count)
        for activity in pending.activities {
            ids.append(
                try insertActivity(
                    db, activity, inboundID: inboundID, source: delivery.source, sourceEventID: delivery.externalID,
                    receivedAt: delivery.receivedAt))
        }
        try apply(pending.suppressions, db)
        return IngestOutcome(activityIDs: ids, duplicate: false, inboundID: inboundID)
    }

    static func activityIDs(_ db: Database, inboundID: Int64) throws -> [Int64] {
        try Int64.fetchAll(
            db.cachedStatement(sql: "SELECT id FROM crm_activities WHERE inbound_event_id = ? ORDER BY id"),
            arguments: [inboundID])
    }

    static func insertActivity(
        _ db: Database, _ activity: NewActivity, inboundID: Int64, source: String, sourceEventID: String?,
        receivedAt: Timestamp
    ) throws -> Int64 {
        let contactID = try upsertContact(db, activity, at: receivedAt)
        try db.cachedStatement(
            sql: """
                INSERT INTO crm_activities (type, contact_id, contact_email, occurred_at, received_at,
                    source, source_event_id, inbound_event_id, metadata)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, \(linkedMetadata))
                """
        ).execute(arguments: [
            activity.type, contactID, activity.contactEmail.value, activity.occurredAt.microseconds,
            receivedAt.microseconds, source, sourceEventID, inboundID, activity.metadata, activity.providerMessageID,
            activity.metadata,
        ])
        return db.lastInsertedRowID
    }

    /// An activity's metadata with `email_job_id` set when it is about a message Cortex sent
    /// (a delivery, an open, a bounce), so it counts per message and per campaign. Three
    /// arguments: the metadata, the provider's message id (or `NULL`), the metadata again. The
    /// lookup runs inside the ingest's own transaction, on an index: a lookup of its own per
    /// activity before the commit cost the Postmark path a third of its rate.
    static let linkedMetadata = """
        COALESCE((SELECT json_set(?, '$.email_job_id', j.id) FROM email_jobs j
                  WHERE j.provider_message_id = ? ORDER BY j.id LIMIT 1), ?)
        """

    private static func insertInbound(
        _ db: Database, _ delivery: InboundDelivery, headers: String, verdict: InboundVerdict, reason: String?,
        duplicateOf: Int64? = nil
    ) throws -> Int64 {
        try db.cachedStatement(
            sql: """
                INSERT INTO inbound_events (source, external_id, received_at, headers, body, verdict, reason, duplicate_of)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                """
        ).execute(arguments: [
            delivery.source, delivery.externalID, delivery.receivedAt.microseconds, headers, Data(delivery.body),
            verdict.rawValue, reason, duplicateOf,
        ])
        return db.lastInsertedRowID
    }

    /// The contact's id, updating a stored contact's names (COALESCE keeps a known name when an
    /// event carries none) or inserting a new contact.
    ///
    /// An update, then an insert if no row was updated, rather than one `INSERT ... ON CONFLICT
    /// DO UPDATE`: with a second unique index on `contacts` (`contacts_external_id`), SQLite runs
    /// such an upsert in a statement journal, a buffer of over 64 KiB it allocates and frees per
    /// statement, and freeing it returned the memory to the kernel every time (`madvise`, then
    /// page faults): ingest lost about a third of its speed to it (BENCHMARKS.md, "Ingest after
    /// the hardening and directory work"). Writes are serialized, so no other writer can insert
    /// the address between the two statements.
    static func upsertContact(_ db: Database, _ activity: NewActivity, at time: Timestamp) throws -> Int64 {
        if let id = try Int64.fetchOne(
            db.cachedStatement(
                sql: """
                    UPDATE contacts SET first_name = COALESCE(?, first_name), last_name = COALESCE(?, last_name),
                        updated_at = ?
                    WHERE email = ? RETURNING id
                    """),
            arguments: [activity.firstName, activity.lastName, time.microseconds, activity.contactEmail.value])
        {
            return id
        }
        try db.cachedStatement(
            sql: "INSERT INTO contacts (email, first_name, last_name, created_at, updated_at) VALUES (?, ?, ?, ?, ?)"
        ).execute(arguments: [
            activity.contactEmail.value, activity.firstName, activity.lastName, time.microseconds, time.microseconds,
        ])
        return db.lastInsertedRowID
    }

    public func activities(_ query: ActivityQuery) async throws -> [Activity] {
        try await read { db in
            var filter = SQLiteFilter()
            filter.equals("contact_email", query.email?.value)
            filter.equals("type", query.type)
            if let before = query.before {
                // The feed is ordered by (occurred_at, id): a page goes on after its last row's pair,
                // read in the same snapshot as the page itself.
                guard
                    let occurredAt = try Int64.fetchOne(
                        db, sql: "SELECT occurred_at FROM crm_activities WHERE id = ?", arguments: [before])
                else { throw StoreError.notFound("no activity \(before) to page after") }
                filter.add("(occurred_at, id) < (?, ?)", [occurredAt, before])
            }
            let sql = """
                SELECT id, type, contact_email, occurred_at, received_at, source, source_event_id, metadata
                FROM crm_activities \(filter.clause) ORDER BY occurred_at DESC, id DESC LIMIT ?
                """
            return try Row.fetchAll(db.cachedStatement(sql: sql), arguments: filter.arguments(limit: query.limit)).compactMap { row in
                guard let email = EmailAddress(row["contact_email"] as String) else { return nil }
                return Activity(
                    id: row["id"], type: row["type"], contactEmail: email,
                    occurredAt: Timestamp(microseconds: row["occurred_at"]),
                    receivedAt: Timestamp(microseconds: row["received_at"]), source: row["source"],
                    sourceEventID: row["source_event_id"], metadata: row["metadata"])
            }
        }
    }

    public func contact(email: EmailAddress) async throws -> Contact? {
        try await read { db in
            guard
                let row = try Row.fetchOne(
                    db,
                    sql: """
                        SELECT id, first_name, last_name, created_at, external_id, timezone, attributes,
                            consent_status, consent_at, consent_source,
                            (SELECT max(occurred_at) FROM crm_activities a WHERE a.contact_email = contacts.email) AS last_activity_at,
                            EXISTS (SELECT 1 FROM crm_activities a WHERE a.contact_email = contacts.email
                                AND a.type IN (\(DirectoryRules.customerTypesSQL))) AS customer
                        FROM contacts WHERE email = ?
                        """,
                    arguments: [email.value])
            else { return nil }
            let contactID: Int64 = row["id"]
            let tags = try String.fetchAll(
                db, sql: "SELECT tag FROM contact_tags WHERE contact_id = ? ORDER BY tag_key", arguments: [contactID])
            let suppression = try Row.fetchOne(
                db, sql: "SELECT reason, created_at FROM suppressions WHERE email = ?", arguments: [email.value]
            ).map { Suppression(reason: $0["reason"], since: Timestamp(microseconds: $0["created_at"])) }
            return Contact(
                email: email, firstName: row["first_name"], lastName: row["last_name"],
                createdAt: Timestamp(microseconds: row["created_at"]), tags: tags, suppression: suppression,
                externalID: row["external_id"], timezone: row["timezone"], attributes: row["attributes"],
                lifecycle: (row["customer"] as Bool) ? "customer" : "lead",
                consent: Consent(
                    status: ConsentStatus(rawValue: row["consent_status"]) ?? .unknown,
                    at: (row["consent_at"] as Int64?).map(Timestamp.init(microseconds:)), source: row["consent_source"]),
                lastActivityAt: (row["last_activity_at"] as Int64?).map(Timestamp.init(microseconds:)))
        }
    }
}
