/// Tests of a value inside a JSON column (contact attributes, activity metadata): each
/// store's JSON functions, with the same meaning on both.
extension FilterCompiler {
    /// A path into a JSON column.
    struct JSONColumn {
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

    mutating func json(_ column: JSONColumn, _ comparison: Comparison) -> String {
        let string = dialect == .sqlite ? "'text'" : "'string'"
        switch comparison {
        case .eq(.string(let text)):
            switch dialect {
            case .sqlite:
                // `json_extract` gives a JSON string as its text, a number or boolean as an SQL
                // number (never equal to text) and null as NULL; only an object or array comes
                // back as text, its JSON, which starts with `{` or `[`. So only a value starting
                // so needs the type test, and every other value parses each row's JSON once.
                let equal = "\(jsonScalar(column)) = \(bind(.text(text)))"
                guard text.hasPrefix("{") || text.hasPrefix("[") else { return "(\(equal))" }
                return "(\(equal) AND \(jsonType(column)) = \(string))"
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
}
