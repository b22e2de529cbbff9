import Foundation
import Logging
import PostgresNIO

import Engine

/// Thrown when a PostgreSQL test runs without `CORTEX_TEST_DATABASE_URL`.
public struct MissingTestDatabase: Error {}

/// The databases the store conformance suite runs against. Every store behaviour is asserted
/// once, identically, for each backend.
///
/// PostgreSQL is included whenever `CORTEX_TEST_DATABASE_URL` is set (the test script always
/// sets it); then an unreachable server fails the tests instead of skipping them.
public enum StoreBackend: String, CaseIterable, CustomStringConvertible, Sendable {
    case sqlite
    case postgres

    public var description: String { rawValue }

    public static let adminURL = ProcessInfo.processInfo.environment["CORTEX_TEST_DATABASE_URL"].flatMap { $0.isEmpty ? nil : $0 }

    /// The backends to test on this run.
    public static var enabled: [StoreBackend] { adminURL == nil ? [.sqlite] : [.sqlite, .postgres] }

    /// Runs `body` with a fresh, migrated, empty store whose services are running.
    public func withStore<T: Sendable>(migrated: Bool = true, _ body: (any Store) async throws -> T) async throws -> T {
        switch self {
        case .sqlite:
            let store = try SQLiteStore(path: try Self.temporaryDirectory().appendingPathComponent("cortex.sqlite").path)
            if migrated { try await store.migrate() }
            return try await body(store)
        case .postgres:
            return try await Self.withFreshDatabase { settings in
                let store = PostgresStore(settings: settings, logger: Self.quietLogger)
                return try await store.withServicesRunning {
                    if migrated { try await store.migrate() }
                    return try await body(store)
                }
            }
        }
    }

    public static func temporaryDirectory() throws -> URL {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("cortex-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        return directory
    }

    public static var quietLogger: Logger {
        var logger = Logger(label: "cortex-tests")
        logger.logLevel = .critical
        return logger
    }

    /// At most this many tests hold a database of the shared server at once.
    static let serverPermits = AsyncSemaphore(4)

    /// Creates an empty database on the test server for `body`, and drops it afterwards.
    public static func withFreshDatabase<T: Sendable>(_ body: (PostgresSettings) async throws -> T) async throws -> T {
        guard let adminURL else { throw MissingTestDatabase() }
        let admin = try PostgresSettings(url: adminURL, poolSize: 1)
        return try await serverPermits.withPermit {
            let name = "cortex_t_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
            try await adminQuery(admin, "CREATE DATABASE \(name)")
            var settings = admin
            settings.database = name
            settings.poolSize = 10
            let outcome: Result<T, any Error>
            do {
                outcome = .success(try await body(settings))
            } catch {
                outcome = .failure(error)
            }
            try await adminQuery(admin, "DROP DATABASE IF EXISTS \(name) WITH (FORCE)")
            return try outcome.get()
        }
    }

    /// Runs one statement on a short-lived connection of its own.
    private static func adminQuery(_ settings: PostgresSettings, _ sql: String) async throws {
        var configuration = PostgresClient.Configuration(
            host: settings.host, port: settings.port, username: settings.username, password: settings.password,
            database: settings.database, tls: .disable)
        configuration.options.maximumConnections = 1
        let client = PostgresClient(configuration: configuration, backgroundLogger: quietLogger)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await client.run() }
            defer { group.cancelAll() }
            // Fail within seconds, not after the pool's minute of retries, when the server is down.
            try await withDeadline(.seconds(10)) { try await client.query(PostgresQuery(unsafeSQL: sql), logger: quietLogger) }
        }
    }
}

extension Timestamp {
    public static func at(_ text: String) -> Timestamp { RFC3339.parse(text)! }
}

extension EmailAddress {
    public static func of(_ text: String) -> EmailAddress { EmailAddress(text)! }
}

public func delivery(
    source: String = "checkout", id: String?, at time: Timestamp = .at("2026-11-26T12:00:00Z"), body: String = "{}"
) -> InboundDelivery {
    InboundDelivery(
        source: source, externalID: id, receivedAt: time, headers: [("webhook-id", id ?? "")], body: Array(body.utf8))
}

public func activity(
    _ type: String = "checkout.completed", email: String, at time: String = "2026-11-26T11:00:00Z",
    metadata: String = "{}", firstName: String? = nil, lastName: String? = nil
) -> NewActivity {
    NewActivity(
        type: type, contactEmail: .of(email), occurredAt: .at(time), metadata: metadata, firstName: firstName,
        lastName: lastName)
}

/// Parses stored JSON text, so assertions compare meaning, not the backend's spacing.
public func parsedJSON(_ text: String) -> JSON? {
    try? JSONParser.parse(Array(text.utf8))
}
