import PostgresNIO

extension PostgresStore {
    /// PostgreSQL's `EXPLAIN (ANALYZE, BUFFERS)` of `sql` with `bindings` as `$1`...: the plan the
    /// server chose for these values and what running it cost. For benchmarks and diagnostics;
    /// it runs the statement, so never give it one that writes.
    package func queryPlan(of sql: String, bindings: [SQLBinding]) async throws -> [String] {
        var binds = PostgresBindings()
        for binding in bindings {
            switch binding {
            case .text(let text): binds.append(text)
            case .integer(let value): binds.append(value)
            case .real(let value): binds.append(value)
            }
        }
        let query = PostgresQuery(unsafeSQL: "EXPLAIN (ANALYZE, BUFFERS) " + sql, binds: binds)
        return try await mapped { [self] in
            try await client.query(query, logger: logger).decode(String.self).collectAll()
        }
    }
}
