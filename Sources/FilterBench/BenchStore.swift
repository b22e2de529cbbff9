import Engine

/// What the benchmark needs of a store beyond the directory: the raw-SQL hook tests use for
/// seeding, the query plan of a statement, and which SQL dialect it speaks.
protocol BenchStore: Store {
    var dialect: SQLDialect { get }
    func execute(rawSQL: String) async throws
    func queryPlan(of sql: String, bindings: [SQLBinding]) async throws -> [String]
}

extension SQLiteStore: BenchStore {
    var dialect: SQLDialect { .sqlite }
}

extension PostgresStore: BenchStore {
    var dialect: SQLDialect { .postgres }
}

/// The statements the directory runs for each operation, rebuilt around the compiled filter
/// exactly as `SQLiteStore+Directory` and `PostgresStore+Directory` build them, so that the
/// plans printed are the plans of the statements measured. Keep in step with those files.
enum DirectoryStatement {
    static func count(_ compiled: CompiledFilter, _ dialect: SQLDialect) -> (String, [SQLBinding]) {
        ("SELECT count(*) FROM contacts c WHERE " + compiled.sql, compiled.bindings)
    }

    /// The shape each store compiles a members page with.
    static func pageShape(_ dialect: SQLDialect) -> FilterCompiler.Shape {
        dialect == .sqlite ? .oneContact : .set
    }

    static func firstPage(_ compiled: CompiledFilter, limit: Int, _ dialect: SQLDialect) -> (String, [SQLBinding]) {
        switch dialect {
        case .sqlite:
            return (
                "SELECT c.id, c.email FROM contacts c WHERE c.id > ? AND \(compiled.sql) ORDER BY c.id LIMIT ?",
                [.integer(0)] + compiled.bindings + [.integer(Int64(limit + 1))]
            )
        case .postgres:
            let next = compiled.bindings.count + 1
            return (
                "SELECT c.id, c.email FROM contacts c WHERE \(compiled.sql) AND c.id > $\(next) ORDER BY c.id LIMIT $\(next + 1)",
                compiled.bindings + [.integer(0), .integer(Int64(limit + 1))]
            )
        }
    }

    static func oneContact(_ compiled: CompiledFilter, email: String, _ dialect: SQLDialect) -> (String, [SQLBinding]) {
        switch dialect {
        case .sqlite:
            return ("SELECT 1 FROM contacts c WHERE c.email = ? AND \(compiled.sql)", [.text(email)] + compiled.bindings)
        case .postgres:
            return (
                "SELECT 1 FROM contacts c WHERE \(compiled.sql) AND c.email = $\(compiled.bindings.count + 1)",
                compiled.bindings + [.text(email)]
            )
        }
    }
}
