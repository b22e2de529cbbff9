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

    /// The URL without its password, for logs.
    public var redactedURL: String {
        let credentials = password == nil ? username : "\(username):***"
        return "postgres://\(credentials)@\(host):\(port)/\(database ?? "")"
    }
}
