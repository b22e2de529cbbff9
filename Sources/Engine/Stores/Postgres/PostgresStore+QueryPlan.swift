import PostgresNIO

extension PostgresStore {
    /// PostgreSQL's `EXPLAIN (ANALYZE, BUFFERS)` of a statement, with its values bound: the plan
    /// the server chose for these values and what running it cost. For benchmarks and
    /// diagnostics; it runs the statement, so never give it one that writes.
    package func queryPlan(of statement: DirectoryStatement) async throws -> [String] {
        let query = DirectoryStatement(sql: "EXPLAIN (ANALYZE, BUFFERS) " + statement.sql, bindings: statement.bindings).query
        return try await mapped { [self] in
            try await client.query(query, logger: logger).decode(String.self).collectAll()
        }
    }
}
