import GRDB

extension SQLiteStore {
    /// SQLite's `EXPLAIN QUERY PLAN` of a statement with its values, one line per step, indented under
    /// its parent step. For benchmarks and diagnostics: the planner's choice depends on the
    /// values bound, so a plan is only meaningful with the bindings the real query uses.
    package func queryPlan(of statement: DirectoryStatement) async throws -> [String] {
        try await read { db in
            let rows = try Row.fetchAll(
                db, sql: "EXPLAIN QUERY PLAN " + statement.sql, arguments: statement.arguments)
            var depth: [Int64: Int] = [0: -1]
            return rows.map { row in
                let id: Int64 = row["id"]
                let parent: Int64 = row["parent"]
                let level = (depth[parent] ?? -1) + 1
                depth[id] = level
                return String(repeating: "  ", count: level) + (row["detail"] as String)
            }
        }
    }
}
