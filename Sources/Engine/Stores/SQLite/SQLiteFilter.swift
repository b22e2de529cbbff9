import GRDB

/// The WHERE clause of a listing, built from the filters actually given, so SQLite can plan
/// each with its index (`(? IS NULL OR column = ?)` would hide the index from its planner).
struct SQLiteFilter {
    private var conditions: [String] = []
    private(set) var arguments = StatementArguments()

    /// Adds `column = value` when `value` is given.
    mutating func equals(_ column: String, _ value: (any DatabaseValueConvertible)?) {
        guard let value else { return }
        conditions.append("\(column) = ?")
        _ = arguments.append(contentsOf: [value])
    }

    /// Adds `condition` with its `?` placeholders bound to `values`, in order.
    mutating func add(_ condition: String, _ values: [(any DatabaseValueConvertible)?]) {
        conditions.append(condition)
        _ = arguments.append(contentsOf: StatementArguments(values))
    }

    var clause: String {
        conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
    }

    /// The arguments followed by the row limit, for `... LIMIT ?`.
    func arguments(limit: Int) -> StatementArguments {
        var all = arguments
        _ = all.append(contentsOf: [limit])
        return all
    }
}
