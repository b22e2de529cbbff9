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
/// a single row, so they are correlated probes of that contact's rows only. A query that stops
/// after a few matches (a page of members, see ``MemberPageWalk``) uses `.oneContact` too: it
/// then pays per contact it reads instead of for whole sets up front.
///
/// Case-insensitive tests (`contains`, `starts_with`, `ends_with`, email and tag equality)
/// fold ASCII letters only, on both stores alike (SQLite's `lower()` and PostgreSQL's under
/// the "C" collation do exactly that), so the two stores always agree.
public struct FilterCompiler {
    public enum Shape: Sendable { case set, oneContact }

    /// The most filters a compilation may expand, list references included; a list that
    /// references another list twice over several levels must not multiply without bound.
    public static let maximumExpandedNodes = 2000

    let dialect: SQLDialect
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

    /// One activity's test (`type`, `where`, time window) as a predicate over `crm_activities a`:
    /// how an automation's trigger, wait or exit rule decides whether an activity is its event,
    /// with exactly the filter language's semantics.
    public static func compileActivityTest(_ condition: ActivityCondition, dialect: SQLDialect, now: Timestamp) -> CompiledFilter {
        var compiler = FilterCompiler(dialect: dialect, shape: .oneContact, now: now, lists: [:])
        var clauses: [String] = []
        if let type = condition.type { clauses.append("a.type = \(compiler.bind(.text(type)))") }
        clauses += compiler.activityClauses(condition)
        return CompiledFilter(sql: clauses.isEmpty ? "(1 = 1)" : "(" + clauses.joined(separator: " AND ") + ")", bindings: compiler.bindings)
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
            var remaining = items
            var parts = shape == .set && dialect == .sqlite ? onePassActivitySets(&remaining) : []
            for item in remaining { parts.append(try predicate(item)) }
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
            case .oneContact: return "(\(probe("contact_tags t WHERE t.contact_id = c.id AND t.tag_key = \(key)")))"
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

    func leaf(_ sql: String) -> String { "((\(sql)) IS TRUE)" }

    /// Whether a row exists in `rows` (a `FROM` list and its `WHERE`), tested per contact.
    /// PostgreSQL turns `EXISTS` into a join it plans over every contact, misjudging JSON
    /// conditions on the way; a scalar subquery stays a probe of one contact's index entries,
    /// which is what `.oneContact` means. SQLite runs `EXISTS` as a probe already.
    private func probe(_ rows: String) -> String {
        switch dialect {
        case .sqlite: return "EXISTS (SELECT 1 FROM \(rows))"
        case .postgres: return "(SELECT 1 FROM \(rows) LIMIT 1) IS NOT NULL"
        }
    }

    mutating func bind(_ value: SQLBinding) -> String {
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
                : probe("crm_activities a WHERE a.contact_id = c.id AND a.type IN (\(types))")
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
    mutating func like(_ textExpression: String, _ pattern: String) -> String {
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
        // "At least zero" holds for every contact: as a set it is no test at all, and its type and
        // clauses must not be bound, since a store refuses values its SQL text does not use.
        if shape == .set, case .gte(let n)? = condition.count, n <= 0 { return "(1 = 1)" }
        var clauses: [String] = []
        if let type = condition.type { clauses.append("a.type = \(bind(.text(type)))") }
        clauses += activityClauses(condition)
        return activity(condition, clauses)
    }

    /// The tests of an activity other than its type: metadata and time.
    private mutating func activityClauses(_ condition: ActivityCondition) -> [String] {
        var clauses: [String] = []
        for metadata in condition.conditions {
            clauses.append(leaf(json(JSONColumn(base: "a.metadata", path: metadata.path), metadata.comparison)))
        }
        if let days = condition.withinDays {
            clauses.append("a.occurred_at >= \(bindTime(now.adding(seconds: -Int64(days) * 86_400)))")
        }
        if let since = condition.since { clauses.append("a.occurred_at >= \(bindTime(since))") }
        if let until = condition.until { clauses.append("a.occurred_at < \(bindTime(until))") }
        return clauses
    }

    private mutating func activity(_ condition: ActivityCondition, _ clauses: [String]) -> String {
        switch shape {
        case .oneContact:
            // The contact's own activities of the type, found through the (contact_id, type,
            // occurred_at) index without reading the others.
            let matching = (["a.contact_id = c.id"] + clauses).joined(separator: " AND ")
            guard let count = condition.count else { return "(\(probe("crm_activities a WHERE \(matching)")))" }
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
                if n <= 1 { return "(c.id IN (\(contacts)))" }  // n <= 0 was answered first.
                return "(c.id IN (\(grouped) >= \(bind(.integer(Int64(n))))))"
            case .lte(let n)?: return "(NOT (c.id IN (\(grouped) > \(bind(.integer(Int64(n)))))))"
            case .eq(let n)?:
                if n == 0 { return "(NOT (c.id IN (\(contacts))))" }
                return "(c.id IN (\(grouped) = \(bind(.integer(Int64(n))))))"
            }
        }
    }

    /// Activity tests of one type joined by `all`, as one set read in one pass, taken out of
    /// `items` (SQLite only): "bought P2P but not Canva" reads the checkout activities once,
    /// not once per test; SQLite's count is bound by reading them (570 → 400 ms at 300,000
    /// checkouts). A type needs a test that it occurred (without a count) among its tests,
    /// since the set holds only contacts with an activity of the type; `not` tests join it,
    /// each as "none of the contact's activities of the type passes". Tests with counts stay
    /// their own sets. PostgreSQL is slower so (its hash aggregate over every checkout costs
    /// more than a second parallel scan), and keeps one set per test.
    private mutating func onePassActivitySets(_ items: inout [Filter]) -> [String] {
        func merged(_ item: Filter) -> (type: String, condition: ActivityCondition, negated: Bool)? {
            switch item {
            case .activity(let condition) where condition.count == nil:
                return condition.type.map { ($0, condition, false) }
            case .not(.activity(let condition)) where condition.count == nil:
                return condition.type.map { ($0, condition, true) }
            default:
                return nil
            }
        }
        var tests: [String: [(condition: ActivityCondition, negated: Bool)]] = [:]
        var types: [String] = []
        for item in items {
            guard let test = merged(item) else { continue }
            if tests[test.type] == nil { types.append(test.type) }
            tests[test.type, default: []].append((test.condition, test.negated))
        }
        let onePass = Set(types.filter { type in
            let group = tests[type] ?? []
            return group.count > 1 && group.contains { !$0.negated }
        })
        guard !onePass.isEmpty else { return [] }
        items.removeAll { item in merged(item).map { onePass.contains($0.type) } ?? false }

        var sets: [String] = []
        for type in types where onePass.contains(type) {
            let typeTest = "a.type = \(bind(.text(type)))"
            var having: [String] = []
            for test in tests[type] ?? [] {
                expanded += test.negated ? 2 : 1
                let clauses = activityClauses(test.condition)
                if clauses.isEmpty {
                    if test.negated { having.append("1 = 0") }  // Has the type, and has none of it.
                    continue
                }
                let passes = "max(CASE WHEN \(clauses.joined(separator: " AND ")) THEN 1 ELSE 0 END)"
                having.append("\(passes) = \(test.negated ? 0 : 1)")
            }
            let groups = having.isEmpty ? "" : " GROUP BY a.contact_id HAVING " + having.joined(separator: " AND ")
            // By type, in time order, which is nearly the table's order: given the choice,
            // SQLite walks the (contact_id, type) index to skip the sort, then reads the table
            // in contact order, all over the file (980 ms against 400).
            sets.append(
                "(c.id IN (SELECT a.contact_id FROM crm_activities a INDEXED BY crm_activities_by_type WHERE \(typeTest)\(groups)))")
        }
        return sets
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
