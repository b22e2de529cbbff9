import Engine

/// What the benchmark needs of a store beyond the directory: the raw-SQL hook tests use for
/// seeding, the query plan of a statement, and which SQL dialect it speaks.
protocol BenchStore: Store {
    var dialect: SQLDialect { get }
    func execute(rawSQL: String) async throws
    func queryPlan(of statement: DirectoryStatement) async throws -> [String]
}

extension SQLiteStore: BenchStore {
    var dialect: SQLDialect { .sqlite }
}

extension PostgresStore: BenchStore {
    var dialect: SQLDialect { .postgres }
}
