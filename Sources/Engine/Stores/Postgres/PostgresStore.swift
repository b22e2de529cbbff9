import Foundation
import Logging
import NIOSSL
import PostgresNIO
import ServiceLifecycle

/// The production store: PostgreSQL through PostgresNIO's connection pool, shared by any number of
/// `cortex serve` instances. Uniqueness is decided by the database's unique keys, so two
/// instances receiving the same event at the same moment store it once.
public final class PostgresStore: Store, GroupCommittingStore {
    public let settings: PostgresSettings
    public let workSignals = WorkSignals()
    package let client: PostgresClient
    let logger: Logger
    /// Concurrent ingests share one transaction and one commit (see `GroupCommit`).
    private let ingests: GroupCommit<PendingIngest, IngestOutcome>
    /// The most deliveries one ingest transaction commits.
    public static let ingestBatchLimit = 64

    public init(settings: PostgresSettings, logger: Logger) {
        self.settings = settings
        self.logger = logger
        var configuration = PostgresClient.Configuration(
            host: settings.host, port: settings.port, username: settings.username, password: settings.password,
            database: settings.database, tls: Self.tls(settings.tlsMode))
        // One connection is held by the job notification listener.
        configuration.options.maximumConnections = max(2, settings.poolSize)
        configuration.options.connectTimeout = .seconds(5)
        // No JIT: Cortex's queries are short, and a plan whose estimated cost crosses
        // `jit_above_cost` (a members page probing contact by contact is estimated in millions)
        // spent 170 ms compiling for 4 ms of work (BENCHMARKS.md "Directory filters").
        configuration.options.additionalStartupParameters = [("jit", "off")]
        client = PostgresClient(configuration: configuration, backgroundLogger: logger)
        let client = client
        // Round trips, not fsyncs, bound PostgreSQL: a few batches at once keep several pooled
        // connections busy, leaving the rest (and the LISTEN connection) for everything else.
        let concurrentBatches = max(1, min(4, settings.poolSize - 2))
        ingests = GroupCommit(maxBatch: Self.ingestBatchLimit, maxConcurrentBatches: concurrentBatches) { batch in
            await Self.commit(batch, client: client, settings: settings, logger: logger)
        }
    }

    private static func tls(_ mode: PostgresSettings.TLSMode) -> PostgresClient.Configuration.TLS {
        var configuration = TLSConfiguration.makeClientConfiguration()
        switch mode {
        case .disable:
            return .disable
        case .allow, .prefer:
            // As libpq: encryption if offered, without verifying the certificate.
            configuration.certificateVerification = .none
            return .prefer(configuration)
        case .require:
            configuration.certificateVerification = .none
            return .require(configuration)
        case .verifyCA:
            configuration.certificateVerification = .noHostnameVerification
            return .require(configuration)
        case .verifyFull:
            return .require(configuration)
        }
    }

    public var description: String { settings.redactedURL }

    /// The connection pool, and the LISTEN connection that wakes idle workers.
    public var services: [any Service] {
        [client, JobNotificationListener(client: client, signals: workSignals, logger: logger)]
    }

    public func migrate() async throws {
        try await mapped { [self] in try await PostgresMigrations.migrate(client, logger: logger) }
    }

    public func ping() async throws {
        try await mapped { [self] in try await client.query("SELECT 1", logger: logger) }
    }

    public func ingest(_ delivery: InboundDelivery, activities: [NewActivity], suppressions: [SuppressionChange])
        async throws -> IngestOutcome
    {
        defer { workSignals[.activities].notify() }  // It may have written activities: wake the watcher.
        return try await ingests.submit(PendingIngest(delivery: delivery, activities: activities, suppressions: suppressions))
    }

    package func execute(rawSQL: String) async throws {
        try await mapped { [self] in try await client.query(PostgresQuery(unsafeSQL: rawSQL), logger: logger) }
    }

    package func ingestTogether(_ deliveries: [(InboundDelivery, [NewActivity])]) async -> [Result<IngestOutcome, any Error>] {
        await Self.commit(
            deliveries.map { PendingIngest(delivery: $0.0, activities: $0.1, suppressions: []) },
            client: client, settings: settings, logger: logger)
    }

    /// Commits `batch` in one transaction on one connection, in order (a second delivery of an
    /// event in the batch sees the first and becomes its duplicate). When the server refuses a
    /// statement, nothing of the batch is stored, and each delivery is retried in a transaction
    /// of its own so that one bad delivery fails alone.
    ///
    /// The deadline is the oldest delivery's: `operationTimeout` from when its caller handed it
    /// over, not from now. A delivery that waited for a batch slot while the batches ahead of it
    /// waited out their own deadlines (a lost server) would otherwise be answered after twice
    /// the timeout; as it is, every caller is answered within `operationTimeout` of its call,
    /// since the batches ahead of a waiting delivery hold only older deliveries.
    private static func commit(
        _ batch: [PendingIngest], client: PostgresClient, settings: PostgresSettings, logger: Logger
    ) async -> [Result<IngestOutcome, any Error>] {
        let oldest = batch.map(\.submittedAt).min() ?? .now
        let remaining = settings.operationTimeout - (ContinuousClock.now - oldest)
        guard remaining > .zero else {
            let failure = Self.storeError(DeadlineExceeded(), settings)
            return batch.map { _ in .failure(failure) }
        }
        do {
            let outcomes = try await withDeadline(remaining) {
                try await client.withTransaction(logger: logger) { connection in
                    try await Self.ingestBatch(batch, connection, logger: logger)
                }
            }
            return outcomes.map { .success($0) }
        } catch {
            // A lost or silent server fails the whole batch at once instead of once per delivery.
            guard batch.count > 1, Self.serverRefusedStatement(error) else {
                let failure = Self.storeError(error, settings)
                return batch.map { _ in .failure(failure) }
            }
        }
        var results: [Result<IngestOutcome, any Error>] = []
        for pending in batch {
            results.append(await commit([pending], client: client, settings: settings, logger: logger)[0])
        }
        return results
    }

    /// Applies `batch` in one transaction: the common deliveries in one statement
    /// (`IngestNewDeliveries`), then every other delivery (later deliveries of an event id seen
    /// earlier in the batch, deliveries with no id, several activities or suppressions, and event
    /// ids already taken) one by one, in batch order, so each duplicate finds its original.
    private static func ingestBatch(_ batch: [PendingIngest], _ connection: PostgresConnection, logger: Logger) async throws
        -> [IngestOutcome]
    {
        var seen = Set<String>()
        var common: [(pending: PendingIngest, externalID: String, activity: NewActivity)] = []
        var commonIndexes: [Int] = []
        for (index, pending) in batch.enumerated() {
            let key = pending.delivery.externalID.map { pending.delivery.source + "\u{0}" + $0 }
            defer { if let key { seen.insert(key) } }
            guard let key, !seen.contains(key), let externalID = pending.delivery.externalID,
                pending.isCommon
            else { continue }
            common.append((pending, externalID, pending.activities[0]))
            commonIndexes.append(index)
        }
        var outcomes = [IngestOutcome?](repeating: nil, count: batch.count)
        if !common.isEmpty {
            var inserted: [String: IngestOutcome] = [:]
            for try await row in try await connection.execute(IngestNewDeliveries(deliveries: common), logger: logger) {
                inserted[row.source + "\u{0}" + row.externalID] = IngestOutcome(
                    activityIDs: [row.activityID], duplicate: false, inboundID: row.inboundID)
            }
            for (position, index) in commonIndexes.enumerated() {
                outcomes[index] = inserted[common[position].pending.delivery.source + "\u{0}" + common[position].externalID]
            }
        }
        for index in batch.indices where outcomes[index] == nil {
            outcomes[index] = try await ingestOne(batch[index], connection, logger: logger)
        }
        return outcomes.map { $0! }
    }

    /// One delivery, statement by statement: duplicates, deliveries without an event id, and
    /// those with several activities or suppression changes.
    private static func ingestOne(_ pending: PendingIngest, _ connection: PostgresConnection, logger: Logger) async throws
        -> IngestOutcome
    {
        let delivery = pending.delivery
        let headers = pending.headers
        // ON CONFLICT waits for a concurrent insert of the same key to commit or roll back,
        // then either inserts or yields nothing: exactly one winner across instances.
        let inserted = try await connection.query(
            """
            INSERT INTO inbound_events (source, external_id, received_at, headers, body, verdict)
            VALUES (\(delivery.source), \(delivery.externalID), cortex_ts(\(delivery.receivedAt.microseconds)),
                    \(headers)::jsonb, \(Data(delivery.body)), 'accepted')
            ON CONFLICT (source, external_id) WHERE verdict = 'accepted' AND external_id IS NOT NULL
            DO NOTHING
            RETURNING id
            """, logger: logger
        ).decode(Int64.self).first { _ in true }
        guard let inboundID = inserted else {
            let original = try await connection.query(
                """
                SELECT id FROM inbound_events
                WHERE source = \(delivery.source) AND external_id = \(delivery.externalID) AND verdict = 'accepted'
                """, logger: logger
            ).decode(Int64.self).first { _ in true }
            guard let original else { throw StoreError.unavailable("the accepted delivery vanished") }
            try await connection.query(
                """
                INSERT INTO inbound_events (source, external_id, received_at, headers, body, verdict, duplicate_of)
                VALUES (\(delivery.source), \(delivery.externalID), cortex_ts(\(delivery.receivedAt.microseconds)),
                        \(headers)::jsonb, \(Data(delivery.body)), 'duplicate', \(original))
                """, logger: logger)
            return IngestOutcome(
                activityIDs: try await activityIDs(connection, inboundID: original, logger: logger),
                duplicate: true, inboundID: original)
        }
        var ids: [Int64] = []
        for activity in pending.activities {
            ids.append(
                try await insertActivity(
                    connection, activity, inboundID: inboundID, source: delivery.source,
                    sourceEventID: delivery.externalID, receivedAt: delivery.receivedAt, logger: logger))
        }
        try await apply(pending.suppressions, connection, logger: logger)
        return IngestOutcome(activityIDs: ids, duplicate: false, inboundID: inboundID)
    }

    static func activityIDs(_ connection: PostgresConnection, inboundID: Int64, logger: Logger) async throws -> [Int64] {
        try await connection.query(
            "SELECT id FROM crm_activities WHERE inbound_event_id = \(inboundID) ORDER BY id", logger: logger
        ).decode(Int64.self).collectAll()
    }

    static func upsertContact(
        _ connection: PostgresConnection, _ activity: NewActivity, at time: Timestamp, logger: Logger
    ) async throws -> Int64 {
        let contactID = try await connection.query(
            """
            INSERT INTO contacts (email, first_name, last_name, created_at, updated_at)
            VALUES (\(activity.contactEmail.value), \(activity.firstName), \(activity.lastName),
                    cortex_ts(\(time.microseconds)), cortex_ts(\(time.microseconds)))
            ON CONFLICT (email) DO UPDATE SET
                first_name = COALESCE(excluded.first_name, contacts.first_name),
                last_name = COALESCE(excluded.last_name, contacts.last_name),
                updated_at = excluded.updated_at
            RETURNING id
            """, logger: logger
        ).decode(Int64.self).first { _ in true }
        guard let contactID else { throw StoreError.unavailable("contact upsert returned no id") }
        return contactID
    }

    static func insertActivity(
        _ connection: PostgresConnection, _ activity: NewActivity, inboundID: Int64, source: String,
        sourceEventID: String?, receivedAt: Timestamp, logger: Logger
    ) async throws -> Int64 {
        let contactID = try await upsertContact(connection, activity, at: receivedAt, logger: logger)
        let activityID = try await connection.query(
            """
            INSERT INTO crm_activities (type, contact_id, contact_email, occurred_at, received_at,
                source, source_event_id, inbound_event_id, metadata)
            VALUES (\(activity.type), \(contactID), \(activity.contactEmail.value),
                    cortex_ts(\(activity.occurredAt.microseconds)), cortex_ts(\(receivedAt.microseconds)),
                    \(source), \(sourceEventID), \(inboundID),
                    \(activity.metadata)::jsonb || COALESCE((SELECT jsonb_build_object('email_job_id', j.id) FROM email_jobs j
                        WHERE j.provider_message_id = \(activity.providerMessageID) ORDER BY j.id LIMIT 1), '{}'::jsonb))
            RETURNING id
            """, logger: logger
        ).decode(Int64.self).first { _ in true }
        guard let activityID else { throw StoreError.unavailable("activity insert returned no id") }
        return activityID
    }

    public func activities(_ query: ActivityQuery) async throws -> [Activity] {
        // NULL parameters switch a filter off, so one statement serves every combination.
        let email = query.email?.value
        let rows = try await mapped { [self] in
            // The feed is ordered by (occurred_at, id): a page goes on after its last row's pair.
            var beforeAt: Int64?
            if let before = query.before {
                beforeAt = try await client.query(
                    "SELECT cortex_us(occurred_at) FROM crm_activities WHERE id = \(before)", logger: logger
                ).decode(Int64.self).first { _ in true }
                guard beforeAt != nil else { throw StoreError.notFound("no activity \(before) to page after") }
            }
            return try await client.query(
                """
                SELECT id, type, contact_email, cortex_us(occurred_at), cortex_us(received_at), source,
                       source_event_id, metadata::text
                FROM crm_activities
                WHERE (\(email)::text IS NULL OR contact_email = \(email))
                  AND (\(query.type)::text IS NULL OR type = \(query.type))
                  AND (\(beforeAt)::bigint IS NULL OR (occurred_at, id) < (cortex_ts(\(beforeAt)), \(query.before)::bigint))
                ORDER BY occurred_at DESC, id DESC
                LIMIT \(query.limit)
                """, logger: logger
            ).decode((Int64, String, String, Int64, Int64, String, String?, String).self).collectAll()
        }
        return rows.compactMap { row in
            guard let email = EmailAddress(row.2) else { return nil }
            return Activity(
                id: row.0, type: row.1, contactEmail: email, occurredAt: Timestamp(microseconds: row.3),
                receivedAt: Timestamp(microseconds: row.4), source: row.5, sourceEventID: row.6, metadata: row.7)
        }
    }

    public func contact(email: EmailAddress) async throws -> Contact? {
        try await mapped { [self] in
            guard
                let row = try await client.query(
                    """
                    SELECT id, first_name, last_name, cortex_us(created_at), external_id, timezone, attributes::text,
                        consent_status, cortex_us(consent_at), consent_source,
                        (SELECT cortex_us(max(occurred_at)) FROM crm_activities a WHERE a.contact_email = contacts.email),
                        EXISTS (SELECT 1 FROM crm_activities a WHERE a.contact_email = contacts.email
                            AND a.type IN (\(unescaped: DirectoryRules.customerTypesSQL)))
                    FROM contacts WHERE email = \(email.value)
                    """,
                    logger: logger
                ).decode((Int64, String?, String?, Int64, String?, String?, String, String, Int64?, String?, Int64?, Bool).self)
                .first(where: { _ in true })
            else { return nil }
            let tags = try await client.query(
                "SELECT tag FROM contact_tags WHERE contact_id = \(row.0) ORDER BY tag_key", logger: logger
            ).decode(String.self).collectAll()
            let suppression = try await client.query(
                "SELECT reason, cortex_us(created_at) FROM suppressions WHERE email = \(email.value)", logger: logger
            ).decode((String, Int64).self).first(where: { _ in true }).map {
                Suppression(reason: $0.0, since: Timestamp(microseconds: $0.1))
            }
            return Contact(
                email: email, firstName: row.1, lastName: row.2, createdAt: Timestamp(microseconds: row.3), tags: tags,
                suppression: suppression, externalID: row.4, timezone: row.5, attributes: row.6,
                lifecycle: row.11 ? "customer" : "lead",
                consent: Consent(
                    status: ConsentStatus(rawValue: row.7) ?? .unknown, at: row.8.map(Timestamp.init(microseconds:)),
                    source: row.9),
                lastActivityAt: row.10.map(Timestamp.init(microseconds:)))
        }
    }

    /// Runs `body` within the operation timeout, turning PostgreSQL and connection failures into
    /// `StoreError`, so callers above Engine never see PostgresNIO's types and never wait long.
    /// `limit` is for background work whose size the data sets (a campaign's fan-out), not for
    /// anything a request waits on.
    @discardableResult
    func mapped<T: Sendable>(limit: Duration? = nil, _ body: @escaping @Sendable () async throws -> T) async throws -> T {
        let limit = limit ?? settings.operationTimeout
        do {
            return try await withDeadline(limit, body)
        } catch is DeadlineExceeded {
            throw StoreError.unavailable("PostgreSQL did not answer within \(limit) (\(settings.redactedURL))")
        } catch {
            throw Self.storeError(error, settings)
        }
    }

    /// Whether `error` is the server's answer to a statement (a constraint, a bad value), as
    /// opposed to a connection that failed or a deadline that passed.
    private static func serverRefusedStatement(_ error: any Error) -> Bool {
        switch error {
        case let error as PostgresTransactionError: error.closureError.map(serverRefusedStatement) ?? false
        case let error as PSQLError: error.serverInfo != nil
        default: false
        }
    }

    /// What a failed database call becomes: cancellation stays cancellation; a constraint or
    /// value the server refused becomes `conflict` or `invalid` (a retry would meet the same
    /// refusal); a passed deadline and every other PostgreSQL or connection failure `unavailable`.
    private static func storeError(_ error: any Error, _ settings: PostgresSettings) -> any Error {
        if error is CancellationError { return error }
        if error is DeadlineExceeded {
            return StoreError.unavailable("PostgreSQL did not answer within \(settings.operationTimeout) (\(settings.redactedURL))")
        }
        return storeError(error)
    }

    private static func storeError(_ error: any Error) -> any Error {
        switch error {
        case let error as StoreError:
            return error
        // The caller's data refused by Engine's own rules inside a transaction (attributes that
        // repeat a key, a filter naming a missing list): a 4xx, as on SQLite, never an outage.
        case is InputError, is FilterError, is GraphError:
            return error
        case let error as PostgresTransactionError:
            return storeError(error.closureError ?? error.beginError ?? error.commitError ?? error.rollbackError ?? error)
        case let error as PSQLError:
            guard let message = error.serverInfo?[.message] else {
                return StoreError.unavailable("PostgreSQL: \(error.code)")
            }
            switch error.serverInfo?[.sqlState] ?? "" {
            // unique_violation, foreign_key_violation: the change collides with existing rows.
            case "23505", "23503": return StoreError.conflict("PostgreSQL: \(message)")
            // check_violation, not_null_violation, and class 22 (data exception: a bad value).
            case "23514", "23502": return StoreError.invalid("PostgreSQL: \(message)")
            case let state where state.hasPrefix("22"): return StoreError.invalid("PostgreSQL: \(message)")
            default: return StoreError.unavailable("PostgreSQL: \(message)")
            }
        default:
            return StoreError.unavailable("PostgreSQL: \(error)")
        }
    }
}

extension AsyncSequence {
    /// Every element, in order.
    func collectAll() async throws -> [Element] {
        var result: [Element] = []
        for try await element in self { result.append(element) }
        return result
    }
}
