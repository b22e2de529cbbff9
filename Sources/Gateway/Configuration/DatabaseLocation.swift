/// Where the data lives, parsed from `CORTEX_DATABASE_URL`.
enum DatabaseLocation: Equatable, CustomStringConvertible {
    /// `sqlite:PATH`; a relative path is relative to the working directory.
    case sqlite(path: String)

    static let `default` = DatabaseLocation.sqlite(path: "cortex.sqlite")

    init(url: String) throws(ConfigurationError) {
        let trimmed = url.trimmingCharacters(in: .whitespaces)
        if trimmed.hasPrefix("sqlite:") {
            var path = String(trimmed.dropFirst("sqlite:".count))
            // `sqlite://relative` and `sqlite:///absolute` are common spellings of the same thing.
            if path.hasPrefix("//") { path.removeFirst(2) }
            guard !path.isEmpty else {
                throw ConfigurationError("CORTEX_DATABASE_URL \"\(trimmed)\" names no file; use sqlite:PATH")
            }
            self = .sqlite(path: path)
        } else if trimmed.hasPrefix("postgres://") || trimmed.hasPrefix("postgresql://") {
            throw ConfigurationError(
                "CORTEX_DATABASE_URL names PostgreSQL, which this version of Cortex does not support yet; "
                    + "use sqlite:PATH")
        } else {
            throw ConfigurationError(
                "CORTEX_DATABASE_URL must start with sqlite: or postgres:// (got a value starting with "
                    + "\"\(trimmed.prefix(12))\")")
        }
    }

    var description: String {
        switch self {
        case .sqlite(let path): "sqlite:\(path)"
        }
    }
}
