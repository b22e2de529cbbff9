import CortexTestSupport
import Engine
import Foundation
import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import ServiceLifecycle

@testable import Gateway

/// `cortex serve` built from environment settings on a fresh SQLite file, on a free loopback
/// port, for tests that speak raw TCP to it.
enum LiveCortex {
    static let apiKey = "live-raw-key"

    /// Runs `body` with the port of a live server configured by `environment` (added to a port,
    /// a database and an API key).
    static func run(
        _ environment: [String: String], _ body: @escaping @Sendable (_ port: Int) async throws -> Void
    ) async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("cortex-raw-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        var settings = [
            "CORTEX_HTTP_PORT": "0", "CORTEX_DATABASE_URL": "sqlite:\(directory.path)/cortex.sqlite",
            "CORTEX_API_KEYS": apiKey, "CORTEX_LOG_LEVEL": "critical",
        ]
        settings.merge(environment) { _, new in new }
        let app = PortReporting(base: try await buildApplication(
            reader: try await CortexConfiguration.reader(environment: settings, file: nil)))
        // Run directly rather than with `app.test(.live)`, whose own client would open a
        // connection of its own at an unknown moment and skew connection counts.
        let services = ServiceGroup(configuration: .init(services: [app], logger: Logger(label: "live-cortex")))
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await services.run() }
            var ports = app.ports.makeAsyncIterator()
            guard let port = await ports.next() else { throw CancellationError() }
            do {
                try await body(port)
            } catch {
                await services.triggerGracefulShutdown()
                throw error
            }
            await services.triggerGracefulShutdown()
            try await group.waitForAll()
        }
    }

    /// An application that reports the port it listens on.
    struct PortReporting<Base: ApplicationProtocol>: ApplicationProtocol {
        let base: Base
        let ports: AsyncStream<Int>
        private let port: AsyncStream<Int>.Continuation

        init(base: Base) {
            self.base = base
            (ports, port) = AsyncStream<Int>.makeStream()
        }

        var responder: Base.Responder { get async throws { try await base.responder } }
        var server: HTTPServerBuilder { base.server }
        var eventLoopGroup: any EventLoopGroup { base.eventLoopGroup }
        var configuration: ApplicationConfiguration { base.configuration }
        var logger: Logger { base.logger }
        var services: [any Service] { base.services }
        var processesRunBeforeServerStart: [@Sendable () async throws -> Void] { base.processesRunBeforeServerStart }

        @Sendable func onServerRunning(_ channel: any Channel) async {
            await base.onServerRunning(channel)
            port.yield(channel.localAddress?.port ?? 0)
            port.finish()
        }
    }

    /// `error.code` of a JSON error body, `nil` if the body is not one.
    static func errorCode(_ response: RawHTTPConnection.Response) -> String? {
        (try? JSONParser.parse(response.body))?.objectValue?["error"]?.objectValue?["code"]?.stringValue
    }

    /// One request on a fresh connection, answered within a bound.
    static func get(_ path: String, port: Int) async throws -> RawHTTPConnection.Response {
        let connection = try await RawHTTPConnection.connect(port: port)
        defer { Task { await connection.close() } }
        try await connection.send("GET \(path) HTTP/1.1\r\nHost: test\r\n\r\n")
        return try await connection.response()
    }

    /// `/metrics` lines of `cortex_http_requests_total` with a 5xx status.
    static func serverErrorLines(port: Int) async throws -> [String] {
        let metrics = String(decoding: try await get("/metrics", port: port).body, as: UTF8.self)
        return metrics.split(separator: "\n").map(String.init)
            .filter { $0.hasPrefix("cortex_http_requests_total") && $0.contains("status=\"5") }
    }
}
