import Engine
import Foundation

/// Where the data lives, parsed from `CORTEX_DATABASE_URL` (and `CORTEX_DATABASE_POOL_SIZE`).
enum DatabaseLocation: Equatable, CustomStringConvertible {
    /// `sqlite:PATH`; a relative path is relative to the working directory.
    case sqlite(path: String)
    /// `postgres://user:pass@host:port/db?sslmode=...` (also `postgresql://`).
    case postgres(PostgresSettings)

    static let `default` = DatabaseLocation.sqlite(path: "cortex.sqlite")
    static let defaultPoolSize = 10

    init(url: String, poolSize: Int = DatabaseLocation.defaultPoolSize) throws(ConfigurationError) {
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
            self = .postgres(try Self.postgres(trimmed, poolSize: poolSize))
        } else {
            throw ConfigurationError(
                "CORTEX_DATABASE_URL must start with sqlite: or postgres:// (got a value starting with "
                    + "\"\(trimmed.prefix(12))\")")
        }
    }

    private static func postgres(_ url: String, poolSize: Int) throws(ConfigurationError) -> PostgresSettings {
        do {
            return try PostgresSettings(url: url, poolSize: poolSize)
        } catch {
            throw ConfigurationError("CORTEX_DATABASE_URL \(error.message)")
        }
    }

    /// For logs: never contains a password.
    var description: String {
        switch self {
        case .sqlite(let path): "sqlite:\(path)"
        case .postgres(let settings): settings.redactedURL
        }
    }
}
