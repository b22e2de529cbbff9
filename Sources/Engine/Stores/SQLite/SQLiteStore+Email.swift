import GRDB

/// The send ledger on SQLite.
extension SQLiteStore {
    static let emailColumns = """
        id, idempotency_key, recipient, sender, subject, html_body, text_body, stream, tag, metadata, status,
        attempts, next_attempt_at, last_error, provider, provider_message_id, created_at, sent_at, options, campaign_id,
        contact_id
        """

    /// A row of `emailColumns`, read by position: the sender decodes 100,000 of these for a
    /// campaign inside the claim's write transaction, and GRDB's lookup by name lowercases the
    /// name on every read.
    static func emailJob(_ row: Row) -> EmailJob? {
        guard let recipient = EmailAddress(row[2] as String) else { return nil }
        var message = NewEmailJob(
            idempotencyKey: row[1], recipient: recipient, sender: row[3], subject: row[4], html: row[5], text: row[6],
            stream: EmailStream(rawValue: row[7]) ?? .transactional, tag: row[8], metadata: row[9])
        DeliveryOptionsJSON.apply(row[18], to: &message)
        var job = EmailJob(
            id: row[0],
            message: message,
            status: EmailStatus(rawValue: row[10]) ?? .failed, attempts: row[11],
            nextAttemptAt: Timestamp(microseconds: row[12]), lastError: row[13],
            provider: row[14], providerMessageID: row[15],
            createdAt: Timestamp(microseconds: row[16]),
            sentAt: (row[17] as Int64?).map(Timestamp.init(microseconds:)))
        job.campaignID = row[19]
        job.contactID = row[20]
        return job
    }

    public func enqueueEmails(_ messages: [NewEmailJob], at time: Timestamp) async throws -> [(job: EmailJob, created: Bool)] {
        guard !messages.isEmpty else { return [] }
        let results = try await write { db -> [(EmailJob?, Bool)] in
            try messages.map { message in
                let created = try Self.insertEmailJob(db, message, at: time)
                let row = try Row.fetchOne(
                    db.cachedStatement(sql: "SELECT \(Self.emailColumns) FROM email_jobs WHERE idempotency_key = ?"),
                    arguments: [message.idempotencyKey])
                return (row.flatMap(Self.emailJob), created)
            }
        }
        if results.contains(where: { $0.1 }) { workSignals[.email].notify() }
        return try results.map { job, created in
            guard let job else { throw StoreError.unavailable("an enqueued message could not be read back") }
            return (job, created)
        }
    }

    /// Queues `message` unless its idempotency key is taken; answers whether it was queued.
    static func insertEmailJob(_ db: Database, _ message: NewEmailJob, at time: Timestamp) throws -> Bool {
        try db.execute(
            sql: """
                INSERT INTO email_jobs (idempotency_key, recipient, sender, subject, html_body, text_body, stream,
                    tag, metadata, options, status, next_attempt_at, created_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'queued', ?, ?)
                ON CONFLICT (idempotency_key) DO NOTHING
                """,
            arguments: [
                message.idempotencyKey, message.recipient.value, message.sender, message.subject, message.html,
                message.text, message.stream.rawValue, message.tag, message.metadata, DeliveryOptionsJSON.encode(message),
                time.microseconds, time.microseconds,
            ])
        return db.changesCount > 0
    }

    /// Claims the due rows (arguments: lease end, now, now, limit). The subquery repeats the
    /// `email_jobs_due` index's own condition and bounds `next_attempt_at` (a row being sent was
    /// due when claimed, so its lease ends after it): without them SQLite cannot prove the
    /// partial index applies, scanned and sorted the whole ledger on every claim, and a send
    /// slowed as the ledger grew.
    static let claimSQL = """
        UPDATE email_jobs SET status = 'sending', attempts = attempts + 1, lease_until = ?
        WHERE id IN (
            SELECT id FROM email_jobs
            WHERE status IN ('queued', 'sending') AND next_attempt_at <= ? AND (status = 'queued' OR lease_until <= ?)
            ORDER BY next_attempt_at, id LIMIT ?)
        RETURNING \(emailColumns)
        """

    public func claimEmailJobs(limit: Int, now: Timestamp, leaseSeconds: Int64) async throws -> [EmailJob] {
        try await write { db in
            let claimed = try Row.fetchAll(
                db.cachedStatement(sql: Self.claimSQL),
                arguments: [now.adding(seconds: leaseSeconds).microseconds, now.microseconds, now.microseconds, limit]
            ).compactMap(Self.emailJob).sorted { $0.id < $1.id }
            let recipients = Array(Set(claimed.map(\.message.recipient.value)))
            let suppressed = Set(
                try String.fetchAll(
                    db, sql: "SELECT email FROM suppressions WHERE email IN (\(Self.placeholders(recipients.count)))",
                    arguments: StatementArguments(recipients)))
            let contacts = Array(Set(claimed.compactMap { $0.campaignID == nil ? nil : $0.contactID }))
            let revoked = Set(
                try Int64.fetchAll(
                    db, sql: "SELECT id FROM contacts WHERE consent_status = 'revoked' AND id IN (\(Self.placeholders(contacts.count)))",
                    arguments: StatementArguments(contacts)))
            return try claimed.filter { job in
                guard let reason = LedgerRules.withheld(job, suppressed: suppressed, revoked: revoked) else { return true }
                try db.execute(
                    sql: "UPDATE email_jobs SET status = ?, lease_until = NULL, last_error = ? WHERE id = ?",
                    arguments: [reason.status.rawValue, reason.message, job.id])
                return false
            }
        }
    }

    public func renewEmailLeases(_ ids: [Int64], heldUntil: Timestamp, until: Timestamp) async throws -> Set<Int64> {
        guard !ids.isEmpty else { return [] }
        return try await write { db in
            Set(
                try Int64.fetchAll(
                    db,
                    sql: """
                        UPDATE email_jobs SET lease_until = ?
                        WHERE id IN (\(Self.placeholders(ids.count))) AND status = 'sending' AND lease_until = ?
                        RETURNING id
                        """, arguments: StatementArguments([until.microseconds] + ids + [heldUntil.microseconds])))
        }
    }

    public func recordEmailOutcomes(_ outcomes: [(id: Int64, outcome: EmailOutcome)], at time: Timestamp) async throws {
        try await write { db in
            for (id, outcome) in outcomes {
                switch outcome {
                case .sent(let provider, let messageID, let sentAt):
                    // Prepared once per connection: a campaign records 500 of these per batch.
                    try db.cachedStatement(
                        sql: """
                            UPDATE email_jobs SET status = 'sent', provider = ?, provider_message_id = ?, sent_at = ?,
                                lease_until = NULL, last_error = NULL
                            WHERE id = ?
                            """
                    ).execute(arguments: [provider, messageID, sentAt.microseconds, id])
                case .failed(let reason, let suppress):
                    try db.execute(
                        sql: "UPDATE email_jobs SET status = 'failed', last_error = ?, lease_until = NULL WHERE id = ?",
                        arguments: [reason, id])
                    if suppress,
                        let recipient = try String.fetchOne(db, sql: "SELECT recipient FROM email_jobs WHERE id = ?", arguments: [id]),
                        let email = EmailAddress(recipient)
                    {
                        try Self.apply([.suppress(email, reason: "inactive_recipient", at: time)], db)
                    }
                case .retry(let reason, let retryAt):
                    try db.execute(
                        sql: """
                            UPDATE email_jobs SET status = 'queued', last_error = ?, next_attempt_at = ?, lease_until = NULL
                            WHERE id = ?
                            """, arguments: [reason, retryAt.microseconds, id])
                case .hold(let reason, let retryAt):
                    try db.execute(
                        sql: """
                            UPDATE email_jobs SET status = 'queued', last_error = ?, next_attempt_at = ?, lease_until = NULL,
                                attempts = MAX(attempts - 1, 0)
                            WHERE id = ?
                            """, arguments: [reason, retryAt.microseconds, id])
                }
            }
        }
    }

    public func emailJob(id: Int64) async throws -> EmailJob? {
        try await read { db in
            try Row.fetchOne(db, sql: "SELECT \(Self.emailColumns) FROM email_jobs WHERE id = ?", arguments: [id])
                .flatMap(Self.emailJob)
        }
    }


    public func emailJobs(_ query: EmailJobQuery) async throws -> [EmailJob] {
        var filter = SQLiteFilter()
        filter.equals("recipient", query.email?.value)
        filter.equals("status", query.status?.rawValue)
        if let before = query.before { filter.add("id < ?", [before]) }
        let sql = "SELECT \(Self.emailColumns) FROM email_jobs \(filter.clause) ORDER BY id DESC LIMIT ?"
        let arguments = filter.arguments(limit: query.limit)
        return try await read { db in
            try Row.fetchAll(db.cachedStatement(sql: sql), arguments: arguments).compactMap(Self.emailJob)
        }
    }

    public func nextEmailDue() async throws -> Timestamp? {
        try await read { db in
            try Int64.fetchOne(
                db,
                sql: """
                    SELECT MIN(CASE WHEN status = 'sending' THEN lease_until ELSE next_attempt_at END)
                    FROM email_jobs WHERE status IN ('queued', 'sending')
                    """
            ).map(Timestamp.init(microseconds:))
        }
    }
}
