import GRDB

/// The versioned schema of the SQLite store. Append new migrations; never edit a shipped one.
enum SQLiteMigrations {
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1_spine") { db in
            // Times are integer microseconds since the epoch, UTC.
            try db.execute(
                sql: """
                    CREATE TABLE contacts (
                        id INTEGER PRIMARY KEY,
                        email TEXT NOT NULL UNIQUE,
                        first_name TEXT,
                        last_name TEXT,
                        created_at INTEGER NOT NULL,
                        updated_at INTEGER NOT NULL
                    );
                    CREATE TABLE inbound_events (
                        id INTEGER PRIMARY KEY,
                        source TEXT NOT NULL,
                        external_id TEXT,
                        received_at INTEGER NOT NULL,
                        headers TEXT NOT NULL,
                        body BLOB NOT NULL,
                        verdict TEXT NOT NULL CHECK (verdict IN ('accepted', 'duplicate', 'rejected')),
                        reason TEXT,
                        duplicate_of INTEGER REFERENCES inbound_events (id)
                    );
                    -- The dedupe key: one accepted delivery per sender event id. Rejected
                    -- deliveries do not hold the key, so a corrected retry can still land.
                    CREATE UNIQUE INDEX inbound_events_dedupe ON inbound_events (source, external_id)
                        WHERE verdict = 'accepted' AND external_id IS NOT NULL;
                    CREATE INDEX inbound_events_listing ON inbound_events (source, verdict, id);
                    CREATE TABLE crm_activities (
                        id INTEGER PRIMARY KEY,
                        type TEXT NOT NULL,
                        contact_id INTEGER NOT NULL REFERENCES contacts (id),
                        contact_email TEXT NOT NULL,
                        occurred_at INTEGER NOT NULL,
                        received_at INTEGER NOT NULL,
                        source TEXT NOT NULL,
                        source_event_id TEXT,
                        inbound_event_id INTEGER REFERENCES inbound_events (id),
                        metadata TEXT NOT NULL DEFAULT '{}'
                    );
                    CREATE INDEX crm_activities_feed ON crm_activities (occurred_at DESC, id DESC);
                    CREATE INDEX crm_activities_by_email ON crm_activities (contact_email, occurred_at DESC, id DESC);
                    CREATE INDEX crm_activities_by_type ON crm_activities (type, occurred_at DESC, id DESC);
                    CREATE INDEX crm_activities_by_inbound ON crm_activities (inbound_event_id);
                    CREATE TABLE contact_tags (
                        contact_id INTEGER NOT NULL REFERENCES contacts (id) ON DELETE CASCADE,
                        tag TEXT NOT NULL,
                        created_at INTEGER NOT NULL,
                        PRIMARY KEY (contact_id, tag)
                    );
                    CREATE TABLE suppressions (
                        email TEXT PRIMARY KEY,
                        reason TEXT NOT NULL,
                        created_at INTEGER NOT NULL
                    );
                    CREATE TABLE api_keys (
                        id INTEGER PRIMARY KEY,
                        name TEXT NOT NULL,
                        key_hash TEXT NOT NULL UNIQUE,
                        created_at INTEGER NOT NULL
                    );
                    """
            )
        }
        migrator.registerMigration("v2_jobs") { db in
            try db.execute(
                sql: """
                    CREATE TABLE cortex_jobs (
                        id INTEGER PRIMARY KEY,
                        kind TEXT NOT NULL,
                        payload TEXT NOT NULL DEFAULT '{}',
                        state TEXT NOT NULL DEFAULT 'available'
                            CHECK (state IN ('available', 'running', 'completed')),
                        run_at INTEGER NOT NULL,
                        attempts INTEGER NOT NULL DEFAULT 0,
                        locked_until INTEGER,
                        created_at INTEGER NOT NULL,
                        completed_at INTEGER
                    );
                    CREATE INDEX cortex_jobs_due ON cortex_jobs (kind, run_at, id) WHERE state <> 'completed';
                    """
            )
        }
        migrator.registerMigration("v3_email_jobs") { db in
            try db.execute(
                sql: """
                    CREATE TABLE email_jobs (
                        id INTEGER PRIMARY KEY,
                        idempotency_key TEXT NOT NULL UNIQUE,
                        recipient TEXT NOT NULL,
                        sender TEXT NOT NULL,
                        subject TEXT NOT NULL,
                        html_body TEXT,
                        text_body TEXT,
                        stream TEXT NOT NULL CHECK (stream IN ('transactional', 'broadcast')),
                        tag TEXT,
                        metadata TEXT NOT NULL DEFAULT '{}',
                        status TEXT NOT NULL
                            CHECK (status IN ('queued', 'sending', 'sent', 'failed', 'suppressed', 'cancelled')),
                        attempts INTEGER NOT NULL DEFAULT 0,
                        next_attempt_at INTEGER NOT NULL,
                        lease_until INTEGER,
                        last_error TEXT,
                        provider TEXT,
                        provider_message_id TEXT,
                        created_at INTEGER NOT NULL,
                        sent_at INTEGER
                    );
                    CREATE INDEX email_jobs_due ON email_jobs (next_attempt_at, id) WHERE status IN ('queued', 'sending');
                    CREATE INDEX email_jobs_by_recipient ON email_jobs (recipient, id);
                    CREATE INDEX email_jobs_by_provider_message ON email_jobs (provider_message_id);
                    """
            )
        }
        migrator.registerMigration("v4_email_options") { db in
            // Tracking choices and extra headers: one JSON object (see DeliveryOptionsJSON).
            try db.execute(sql: "ALTER TABLE email_jobs ADD COLUMN options TEXT NOT NULL DEFAULT '{}'")
        }
        migrator.registerMigration("v5_inbound_retention") { db in
            // body_length: the bytes received, set only when `body` holds fewer (a rejected body
            // cut to its prefix, a pruned one), so ingest writes nothing new. body_pruned_at:
            // when retention emptied body and headers. The partial index holds only rows still
            // to prune, so the pruner finds the oldest ones without scanning pruned history.
            try db.execute(
                sql: """
                    ALTER TABLE inbound_events ADD COLUMN body_length INTEGER;
                    ALTER TABLE inbound_events ADD COLUMN body_pruned_at INTEGER;
                    CREATE INDEX inbound_events_unpruned ON inbound_events (received_at) WHERE body_pruned_at IS NULL;
                    """
            )
        }
        migrator.registerMigration("v6_directory") { db in
            // The directory's own fields (ENGINE.md §1). `lifecycle` and `last_activity_at` are
            // not columns: they are read from the activities, so they can never go stale and
            // ingest writes nothing more. Tags get a case-folded key (ASCII, as `lower()` folds
            // here and on PostgreSQL), unique per contact: `P2P` and `p2p` are one tag, kept as
            // first written. The rebuilt tag table keeps the first spelling of each key.
            try db.execute(
                sql: """
                    ALTER TABLE contacts ADD COLUMN external_id TEXT;
                    ALTER TABLE contacts ADD COLUMN timezone TEXT;
                    ALTER TABLE contacts ADD COLUMN attributes TEXT NOT NULL DEFAULT '{}';
                    ALTER TABLE contacts ADD COLUMN consent_status TEXT NOT NULL DEFAULT 'unknown'
                        CHECK (consent_status IN ('unknown', 'granted', 'revoked'));
                    ALTER TABLE contacts ADD COLUMN consent_at INTEGER;
                    ALTER TABLE contacts ADD COLUMN consent_source TEXT;
                    CREATE UNIQUE INDEX contacts_external_id ON contacts (external_id) WHERE external_id IS NOT NULL;
                    CREATE TABLE contact_tags_v6 (
                        contact_id INTEGER NOT NULL REFERENCES contacts (id) ON DELETE CASCADE,
                        tag TEXT NOT NULL,
                        tag_key TEXT NOT NULL,
                        created_at INTEGER NOT NULL,
                        PRIMARY KEY (contact_id, tag_key)
                    );
                    INSERT OR IGNORE INTO contact_tags_v6 (contact_id, tag, tag_key, created_at)
                        SELECT contact_id, tag, lower(tag), created_at FROM contact_tags ORDER BY created_at, tag;
                    DROP TABLE contact_tags;
                    ALTER TABLE contact_tags_v6 RENAME TO contact_tags;
                    CREATE INDEX contact_tags_by_key ON contact_tags (tag_key, contact_id);
                    CREATE TABLE crm_smart_lists (
                        id INTEGER PRIMARY KEY,
                        name TEXT NOT NULL,
                        filter TEXT NOT NULL,
                        created_at INTEGER NOT NULL,
                        updated_at INTEGER NOT NULL
                    );
                    """
            )
        }
        migrator.registerMigration("v7_directory_indexes") { db in
            // A filter tests one contact's activities by type (an automation condition, each
            // contact of a members page): keyed by contact and type, a probe reads only the
            // matching entries, where the email index reads every activity of the contact to
            // check its type. Ingest pays one more index entry per activity.
            try db.execute(sql: "CREATE INDEX crm_activities_by_contact ON crm_activities (contact_id, type, occurred_at)")
        }
        migrator.registerMigration("v8_automations") { db in
            // Automations keep every version's graph (executions finish on the version they
            // started on). An execution is unique per automation and triggering activity, so a
            // watcher that matches an activity twice (after a crash) spawns it once; it points
            // at the contact by id and keeps the address for listing. Logs are one row per step.
            try db.execute(
                sql: """
                    CREATE TABLE automations (
                        id INTEGER PRIMARY KEY,
                        name TEXT NOT NULL,
                        status TEXT NOT NULL CHECK (status IN ('draft', 'active', 'paused', 'archived')),
                        version INTEGER NOT NULL,
                        reentry TEXT NOT NULL,
                        exit_when TEXT,
                        timezone TEXT NOT NULL,
                        created_at INTEGER NOT NULL,
                        updated_at INTEGER NOT NULL
                    );
                    CREATE TABLE automation_versions (
                        automation_id INTEGER NOT NULL REFERENCES automations (id),
                        version INTEGER NOT NULL,
                        graph TEXT NOT NULL,
                        created_at INTEGER NOT NULL,
                        PRIMARY KEY (automation_id, version)
                    );
                    CREATE TABLE automation_executions (
                        id INTEGER PRIMARY KEY,
                        automation_id INTEGER NOT NULL REFERENCES automations (id),
                        version INTEGER NOT NULL,
                        contact_id INTEGER NOT NULL,
                        contact_email TEXT NOT NULL,
                        trigger_activity_id INTEGER NOT NULL,
                        status TEXT NOT NULL
                            CHECK (status IN ('running', 'waiting', 'completed', 'exited', 'cancelled', 'failed')),
                        current_node_id TEXT,
                        wake_up_at INTEGER,
                        dry_run INTEGER NOT NULL DEFAULT 0,
                        locked_until INTEGER,
                        last_error TEXT,
                        created_at INTEGER NOT NULL,
                        updated_at INTEGER NOT NULL,
                        finished_at INTEGER,
                        UNIQUE (automation_id, trigger_activity_id)
                    );
                    CREATE INDEX automation_executions_by_version ON automation_executions (automation_id, version);
                    CREATE INDEX automation_executions_by_contact ON automation_executions (automation_id, contact_id, created_at);
                    CREATE INDEX automation_executions_due ON automation_executions (wake_up_at, id)
                        WHERE status IN ('running', 'waiting');
                    CREATE TABLE automation_watch (
                        name TEXT PRIMARY KEY,
                        last_activity_id INTEGER NOT NULL
                    );
                    CREATE TABLE automation_logs (
                        id INTEGER PRIMARY KEY,
                        execution_id INTEGER NOT NULL REFERENCES automation_executions (id),
                        at INTEGER NOT NULL,
                        node_id TEXT,
                        action TEXT NOT NULL,
                        outcome TEXT NOT NULL CHECK (outcome IN ('ok', 'waiting', 'skipped', 'failed')),
                        message TEXT NOT NULL,
                        detail TEXT
                    );
                    CREATE INDEX automation_logs_by_execution ON automation_logs (execution_id, id);
                    """)
        }
        migrator.registerMigration("v9_drop_jobs") { db in
            // The generic job queue never had a consumer: each kind of work is a table of its
            // own (the send ledger, the executions), claimed under a lease.
            try db.execute(sql: "DROP TABLE cortex_jobs")
        }
        migrator.registerMigration("v10_campaigns") { db in
            // A campaign keeps its definition as the API wrote it (the design verbatim); its
            // ledger rows point at it and at the contact, unique per (campaign, contact), and are
            // rendered at send time from the campaign, so the HTML is stored once.
            try db.execute(
                sql: """
                    CREATE TABLE campaigns (
                        id INTEGER PRIMARY KEY,
                        definition TEXT NOT NULL,
                        status TEXT NOT NULL CHECK (status IN ('draft', 'scheduled', 'sending', 'sent', 'cancelled')),
                        scheduled_at INTEGER,
                        created_at INTEGER NOT NULL,
                        updated_at INTEGER NOT NULL
                    );
                    CREATE INDEX campaigns_due ON campaigns (scheduled_at) WHERE status IN ('scheduled', 'sending');
                    ALTER TABLE email_jobs ADD COLUMN campaign_id INTEGER REFERENCES campaigns (id);
                    ALTER TABLE email_jobs ADD COLUMN contact_id INTEGER;
                    CREATE UNIQUE INDEX email_jobs_by_campaign ON email_jobs (campaign_id, contact_id) WHERE campaign_id IS NOT NULL;
                    """)
        }
        migrator.registerMigration("v11_secrets") { db in
            // Keys Cortex makes for itself on first use (the unsubscribe links' HMAC key), kept
            // with the data they protect so every instance signs and checks alike.
            try db.execute(sql: "CREATE TABLE cortex_secrets (name TEXT PRIMARY KEY, value TEXT NOT NULL)")
        }
        migrator.registerMigration("v12_waiting_by_contact") { db in
            // The watcher looks up, every pass, the waiting executions of the contacts whose
            // activities it read: without this it scanned every running and waiting execution.
            try db.execute(
                sql: "CREATE INDEX automation_executions_waiting ON automation_executions (contact_email) WHERE status = 'waiting'")
        }
        migrator.registerMigration("v13_chunked_fan_out") { db in
            // A campaign is fanned out chunk by chunk of contact ids: where the next chunk starts.
            try db.execute(sql: "ALTER TABLE campaigns ADD COLUMN fanout_after INTEGER")
        }
        migrator.registerMigration("v15_console_sessions") { db in
            // Signed-in console sessions, by the hash of their cookie's token (ENGINE.md §6).
            try db.execute(
                sql: """
                    CREATE TABLE console_sessions (
                        token_hash TEXT PRIMARY KEY, key_hash TEXT NOT NULL, csrf_token TEXT NOT NULL,
                        created_at INTEGER NOT NULL, expires_at INTEGER NOT NULL
                    );
                    CREATE INDEX console_sessions_by_expiry ON console_sessions (expires_at);
                    """)
        }
        migrator.registerMigration("v16_api_key_revocation") { db in
            // A key is revoked, not deleted, so the list still says which keys existed and when
            // each stopped working. The hint (the key's last 4 characters) tells keys apart; keys
            // made before it was kept have none.
            try db.execute(
                sql: """
                    ALTER TABLE api_keys ADD COLUMN revoked_at INTEGER;
                    ALTER TABLE api_keys ADD COLUMN hint TEXT;
                    """)
        }
        return migrator
    }
}
