import Logging
import PostgresNIO

/// The versioned schema of the PostgreSQL store. Append new migrations; never edit a shipped one.
enum PostgresMigrations {
    /// Any fixed number; every Cortex instance takes this advisory lock while it migrates, so two
    /// instances starting at once apply each migration exactly once.
    static let advisoryLockKey: Int64 = 0x636F_7274_6578  // "cortex"

    static let all: [(version: String, sql: [String])] = [
        (
            "v1_spine",
            [
                // Exact conversions between Cortex's integer microseconds and timestamptz, which
                // also has microsecond precision; to_timestamp() would round through a double.
                """
                CREATE FUNCTION cortex_ts(us bigint) RETURNS timestamptz
                    LANGUAGE sql IMMUTABLE PARALLEL SAFE
                    RETURN timestamptz 'epoch' + us * interval '1 microsecond'
                """,
                """
                CREATE FUNCTION cortex_us(ts timestamptz) RETURNS bigint
                    LANGUAGE sql IMMUTABLE PARALLEL SAFE
                    RETURN (extract(epoch FROM ts) * 1000000)::bigint
                """,
                """
                CREATE TABLE contacts (
                    id bigserial PRIMARY KEY,
                    email text NOT NULL UNIQUE CHECK (email = lower(email)),
                    first_name text,
                    last_name text,
                    created_at timestamptz NOT NULL,
                    updated_at timestamptz NOT NULL
                )
                """,
                """
                CREATE TABLE inbound_events (
                    id bigserial PRIMARY KEY,
                    source text NOT NULL,
                    external_id text,
                    received_at timestamptz NOT NULL,
                    headers jsonb NOT NULL,
                    body bytea NOT NULL,
                    verdict text NOT NULL CHECK (verdict IN ('accepted', 'duplicate', 'rejected')),
                    reason text,
                    duplicate_of bigint REFERENCES inbound_events (id)
                )
                """,
                """
                CREATE UNIQUE INDEX inbound_events_dedupe ON inbound_events (source, external_id)
                    WHERE verdict = 'accepted' AND external_id IS NOT NULL
                """,
                "CREATE INDEX inbound_events_listing ON inbound_events (source, verdict, id)",
                """
                CREATE TABLE crm_activities (
                    id bigserial PRIMARY KEY,
                    type text NOT NULL,
                    contact_id bigint NOT NULL REFERENCES contacts (id),
                    contact_email text NOT NULL,
                    occurred_at timestamptz NOT NULL,
                    received_at timestamptz NOT NULL,
                    source text NOT NULL,
                    source_event_id text,
                    inbound_event_id bigint REFERENCES inbound_events (id),
                    metadata jsonb NOT NULL DEFAULT '{}'
                )
                """,
                "CREATE INDEX crm_activities_feed ON crm_activities (occurred_at DESC, id DESC)",
                "CREATE INDEX crm_activities_by_email ON crm_activities (contact_email, occurred_at DESC, id DESC)",
                "CREATE INDEX crm_activities_by_type ON crm_activities (type, occurred_at DESC, id DESC)",
                "CREATE INDEX crm_activities_by_inbound ON crm_activities (inbound_event_id)",
                """
                CREATE TABLE contact_tags (
                    contact_id bigint NOT NULL REFERENCES contacts (id) ON DELETE CASCADE,
                    tag text NOT NULL,
                    created_at timestamptz NOT NULL,
                    PRIMARY KEY (contact_id, tag)
                )
                """,
                """
                CREATE TABLE suppressions (
                    email text PRIMARY KEY,
                    reason text NOT NULL,
                    created_at timestamptz NOT NULL
                )
                """,
                """
                CREATE TABLE api_keys (
                    id bigserial PRIMARY KEY,
                    name text NOT NULL,
                    key_hash text NOT NULL UNIQUE,
                    created_at timestamptz NOT NULL
                )
                """,
            ]
        ),
        (
            "v2_jobs",
            [
                """
                CREATE TABLE cortex_jobs (
                    id bigserial PRIMARY KEY,
                    kind text NOT NULL,
                    payload jsonb NOT NULL DEFAULT '{}',
                    state text NOT NULL DEFAULT 'available' CHECK (state IN ('available', 'running', 'completed')),
                    run_at timestamptz NOT NULL,
                    attempts integer NOT NULL DEFAULT 0,
                    locked_until timestamptz,
                    created_at timestamptz NOT NULL,
                    completed_at timestamptz
                )
                """,
                "CREATE INDEX cortex_jobs_due ON cortex_jobs (kind, run_at, id) WHERE state <> 'completed'",
            ]
        ),
        (
            "v3_email_jobs",
            [
                """
                CREATE TABLE email_jobs (
                    id bigserial PRIMARY KEY,
                    idempotency_key text NOT NULL UNIQUE,
                    recipient text NOT NULL,
                    sender text NOT NULL,
                    subject text NOT NULL,
                    html_body text,
                    text_body text,
                    stream text NOT NULL CHECK (stream IN ('transactional', 'broadcast')),
                    tag text,
                    metadata jsonb NOT NULL DEFAULT '{}',
                    status text NOT NULL
                        CHECK (status IN ('queued', 'sending', 'sent', 'failed', 'suppressed', 'cancelled')),
                    attempts integer NOT NULL DEFAULT 0,
                    next_attempt_at timestamptz NOT NULL,
                    lease_until timestamptz,
                    last_error text,
                    provider text,
                    provider_message_id text,
                    created_at timestamptz NOT NULL,
                    sent_at timestamptz
                )
                """,
                "CREATE INDEX email_jobs_due ON email_jobs (next_attempt_at, id) WHERE status IN ('queued', 'sending')",
                "CREATE INDEX email_jobs_by_recipient ON email_jobs (recipient, id)",
                "CREATE INDEX email_jobs_by_provider_message ON email_jobs (provider_message_id)",
            ]
        ),
        (
            "v4_email_options",
            // Tracking choices and extra headers: one JSON object (see DeliveryOptionsJSON).
            ["ALTER TABLE email_jobs ADD COLUMN options jsonb NOT NULL DEFAULT '{}'"]
        ),
        (
            "v5_inbound_retention",
            // body_length: the bytes received, set only when `body` holds fewer (a rejected body
            // cut to its prefix, a pruned one), so ingest writes nothing new. body_pruned_at:
            // when retention emptied body and headers. The partial index holds only rows still
            // to prune, so the pruner finds the oldest ones without scanning pruned history.
            [
                "ALTER TABLE inbound_events ADD COLUMN body_length bigint",
                "ALTER TABLE inbound_events ADD COLUMN body_pruned_at timestamptz",
                "CREATE INDEX inbound_events_unpruned ON inbound_events (received_at) WHERE body_pruned_at IS NULL",
            ]
        ),
        (
            "v6_directory",
            // The directory's own fields (ENGINE.md §1); see the SQLite migration of the same
            // name for why lifecycle and last_activity_at are derived, not stored. Tag keys fold
            // ASCII letters only (`lower` under the "C" collation), exactly like SQLite's.
            [
                """
                ALTER TABLE contacts
                    ADD COLUMN external_id text,
                    ADD COLUMN timezone text,
                    ADD COLUMN attributes jsonb NOT NULL DEFAULT '{}',
                    ADD COLUMN consent_status text NOT NULL DEFAULT 'unknown'
                        CHECK (consent_status IN ('unknown', 'granted', 'revoked')),
                    ADD COLUMN consent_at timestamptz,
                    ADD COLUMN consent_source text
                """,
                "CREATE UNIQUE INDEX contacts_external_id ON contacts (external_id) WHERE external_id IS NOT NULL",
                "ALTER TABLE contact_tags ADD COLUMN tag_key text",
                "UPDATE contact_tags SET tag_key = lower(tag COLLATE \"C\")",
                """
                DELETE FROM contact_tags t USING contact_tags u
                WHERE t.contact_id = u.contact_id AND t.tag_key = u.tag_key AND (t.created_at, t.tag) > (u.created_at, u.tag)
                """,
                "ALTER TABLE contact_tags ALTER COLUMN tag_key SET NOT NULL",
                "ALTER TABLE contact_tags DROP CONSTRAINT contact_tags_pkey",
                "ALTER TABLE contact_tags ADD PRIMARY KEY (contact_id, tag_key)",
                "CREATE INDEX contact_tags_by_key ON contact_tags (tag_key, contact_id)",
                """
                CREATE TABLE crm_smart_lists (
                    id bigserial PRIMARY KEY,
                    name text NOT NULL,
                    filter jsonb NOT NULL,
                    created_at timestamptz NOT NULL,
                    updated_at timestamptz NOT NULL
                )
                """,
            ]
        ),
        (
            "v7_directory_indexes",
            // See the SQLite migration of the same name: one contact's activities by type, for
            // the filter language's per-contact probes. Built inside the migration transaction,
            // so it holds off ingest while it builds (seconds for a million activities).
            ["CREATE INDEX crm_activities_by_contact ON crm_activities (contact_id, type, occurred_at)"]
        ),
        (
            "v8_automations",
            // See the SQLite migration of the same name. Graphs are `json`, not `jsonb`: `json`
            // keeps the text as sent (member order, number spelling), so a canvas gets its
            // document back byte for byte.
            [
                """
                CREATE TABLE automations (
                    id bigserial PRIMARY KEY,
                    name text NOT NULL,
                    status text NOT NULL CHECK (status IN ('draft', 'active', 'paused', 'archived')),
                    version integer NOT NULL,
                    reentry text NOT NULL,
                    exit_when json,
                    timezone text NOT NULL,
                    created_at timestamptz NOT NULL,
                    updated_at timestamptz NOT NULL
                )
                """,
                """
                CREATE TABLE automation_versions (
                    automation_id bigint NOT NULL REFERENCES automations (id),
                    version integer NOT NULL,
                    graph json NOT NULL,
                    created_at timestamptz NOT NULL,
                    PRIMARY KEY (automation_id, version)
                )
                """,
                """
                CREATE TABLE automation_executions (
                    id bigserial PRIMARY KEY,
                    automation_id bigint NOT NULL REFERENCES automations (id),
                    version integer NOT NULL,
                    contact_id bigint NOT NULL,
                    contact_email text NOT NULL,
                    trigger_activity_id bigint NOT NULL,
                    status text NOT NULL
                        CHECK (status IN ('running', 'waiting', 'completed', 'exited', 'cancelled', 'failed')),
                    current_node_id text,
                    wake_up_at timestamptz,
                    dry_run boolean NOT NULL DEFAULT false,
                    locked_until timestamptz,
                    last_error text,
                    created_at timestamptz NOT NULL,
                    updated_at timestamptz NOT NULL,
                    finished_at timestamptz,
                    UNIQUE (automation_id, trigger_activity_id)
                )
                """,
                "CREATE INDEX automation_executions_by_version ON automation_executions (automation_id, version)",
                "CREATE INDEX automation_executions_by_contact ON automation_executions (automation_id, contact_id, created_at)",
                """
                CREATE INDEX automation_executions_due ON automation_executions (wake_up_at, id)
                    WHERE status IN ('running', 'waiting')
                """,
                "CREATE TABLE automation_watch (name text PRIMARY KEY, last_activity_id bigint NOT NULL)",
                """
                CREATE TABLE automation_logs (
                    id bigserial PRIMARY KEY,
                    execution_id bigint NOT NULL REFERENCES automation_executions (id),
                    at timestamptz NOT NULL,
                    node_id text,
                    action text NOT NULL,
                    outcome text NOT NULL CHECK (outcome IN ('ok', 'waiting', 'skipped', 'failed')),
                    message text NOT NULL,
                    detail jsonb
                )
                """,
                "CREATE INDEX automation_logs_by_execution ON automation_logs (execution_id, id)",
            ]
        ),
        (
            // The generic job queue never had a consumer: each kind of work is a table of its
            // own (the send ledger, the executions), claimed under a lease.
            "v9_drop_jobs",
            ["DROP TABLE cortex_jobs"]
        ),
        (
            // A campaign keeps its definition as the API wrote it (the design verbatim); its
            // ledger rows point at it and at the contact, unique per (campaign, contact), and are
            // rendered at send time from the campaign, so the HTML is stored once.
            "v10_campaigns",
            [
                """
                CREATE TABLE campaigns (
                    id bigserial PRIMARY KEY,
                    definition json NOT NULL,
                    status text NOT NULL CHECK (status IN ('draft', 'scheduled', 'sending', 'sent', 'cancelled')),
                    scheduled_at timestamptz,
                    created_at timestamptz NOT NULL,
                    updated_at timestamptz NOT NULL
                )
                """,
                "CREATE INDEX campaigns_due ON campaigns (scheduled_at) WHERE status IN ('scheduled', 'sending')",
                "ALTER TABLE email_jobs ADD COLUMN campaign_id bigint REFERENCES campaigns (id)",
                "ALTER TABLE email_jobs ADD COLUMN contact_id bigint",
                "CREATE UNIQUE INDEX email_jobs_by_campaign ON email_jobs (campaign_id, contact_id) WHERE campaign_id IS NOT NULL",
            ]
        ),
        (
            // Keys Cortex makes for itself on first use (the unsubscribe links' HMAC key), kept
            // with the data they protect so every instance signs and checks alike.
            "v11_secrets",
            ["CREATE TABLE cortex_secrets (name text PRIMARY KEY, value text NOT NULL)"]
        ),
        (
            // The watcher looks up, every pass, the waiting executions of the contacts whose
            // activities it read: without this it scanned every running and waiting execution.
            "v12_waiting_by_contact",
            ["CREATE INDEX automation_executions_waiting ON automation_executions (contact_email) WHERE status = 'waiting'"]
        ),
        (
            // A campaign is fanned out chunk by chunk of contact ids: where the next chunk starts.
            "v13_chunked_fan_out",
            ["ALTER TABLE campaigns ADD COLUMN fanout_after bigint"]
        ),
        (
            // The foreign key from a ledger row to its campaign was checked once per row of a
            // fan-out (0.3 s of 1.7 per 100,000 rows) and protected nothing the store does not:
            // a campaign can be deleted only while it has no rows (draft or scheduled).
            "v14_campaign_rows_without_foreign_key",
            ["ALTER TABLE email_jobs DROP CONSTRAINT IF EXISTS email_jobs_campaign_id_fkey"]
        ),
        (
            // Signed-in console sessions, by the hash of their cookie's token (ENGINE.md §6).
            "v15_console_sessions",
            [
                """
                CREATE TABLE console_sessions (
                    token_hash text PRIMARY KEY, key_hash text NOT NULL, csrf_token text NOT NULL,
                    created_at timestamptz NOT NULL, expires_at timestamptz NOT NULL
                )
                """,
                "CREATE INDEX console_sessions_by_expiry ON console_sessions (expires_at)",
            ]
        ),
        (
            // A key is revoked, not deleted, so the list still says which keys existed and when
            // each stopped working. The hint (the key's last 4 characters) tells keys apart; keys
            // made before it was kept have none.
            "v16_api_key_revocation",
            [
                "ALTER TABLE api_keys ADD COLUMN revoked_at timestamptz",
                "ALTER TABLE api_keys ADD COLUMN hint text",
            ]
        ),
    ]

    /// Applies every pending migration in one transaction under the advisory lock.
    static func migrate(_ client: PostgresClient, logger: Logger) async throws {
        try await client.withTransaction(logger: logger) { connection in
            try await connection.query("SELECT pg_advisory_xact_lock(\(advisoryLockKey))", logger: logger)
            try await connection.query(
                """
                CREATE TABLE IF NOT EXISTS cortex_migrations (
                    version text PRIMARY KEY,
                    applied_at timestamptz NOT NULL DEFAULT now()
                )
                """, logger: logger)
            var applied: Set<String> = []
            for try await version in try await connection.query("SELECT version FROM cortex_migrations", logger: logger)
                .decode(String.self)
            {
                applied.insert(version)
            }
            for migration in all where !applied.contains(migration.version) {
                for statement in migration.sql {
                    try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger)
                }
                try await connection.query(
                    "INSERT INTO cortex_migrations (version) VALUES (\(migration.version))", logger: logger)
                logger.info("applied migration", metadata: ["version": "\(migration.version)"])
            }
        }
    }
}
