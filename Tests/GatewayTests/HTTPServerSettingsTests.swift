import Configuration
import Foundation
import Testing

@testable import Gateway

/// `CORTEX_HTTP_HEADER_TIMEOUT`, `CORTEX_HTTP_IDLE_TIMEOUT` and `CORTEX_HTTP_MAX_CONNECTIONS`.
@Suite struct HTTPServerSettingsTests {
    private func configuration(_ environment: [String: String], file: String? = nil) async throws -> CortexConfiguration {
        try CortexConfiguration(reader: try await CortexConfiguration.reader(environment: environment, file: file))
    }

    @Test func defaultsAreThirtySecondsSeventyFiveSecondsAnd1024Connections() async throws {
        let config = try await configuration([:])
        #expect(config.httpHeaderTimeout == .seconds(30))
        #expect(config.httpIdleTimeout == .seconds(75))
        #expect(config.httpMaxConnections == 1024)
    }

    /// The probe's 2,000 connections at once overflowed Hummingbird's queue of 256: a /healthz
    /// arriving then waited a second for its SYN to be sent again.
    @Test func theListenQueueHoldsAsManyConnectionsAsAreServed() async throws {
        #expect(try await configuration([:]).httpListenBacklog == 1024)
        #expect(try await configuration(["CORTEX_HTTP_MAX_CONNECTIONS": "10"]).httpListenBacklog == 256)
        #expect(try await configuration(["CORTEX_HTTP_MAX_CONNECTIONS": "1000000"]).httpListenBacklog == 65_535)
        let app = try await TestApp.make { $0.httpMaxConnections = 5000 }
        #expect(buildApplication(app.dependencies).configuration.backlog == 5000)
    }

    @Test func readsThemFromTheEnvironmentAndFromAFile() async throws {
        let config = try await configuration([
            "CORTEX_HTTP_HEADER_TIMEOUT": "0.5", "CORTEX_HTTP_IDLE_TIMEOUT": "120", "CORTEX_HTTP_MAX_CONNECTIONS": "10",
        ])
        #expect(config.httpHeaderTimeout == .milliseconds(500))
        #expect(config.httpIdleTimeout == .seconds(120))
        #expect(config.httpMaxConnections == 10)

        let file = FileManager.default.temporaryDirectory.appendingPathComponent("cortex-\(UUID().uuidString).env")
        try "CORTEX_HTTP_HEADER_TIMEOUT=12\nCORTEX_HTTP_MAX_CONNECTIONS=64\n".write(to: file, atomically: true, encoding: .utf8)
        let fromFile = try await configuration(["CORTEX_HTTP_MAX_CONNECTIONS": "65"], file: file.path)
        #expect(fromFile.httpHeaderTimeout == .seconds(12))
        #expect(fromFile.httpMaxConnections == 65)
    }

    @Test(arguments: [
        ["CORTEX_HTTP_HEADER_TIMEOUT": "0"], ["CORTEX_HTTP_HEADER_TIMEOUT": "-1"], ["CORTEX_HTTP_HEADER_TIMEOUT": "soon"],
        ["CORTEX_HTTP_IDLE_TIMEOUT": "100000"], ["CORTEX_HTTP_IDLE_TIMEOUT": "nan"],
        ["CORTEX_HTTP_MAX_CONNECTIONS": "0"], ["CORTEX_HTTP_MAX_CONNECTIONS": "1.5"], ["CORTEX_HTTP_MAX_CONNECTIONS": "many"],
    ])
    func refusesUnusableValuesWithAMessageNamingThem(environment: [String: String]) async throws {
        await #expect {
            _ = try await configuration(environment)
        } throws: { error in
            guard let error = error as? ConfigurationError else { return false }
            return error.message.contains(environment.keys.first!)
        }
    }
}
