import Configuration
import Foundation
import Testing

@testable import Gateway

@Suite struct ConfigurationTests {
    private func configuration(_ environment: [String: String], file: String? = nil) async throws -> CortexConfiguration {
        try CortexConfiguration(reader: try await CortexConfiguration.reader(environment: environment, file: file))
    }

    @Test func withNothingSetItServesLocallyOnSQLiteWithDryRun() async throws {
        let config = try await configuration([:])
        #expect(config.host == "127.0.0.1")
        #expect(config.port == 8080)
        #expect(config.database == .sqlite(path: "cortex.sqlite"))
        #expect(config.apiKeys.isEmpty)
        #expect(config.checkoutSecret == nil)
        #expect(config.mailProvider == .dryRun)
    }

    @Test func readsTheDocumentedEnvironmentVariables() async throws {
        let config = try await configuration([
            "CORTEX_HTTP_HOST": "0.0.0.0", "CORTEX_HTTP_PORT": "9090", "CORTEX_DATABASE_URL": "sqlite:///var/lib/cortex.db",
            "CORTEX_API_KEYS": "k1, k2,,", "CORTEX_CHECKOUT_SECRET": TestApp.secret, "CORTEX_MAIL_PROVIDER": "dry-run",
            "POSTMARK_FROM_EMAIL": "shop@example.com",
        ])
        #expect(config.host == "0.0.0.0")
        #expect(config.port == 9090)
        #expect(config.database == .sqlite(path: "/var/lib/cortex.db"))
        #expect(config.apiKeys == ["k1", "k2"])
        #expect(config.checkoutSecret == TestApp.secret)
        #expect(config.mailFrom == "shop@example.com")
    }

    @Test func readsTheSameKeysFromAFileAndTheEnvironmentWins() async throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("cortex-\(UUID().uuidString).env")
        try "CORTEX_HTTP_PORT=7000\nCORTEX_API_KEYS=from-file\nCORTEX_MAIL_FROM=file@example.com\n"
            .write(to: file, atomically: true, encoding: .utf8)
        let config = try await configuration(["CORTEX_HTTP_PORT": "7001"], file: file.path)
        #expect(config.port == 7001)
        #expect(config.apiKeys == ["from-file"])
        #expect(config.mailFrom == "file@example.com")
    }

    @Test(arguments: [
        ["CORTEX_HTTP_PORT": "eighty"], ["CORTEX_HTTP_PORT": "70000"], ["CORTEX_DATABASE_URL": "mysql://x"],
        ["CORTEX_DATABASE_URL": "sqlite:"], ["CORTEX_DATABASE_URL": "postgres://u:p@localhost/db"],
        ["CORTEX_CHECKOUT_SECRET": "whsec_***"], ["CORTEX_MAIL_PROVIDER": "carrier-pigeon"],
        ["CORTEX_MAIL_PROVIDER": "postmark"], ["CORTEX_LOG_LEVEL": "loud"],
    ])
    func refusesUnusableSettingsWithAMessageNamingThem(environment: [String: String]) async throws {
        await #expect {
            _ = try await configuration(environment)
        } throws: { error in
            guard let error = error as? ConfigurationError else { return false }
            return error.message.contains(environment.keys.first!)
        }
    }

    @Test func aMissingConfigFileIsAClearError() async {
        await #expect(throws: ConfigurationError.self) {
            _ = try await CortexConfiguration.reader(environment: [:], file: "/no/such/cortex.env")
        }
    }

    @Test func errorMessagesNeverEchoSecrets() async throws {
        do {
            _ = try await configuration(["CORTEX_DATABASE_URL": "mysql://admin:hunter2@db/x"])
            Issue.record("expected an error")
        } catch let error as ConfigurationError {
            #expect(!error.message.contains("hunter2"))
        }
    }
}
