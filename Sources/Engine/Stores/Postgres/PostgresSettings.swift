import Foundation

/// How to reach a PostgreSQL server, as given by `postgres://user:pass@host:port/db?sslmode=`.
public struct PostgresSettings: Sendable, Equatable {
    /// libpq's `sslmode` values.
    public enum TLSMode: String, Sendable, CaseIterable {
        case disable, allow, prefer, require
        case verifyCA = "verify-ca"
        case verifyFull = "verify-full"
    }

    public var host: String
    public var port: Int
    public var username: String
    public var password: String?
    public var database: String?
    public var tlsMode: TLSMode
    /// The most connections each instance opens (`CORTEX_DATABASE_POOL_SIZE`).
    public var poolSize: Int
    /// The longest one database call may take, waiting for a connection included, before it
    /// fails (and the HTTP request answers 503).
    public var operationTimeout: Duration = .seconds(5)

    public init(
        host: String, port: Int = 5432, username: String, password: String? = nil, database: String? = nil,
        tlsMode: TLSMode = .prefer, poolSize: Int = 10
    ) {
        self.host = host
        self.port = port
        self.username = username
        self.password = password
        self.database = database
        self.tlsMode = tlsMode
        self.poolSize = poolSize
    }

    /// Why a URL cannot be used; the message never repeats the URL, which may hold a password.
    public struct URLError: Error, Sendable {
        public let message: String
    }

    /// Parses `postgres://user:pass@host:port/db?sslmode=MODE` (or `postgresql://`).
    public init(url: String, poolSize: Int = 10) throws(URLError) {
        guard url.hasPrefix("postgres://") || url.hasPrefix("postgresql://"),
            let components = URLComponents(string: url), let host = components.host, !host.isEmpty
        else {
            throw URLError(message: "is not a valid postgres://user:pass@host:port/db URL")
        }
        guard let user = components.user, !user.isEmpty else {
            throw URLError(message: "names no user (postgres://user:pass@host:port/db)")
        }
        var mode = TLSMode.prefer
        for item in components.queryItems ?? [] {
            guard item.name == "sslmode" else {
                throw URLError(message: "has an unsupported parameter \"\(item.name)\"; only sslmode is")
            }
            guard let value = item.value, let parsed = TLSMode(rawValue: value) else {
                throw URLError(
                    message: "sslmode must be one of " + TLSMode.allCases.map(\.rawValue).joined(separator: ", "))
            }
            mode = parsed
        }
        let path = components.path.hasPrefix("/") ? String(components.path.dropFirst()) : components.path
        self.init(
            host: host.hasPrefix("[") ? String(host.dropFirst().dropLast()) : host,
            port: components.port ?? 5432,
            username: user.removingPercentEncoding ?? user,
            password: components.password.map { $0.removingPercentEncoding ?? $0 },
            database: path.isEmpty ? nil : path.removingPercentEncoding ?? path,
            tlsMode: mode,
            poolSize: poolSize)
    }

    /// The URL without its password, for logs.
    public var redactedURL: String {
        let credentials = password == nil ? username : "\(username):***"
        return "postgres://\(credentials)@\(host):\(port)/\(database ?? "")"
    }
}
