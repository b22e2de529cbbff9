/// One statement the directory runs around a compiled filter, for either store: both stores
/// and the filter benchmark build their statements here, so the plans the benchmark prints
/// are the plans of the statements the stores run.
///
/// The filter's SQL always comes first and the statement's own values after it, so its
/// placeholders number on from the filter's on PostgreSQL and stay in order on SQLite.
public struct DirectoryStatement: Sendable, Equatable {
    public var sql: String
    public var bindings: [SQLBinding]

    /// The number of contacts the filter selects (compile with `.set`).
    public static func count(_ filter: CompiledFilter) -> DirectoryStatement {
        DirectoryStatement(sql: "SELECT count(*) FROM contacts c WHERE " + filter.sql, bindings: filter.bindings)
    }

    /// `(id, email)` of the contact `email` when the filter selects it (compile with `.oneContact`).
    public static func oneContact(_ filter: CompiledFilter, email: String, _ dialect: SQLDialect) -> DirectoryStatement {
        var statement = DirectoryStatement(sql: "SELECT c.id, c.email FROM contacts c WHERE " + filter.sql, bindings: filter.bindings)
        statement.sql += " AND c.email = " + statement.bind(.text(email), dialect)
        return statement
    }

    /// Up to `limit` rows `(id, email)` the filter selects with ids after `cursor` and, when
    /// given, up to `last`, in id order. With `.oneContact` it probes contact by contact and
    /// stops at the limit; with `.set` it computes each set whole first.
    public static func members(
        _ filter: CompiledFilter, after cursor: Int64, through last: Int64? = nil, limit: Int, _ dialect: SQLDialect
    ) -> DirectoryStatement {
        var statement = DirectoryStatement(sql: "SELECT c.id, c.email FROM contacts c WHERE " + filter.sql, bindings: filter.bindings)
        statement.sql += " AND c.id > " + statement.bind(.integer(cursor), dialect)
        if let last { statement.sql += " AND c.id <= " + statement.bind(.integer(last), dialect) }
        statement.sql += " ORDER BY c.id LIMIT " + statement.bind(.integer(Int64(limit)), dialect)
        return statement
    }

    /// `(id, email)` of the `count`-th contact after `cursor` in id order, if there is one:
    /// the end of a probing window (see ``MemberPageWalk``).
    public static func windowEnd(after cursor: Int64, count: Int, _ dialect: SQLDialect) -> DirectoryStatement {
        var statement = DirectoryStatement(sql: "SELECT c.id, c.email FROM contacts c WHERE c.id > ", bindings: [])
        statement.sql += statement.bind(.integer(cursor), dialect) + " ORDER BY c.id LIMIT 1 OFFSET "
        statement.sql += statement.bind(.integer(Int64(max(0, count - 1))), dialect)
        return statement
    }

    /// `1` when `email` has an activity that passes `test` (``FilterCompiler/compileActivityTest``),
    /// received at or after `since`, other than activity `excluding` (a wait's lookback, which
    /// leaves out the triggering activity).
    public static func activity(
        _ test: CompiledFilter, of email: String, receivedSince since: Timestamp, excluding: Int64, _ dialect: SQLDialect
    ) -> DirectoryStatement {
        var statement = DirectoryStatement(sql: "SELECT 1 FROM crm_activities a WHERE " + test.sql, bindings: test.bindings)
        statement.sql += " AND a.contact_email = " + statement.bind(.text(email), dialect)
        statement.sql += " AND a.received_at >= " + statement.bindTime(since, dialect)
        statement.sql += " AND a.id <> " + statement.bind(.integer(excluding), dialect) + " LIMIT 1"
        return statement
    }

    /// `1` when activity `id` passes `test`.
    public static func activity(_ test: CompiledFilter, id: Int64, _ dialect: SQLDialect) -> DirectoryStatement {
        var statement = DirectoryStatement(sql: "SELECT 1 FROM crm_activities a WHERE " + test.sql, bindings: test.bindings)
        statement.sql += " AND a.id = " + statement.bind(.integer(id), dialect)
        return statement
    }

    /// A time as each store keeps it: integer microseconds on SQLite, `timestamptz` on PostgreSQL.
    private mutating func bindTime(_ time: Timestamp, _ dialect: SQLDialect) -> String {
        let placeholder = bind(.integer(time.microseconds), dialect)
        return dialect == .sqlite ? placeholder : "cortex_ts(\(placeholder)::bigint)"
    }

    private mutating func bind(_ value: SQLBinding, _ dialect: SQLDialect) -> String {
        bindings.append(value)
        return dialect == .sqlite ? "?" : "$\(bindings.count)"
    }
}

/// How a page of members is found: by probing contacts one by one in id order over a bounded
/// window, then, only if the window did not fill the page, by sets for the rest.
///
/// Probing stops at the page's end, so a filter that matches one contact in fifty fills a page
/// of 100 after about 5,000 probes (a few milliseconds), where sets cost a pass over every
/// matching activity first (hundreds of milliseconds at a million activities). But a filter
/// that matches almost no one would probe the whole directory (a second at 100,000 contacts);
/// the window bounds that to ``probeWindow`` probes before the sets take over, so no page costs
/// much more than a count.
public enum MemberPageWalk {
    /// Contacts probed before falling back to sets: at most about 100 ms of probes (10 µs for
    /// a probe of two activity tests, the slowest measured), and enough for a filter that
    /// matches 1 % of contacts to fill a page of 100 by probes alone.
    public static let probeWindow = 10_000

    /// Runs the walk with `fetch` (rows `(id, email)` of a statement) and `compile` (the
    /// filter in a shape); `limit + 1` rows are fetched so the page knows another follows.
    /// `window` is ``probeWindow`` but for tests of the hand-over to sets.
    public static func page(
        after cursor: Int64?, limit: Int, dialect: SQLDialect, window: Int = probeWindow,
        compile: (FilterCompiler.Shape) async throws -> CompiledFilter,
        fetch: (DirectoryStatement) async throws -> [(Int64, String)]
    ) async throws -> DirectoryPage {
        let start = cursor ?? 0
        let wanted = limit + 1
        let windowEnd = try await fetch(.windowEnd(after: start, count: window, dialect)).first?.0
        var rows = try await fetch(.members(try await compile(.oneContact), after: start, through: windowEnd, limit: wanted, dialect))
        if rows.count < wanted, let windowEnd {
            rows += try await fetch(.members(try await compile(.set), after: windowEnd, limit: wanted - rows.count, dialect))
        }
        return DirectoryRules.page(rows, limit: limit)
    }
}
