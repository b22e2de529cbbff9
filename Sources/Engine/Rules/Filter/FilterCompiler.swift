/// The SQL a store runs a filter with: a boolean expression over the contact row `c`, with
/// bound parameters.
public struct CompiledFilter: Sendable, Equatable {
    /// A predicate over `contacts c`; never NULL, so `NOT` of it is the exact complement.
    public var sql: String
    /// The values of its placeholders, in order (`?` on SQLite, `$1`... on PostgreSQL).
    public var bindings: [SQLBinding]
}

/// A value bound to a placeholder; the store turns each into its driver's type.
public enum SQLBinding: Sendable, Equatable {
    case text(String)
    case integer(Int64)
    case real(Double)
}

/// Which database's SQL to write. The two differ in JSON functions and placeholders only;
/// the meaning of every filter is the same on both.
public enum SQLDialect: Sendable {
    case sqlite
    case postgres
}

/// Compiles a ``Filter`` to SQL (ENGINE.md §2), without I/O.
///
/// Every value is a bound parameter; only fixed SQL text comes from here, so nothing a caller
/// writes reaches the SQL text. Each leaf is wrapped as `(...) IS TRUE`, so a missing column
/// value or JSON key makes a comparison false rather than NULL, and `NOT` stays the exact
/// complement (SQL's three-valued logic must not leak through).
///
/// Two shapes of the same meaning: `.set` selects many contacts, so activity and tag tests
/// are uncorrelated `c.id IN (SELECT ...)` sets the database computes once; `.oneContact` tests
/// a single row, so they are correlated `EXISTS` probes of that contact's rows only. A query
/// that stops after a few matches (a page of members) may use `.oneContact` too: it then pays
/// per contact it reads instead of for whole sets up front.
///
/// Case-insensitive tests (`contains`, `starts_with`, `ends_with`, email and tag equality)
/// fold ASCII letters only, on both stores alike (SQLite's `lower()` and PostgreSQL's under
/// the "C" collation do exactly that), so the two stores always agree.
public struct FilterCompiler {
    public enum Shape: Sendable { case set, oneContact }

    /// The most filters a compilation may expand, list references included; a list that
    /// references another list twice over several levels must not multiply without bound.
    public static let maximumExpandedNodes = 2000

    private let dialect: SQLDialect
    private let shape: Shape
    private let now: Timestamp
    private let lists: [Int64: Filter]
    private var bindings: [SQLBinding] = []
    private var expanding: [Int64] = []
    private var expanded = 0

    /// - Parameters:
    ///   - lists: the filters of every smart list the filter references, directly or through
    ///     other lists (the store loads them; see ``Filter/referencedLists``).
    ///   - now: the moment `within_days` counts back from.
    public static func compile(
        _ filter: Filter, dialect: SQLDialect, shape: Shape = .set, now: Timestamp, lists: [Int64: Filter] = [:]
    ) throws(FilterError) -> CompiledFilter {
        var compiler = FilterCompiler(dialect: dialect, shape: shape, now: now, lists: lists)
        let sql = try compiler.predicate(filter)
        return CompiledFilter(sql: sql, bindings: compiler.bindings)
    }

    private init(dialect: SQLDialect, shape: Shape, now: Timestamp, lists: [Int64: Filter]) {
        self.dialect = dialect
        self.shape = shape
        self.now = now
        self.lists = lists
    }

    private mutating func predicate(_ filter: Filter) throws(FilterError) -> String {
        expanded += 1
        guard expanded <= Self.maximumExpandedNodes else {
            throw FilterError(path: "", message: "expands to more than \(Self.maximumExpandedNodes) filters through its lists")
        }
        switch filter {
        case .everyone:
            return "(1 = 1)"
        case .all(let items):
            var parts: [String] = []
            for item in items { parts.append(try predicate(item)) }
            return "(" + parts.joined(separator: " AND ") + ")"
        case .any(let items):
            var parts: [String] = []
            for item in items { parts.append(try predicate(item)) }
            return "(" + parts.joined(separator: " OR ") + ")"
        case .not(let inner):
            return "(NOT " + (try predicate(inner)) + ")"
        case .tag(let tag):
            let key = bind(.text(Self.foldASCII(tag)))
            switch shape {
            case .set: return "(c.id IN (SELECT t.contact_id FROM contact_tags t WHERE t.tag_key = \(key)))"
            case .oneContact: return "(EXISTS (SELECT 1 FROM contact_tags t WHERE t.contact_id = c.id AND t.tag_key = \(key)))"
            }
        case .list(let id):
            guard !expanding.contains(id) else {
                throw FilterError(path: "", message: "lists reference each other in a cycle (list \(id))")
            }
            guard let inner = lists[id] else { throw FilterError(path: "", message: "references list \(id), which does not exist") }
            expanding.append(id)
            defer { expanding.removeLast() }
            return try predicate(inner)
        case .field(let condition):
            return leaf(try field(condition))
        case .activity(let condition):
            return activity(condition)
        }
    }

    private func leaf(_ sql: String) -> String { "((\(sql)) IS TRUE)" }

    private mutating func bind(_ value: SQLBinding) -> String {
        bindings.append(value)
        switch dialect {
        case .sqlite: return "?"
        case .postgres: return "$\(bindings.count)"
        }
    }

    /// A time as this store keeps it: integer microseconds on SQLite, `timestamptz` on PostgreSQL.
    private mutating func bindTime(_ time: Timestamp) -> String {
        let placeholder = bind(.integer(time.microseconds))
        return dialect == .sqlite ? placeholder : "cortex_ts(\(placeholder)::bigint)"
    }

    // MARK: - Contact fields

    private mutating func field(_ condition: FieldCondition) throws(FilterError) -> String {
        switch condition.field {
        case .attribute(let path):
            return json(JSONColumn(base: "c.attributes", path: path), condition.comparison)
        case .suppressed:
            let suppressed = "EXISTS (SELECT 1 FROM suppressions s WHERE s.email = c.email)"
            return boolean(suppressed, condition.comparison)
        case .createdAt, .lastActivityAt:
            return time(expression(condition.field), condition.comparison)
        default:
            return text(expression(condition.field), condition.comparison, foldsCase: condition.field == .email)
        }
    }

    /// Activity types that make a contact a customer (ENGINE.md §1).
    public static let customerActivityTypes = ["checkout.completed", "order.completed"]

    /// The SQL value of a field. `lifecycle` and `last_activity_at` are read from the
    /// activities, so they are never stale: a set of customers computed once for `.set`, a
    /// probe of the contact's own activities for `.oneContact` (by the contact and type index;
    /// `last_activity_at` by the email index, which is ordered by time).
    private func expression(_ field: ContactField) -> String {
        switch field {
        case .email: return "c.email"
        case .firstName: return "c.first_name"
        case .lastName: return "c.last_name"
        case .externalID: return "c.external_id"
        case .timezone: return "c.timezone"
        case .consent: return "c.consent_status"
        case .createdAt: return "c.created_at"
        case .lifecycle:
            let types = DirectoryRules.customerTypesSQL
            let customer =
                shape == .set
                ? "c.id IN (SELECT a.contact_id FROM crm_activities a WHERE a.type IN (\(types)))"
                : "EXISTS (SELECT 1 FROM crm_activities a WHERE a.contact_id = c.id AND a.type IN (\(types)))"
            return "(CASE WHEN \(customer) THEN 'customer' ELSE 'lead' END)"
        case .lastActivityAt:
            return "(SELECT max(a.occurred_at) FROM crm_activities a WHERE a.contact_email = c.email)"
        case .suppressed, .attribute: return "NULL"
        }
    }

    private mutating func text(_ column: String, _ comparison: Comparison, foldsCase: Bool) -> String {
        let value = { (text: String) in foldsCase ? Self.foldASCII(text) : text }
        switch comparison {
        case .eq(.string(let text)): return "\(column) = \(bind(.text(value(text))))"
        case .neq(let operand): return "NOT " + leaf(self.text(column, .eq(operand), foldsCase: foldsCase))
        case .in(let values):
                var list: [String] = []
            for case .string(let text) in values { list.append(bind(.text(value(text)))) }
            return "\(column) IN (\(list.joined(separator: ", ")))"
        case .notIn(let values): return "NOT " + leaf(self.text(column, .in(values), foldsCase: foldsCase))
        case .contains(let text): return like(column, "%" + Self.likeEscaped(text) + "%")
        case .startsWith(let text): return like(column, Self.likeEscaped(text) + "%")
        case .endsWith(let text): return like(column, "%" + Self.likeEscaped(text))
        case .exists: return "\(column) IS NOT NULL"
        case .notExists: return "\(column) IS NULL"
        default: return "FALSE"  // The parser lets no other operator reach a text field.
        }
    }

    /// Case-insensitive (ASCII) pattern match; `\` escapes `%` and `_` in the caller's text.
    private mutating func like(_ textExpression: String, _ pattern: String) -> String {
        let folded = dialect == .sqlite ? "lower(\(textExpression))" : "lower(\(textExpression) COLLATE \"C\")"
        return "\(folded) LIKE \(bind(.text(Self.foldASCII(pattern)))) ESCAPE '\\'"
    }

    private mutating func time(_ column: String, _ comparison: Comparison) -> String {
        switch comparison {
        case .eq(.time(let time)): return "\(column) = \(bindTime(time))"
        case .neq(let operand): return "NOT " + leaf(self.time(column, .eq(operand)))
        case .in(let values):
            var parts: [String] = []
            for value in values { parts.append(leaf(self.time(column, .eq(value)))) }
            return "(" + parts.joined(separator: " OR ") + ")"
        case .notIn(let values): return "NOT " + leaf(self.time(column, .in(values)))
        case .gt(.time(let time)): return "\(column) > \(bindTime(time))"
        case .gte(.time(let time)): return "\(column) >= \(bindTime(time))"
        case .lt(.time(let time)): return "\(column) < \(bindTime(time))"
        case .lte(.time(let time)): return "\(column) <= \(bindTime(time))"
        case .exists: return "\(column) IS NOT NULL"
        case .notExists: return "\(column) IS NULL"
        default: return "FALSE"
        }
    }

    private mutating func boolean(_ expression: String, _ comparison: Comparison) -> String {
        switch comparison {
        case .eq(.bool(let flag)): return flag ? expression : "NOT \(expression)"
        case .neq(.bool(let flag)): return flag ? "NOT \(expression)" : expression
        case .in(let values):
            var parts: [String] = []
            for value in values { parts.append(boolean(expression, .eq(value))) }
            return "(" + parts.joined(separator: " OR ") + ")"
        case .notIn(let values): return "NOT " + leaf(boolean(expression, .in(values)))
        case .exists: return "TRUE"
        case .notExists: return "FALSE"
        default: return "FALSE"
        }
    }

    // MARK: - Activities

    private mutating func activity(_ condition: ActivityCondition) -> String {
        var clauses: [String] = []
        if let type = condition.type { clauses.append("a.type = \(bind(.text(type)))") }
        for metadata in condition.conditions {
            clauses.append(leaf(json(JSONColumn(base: "a.metadata", path: metadata.path), metadata.comparison)))
        }
        if let days = condition.withinDays {
            clauses.append("a.occurred_at >= \(bindTime(now.adding(seconds: -Int64(days) * 86_400)))")
        }
        if let since = condition.since { clauses.append("a.occurred_at >= \(bindTime(since))") }
        if let until = condition.until { clauses.append("a.occurred_at < \(bindTime(until))") }

        switch shape {
        case .oneContact:
            // The contact's own activities of the type, found through the (contact_id, type,
            // occurred_at) index without reading the others.
            let matching = (["a.contact_id = c.id"] + clauses).joined(separator: " AND ")
            guard let count = condition.count else { return "(EXISTS (SELECT 1 FROM crm_activities a WHERE \(matching)))" }
            let counted = "(SELECT count(*) FROM crm_activities a WHERE \(matching))"
            switch count {
            case .gte(let n): return "(\(counted) >= \(bind(.integer(Int64(n)))))"
            case .lte(let n): return "(\(counted) <= \(bind(.integer(Int64(n)))))"
            case .eq(let n): return "(\(counted) = \(bind(.integer(Int64(n)))))"
            }
        case .set:
            let matching = clauses.isEmpty ? "" : " WHERE " + clauses.joined(separator: " AND ")
            let contacts = "SELECT a.contact_id FROM crm_activities a\(matching)"
            let grouped = "\(contacts) GROUP BY a.contact_id HAVING count(*)"
            // Counts of zero are the contacts *not* in a set: the set holds only contacts with
            // at least one matching activity.
            switch condition.count {
            case nil: return "(c.id IN (\(contacts)))"
            case .gte(let n)?:
                if n <= 0 { return "(1 = 1)" }
                if n == 1 { return "(c.id IN (\(contacts)))" }
                return "(c.id IN (\(grouped) >= \(bind(.integer(Int64(n))))))"
            case .lte(let n)?: return "(NOT (c.id IN (\(grouped) > \(bind(.integer(Int64(n)))))))"
            case .eq(let n)?:
                if n == 0 { return "(NOT (c.id IN (\(contacts))))" }
                return "(c.id IN (\(grouped) = \(bind(.integer(Int64(n))))))"
            }
        }
    }

    // MARK: - JSON (attributes and metadata)

    /// A path into a JSON column.
    private struct JSONColumn {
        let base: String
        let path: [String]
    }

    /// The JSON type name at the path: SQLite's `json_type` and PostgreSQL's `jsonb_typeof`
    /// differ in names, so each test names the types of its own store.
    private mutating func jsonType(_ column: JSONColumn) -> String {
        switch dialect {
        case .sqlite: return "json_type(\(column.base), \(bind(.text(Self.sqlitePath(column.path)))))"
        case .postgres: return "jsonb_typeof(\(jsonValue(column)))"
        }
    }

    private mutating func jsonValue(_ column: JSONColumn) -> String {
        column.path.reduce(column.base) { expression, key in "\(expression) -> \(bind(.text(key)))::text" }
    }

    /// The value at the path as SQL text (strings unquoted), or as SQLite's typed value.
    private mutating func jsonScalar(_ column: JSONColumn) -> String {
        switch dialect {
        case .sqlite:
            return "json_extract(\(column.base), \(bind(.text(Self.sqlitePath(column.path)))))"
        case .postgres:
            let parent = column.path.dropLast().reduce(column.base) { expression, key in
                "\(expression) -> \(bind(.text(key)))::text"
            }
            return "(\(parent) ->> \(bind(.text(column.path.last ?? "")))::text)"
        }
    }

    private mutating func json(_ column: JSONColumn, _ comparison: Comparison) -> String {
        let string = dialect == .sqlite ? "'text'" : "'string'"
        switch comparison {
        case .eq(.string(let text)):
            switch dialect {
            case .sqlite:
                // The value test first: SQLite stops at the first false term, so most rows parse
                // their JSON once. The type test then keeps an object whose text happens to equal
                // the value from matching.
                return "(\(jsonScalar(column)) = \(bind(.text(text))) AND \(jsonType(column)) = \(string))"
            case .postgres:
                // One jsonb comparison: equal only to a JSON string with this text.
                return "(\(jsonValue(column)) = to_jsonb(\(bind(.text(text)))::text))"
            }
        case .eq(.number(let literal, let value)):
            return numeric(column, "=", literal: literal, value: value)
        case .eq(.bool(let flag)):
            switch dialect {
            case .sqlite: return "(\(jsonType(column)) = '\(flag)')"
            case .postgres: return "(\(jsonType(column)) = 'boolean' AND \(jsonScalar(column)) = '\(flag)')"
            }
        case .eq(.time):
            return "FALSE"
        case .neq(let operand): return "NOT " + leaf(json(column, .eq(operand)))
        case .in(let values):
            var parts: [String] = []
            for value in values { parts.append(leaf(json(column, .eq(value)))) }
            return "(" + parts.joined(separator: " OR ") + ")"
        case .notIn(let values): return "NOT " + leaf(json(column, .in(values)))
        case .contains(let text): return "(\(jsonType(column)) = \(string) AND \(like(jsonScalar(column), "%" + Self.likeEscaped(text) + "%")))"
        case .startsWith(let text): return "(\(jsonType(column)) = \(string) AND \(like(jsonScalar(column), Self.likeEscaped(text) + "%")))"
        case .endsWith(let text): return "(\(jsonType(column)) = \(string) AND \(like(jsonScalar(column), "%" + Self.likeEscaped(text))))"
        case .gt(.number(let literal, let value)): return numeric(column, ">", literal: literal, value: value)
        case .gte(.number(let literal, let value)): return numeric(column, ">=", literal: literal, value: value)
        case .lt(.number(let literal, let value)): return numeric(column, "<", literal: literal, value: value)
        case .lte(.number(let literal, let value)): return numeric(column, "<=", literal: literal, value: value)
        case .exists: return "(COALESCE(\(jsonType(column)), 'null') <> 'null')"
        case .notExists: return "(COALESCE(\(jsonType(column)), 'null') = 'null')"
        default: return "FALSE"
        }
    }

    /// A numeric comparison that is false, never an error, for a value of another type:
    /// PostgreSQL does not promise to test the type before the cast, so a `CASE` orders them.
    private mutating func numeric(_ column: JSONColumn, _ op: String, literal: String, value: Double) -> String {
        switch dialect {
        case .sqlite:
            // The comparison first (one JSON parse for most rows); SQLite orders any text above
            // every number, so the type test must still follow it.
            return "(\(jsonScalar(column)) \(op) \(bind(.real(value))) AND \(jsonType(column)) IN ('integer', 'real'))"
        case .postgres:
            return "(CASE WHEN \(jsonType(column)) = 'number' THEN \(jsonScalar(column))::numeric \(op) \(bind(.text(literal)))::numeric ELSE FALSE END)"
        }
    }

    // MARK: - Text helpers

    /// SQLite's JSON path for keys: `$."a"."b"` (the parser refuses keys holding `"` or `\`).
    static func sqlitePath(_ keys: [String]) -> String {
        "$" + keys.map { ".\"\($0)\"" }.joined()
    }

    /// Lower-cases ASCII letters only, as both stores' `lower()` does here.
    static func foldASCII(_ text: String) -> String {
        String(decoding: text.utf8.map { $0 >= 0x41 && $0 <= 0x5A ? $0 + 0x20 : $0 }, as: UTF8.self)
    }

    static func likeEscaped(_ text: String) -> String {
        var escaped = ""
        for character in text {
            if character == "%" || character == "_" || character == "\\" { escaped.append("\\") }
            escaped.append(character)
        }
        return escaped
    }
}

extension Filter {
    /// The smart lists this filter names directly (a store loads them, then theirs, for
    /// ``FilterCompiler/compile(_:dialect:shape:now:lists:)``).
    public var referencedLists: Set<Int64> {
        switch self {
        case .all(let items), .any(let items): items.reduce(into: Set()) { $0.formUnion($1.referencedLists) }
        case .not(let inner): inner.referencedLists
        case .list(let id): [id]
        case .everyone, .tag, .field, .activity: []
        }
    }
}
