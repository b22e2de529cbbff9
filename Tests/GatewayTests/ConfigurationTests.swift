import Configuration
import Engine
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
        ["CORTEX_DATABASE_URL": "sqlite:"], ["CORTEX_DATABASE_URL": "postgres://localhost/db"],
        ["CORTEX_DATABASE_URL": "postgres://u@localhost/db?sslmode=sometimes"],
        ["CORTEX_DATABASE_URL": "postgres://u@localhost/db?timeout=3"], ["CORTEX_DATABASE_POOL_SIZE": "0"],
        ["CORTEX_CHECKOUT_SECRET": "whsec_***"], ["CORTEX_MAIL_PROVIDER": "carrier-pigeon"],
        ["CORTEX_MAIL_PROVIDER": "postmark"], ["CORTEX_MAIL_PROVIDER": "smtp"], ["CORTEX_LOG_LEVEL": "loud"],
        ["CORTEX_POSTMARK_WEBHOOK_USER": "hook"], ["CORTEX_POSTMARK_WEBHOOK_PASSWORD": "a,b"],
        ["CORTEX_MAIL_FROM": "not an address"],
        ["CORTEX_ARCHIVE_RETENTION_DAYS": "-1"], ["CORTEX_ARCHIVE_RETENTION_DAYS": "thirty"],
        ["CORTEX_ARCHIVE_RETENTION_DAYS": "1.5"], ["CORTEX_ARCHIVE_RETENTION_DAYS": "36501"],
        ["CORTEX_PUBLIC_URL": "crm.example.com"], ["CORTEX_PUBLIC_URL": "ftp://crm.example.com"],
        ["CORTEX_SEND_LEASE_SECONDS": "0"], ["CORTEX_SEND_LEASE_SECONDS": "2.5"], ["CORTEX_SEND_LEASE_SECONDS": "86401"],
        ["CORTEX_EXECUTION_LEASE_SECONDS": "-3"], ["CORTEX_EXECUTION_LEASE_SECONDS": "a minute"],
    ])
    func refusesUnusableSettingsWithAMessageNamingThem(environment: [String: String]) async throws {
        await #expect {
            _ = try await configuration(environment)
        } throws: { error in
            guard let error = error as? ConfigurationError else { return false }
            return error.message.contains(environment.keys.first!)
        }
    }

    @Test func archiveRetentionIsThirtyDaysUnlessSetAndZeroKeepsForever() async throws {
        #expect(try await configuration([:]).archiveRetentionDays == 30)
        #expect(try await configuration(["CORTEX_ARCHIVE_RETENTION_DAYS": "7"]).archiveRetentionDays == 7)
        #expect(try await configuration(["CORTEX_ARCHIVE_RETENTION_DAYS": "0"]).archiveRetentionDays == 0)
    }

    @Test func leasesAreTwoMinutesForMailAndOneForExecutionsUnlessSet() async throws {
        let defaults = try await configuration([:])
        #expect(defaults.sendLeaseSeconds == 120)
        #expect(defaults.executionLeaseSeconds == 60)
        let set = try await configuration(["CORTEX_SEND_LEASE_SECONDS": "5", "CORTEX_EXECUTION_LEASE_SECONDS": "3"])
        #expect(set.sendLeaseSeconds == 5)
        #expect(set.executionLeaseSeconds == 3)
    }

    @Test func readsSMTPSettingsWithTheRightSecurityPerScheme() async throws {
        let starttls = try await configuration([
            "CORTEX_MAIL_PROVIDER": "smtp", "CORTEX_SMTP_URL": "smtp://apikey:p%40ss%3Aword@mail.example.com",
            "CORTEX_MAIL_FROM": "Shop <shop@shop.example>",
        ])
        #expect(starttls.smtp?.security == .startTLS)
        #expect(starttls.smtp?.port == 587)
        #expect(starttls.smtp?.username == "apikey")
        #expect(starttls.smtp?.password == "p@ss:word")
        #expect(starttls.smtp?.heloName == "shop.example")
        #expect(starttls.smtp?.connectURL == "smtp://mail.example.com:587/shop.example")
        let tls = try await configuration(["CORTEX_MAIL_PROVIDER": "smtp", "CORTEX_SMTP_URL": "smtps://u:p@mail.example.com"])
        #expect(tls.smtp?.security == .implicitTLS)
        #expect(tls.smtp?.port == 465)
    }

    @Test(arguments: [
        ("ftp://u:p@mail.example.com", "CORTEX_SMTP_URL"), ("smtp://u@mail.example.com:587", "CORTEX_SMTP_URL"),
        ("smtp://:587", "CORTEX_SMTP_URL"), ("smtp://u:p@mail.example.com/path", "CORTEX_SMTP_URL"),
        ("smtp://u:p@mail.example.com CA:/nonexistent.pem", "CORTEX_SMTP_CA_FILE"),
    ])
    func refusesUnusableSMTPSettings(url: String, variable: String) async throws {
        var environment = ["CORTEX_MAIL_PROVIDER": "smtp", "CORTEX_SMTP_URL": url]
        if let range = url.range(of: " CA:") {
            environment["CORTEX_SMTP_URL"] = String(url[..<range.lowerBound])
            environment["CORTEX_SMTP_CA_FILE"] = String(url[range.upperBound...])
        }
        await #expect {
            _ = try await configuration(environment)
        } throws: { error in
            guard let error = error as? ConfigurationError else { return false }
            return error.message.contains(variable) && !error.message.contains(":p@")
        }
    }

    @Test func readsAPostgreSQLURLAndPoolSize() async throws {
        let config = try await configuration([
            "CORTEX_DATABASE_URL": "postgresql://cortex:p%40ss%3Aword@db.internal:6543/crm?sslmode=require",
            "CORTEX_DATABASE_POOL_SIZE": "25",
        ])
        guard case .postgres(let settings) = config.database else {
            Issue.record("expected PostgreSQL, got \(config.database)")
            return
        }
        #expect(settings.host == "db.internal")
        #expect(settings.port == 6543)
        #expect(settings.username == "cortex")
        #expect(settings.password == "p@ss:word")
        #expect(settings.database == "crm")
        #expect(settings.tlsMode == .require)
        #expect(settings.poolSize == 25)
        #expect(config.database.description == "postgres://cortex:***@db.internal:6543/crm")
    }

    @Test func aPostgreSQLURLDefaultsToPort5432AndPreferredTLS() async throws {
        let config = try await configuration(["CORTEX_DATABASE_URL": "postgres://me@localhost/db"])
        #expect(config.database == .postgres(PostgresSettings(host: "localhost", username: "me", database: "db")))
    }

    @Test func readsTheProviderCredentials() async throws {
        let config = try await configuration([
            "CORTEX_STRIPE_SECRET": "whsec_stripe", "CORTEX_THINKIFIC_SECRET": "api-key",
            "CORTEX_POSTMARK_WEBHOOK_USER": "hook", "CORTEX_POSTMARK_WEBHOOK_PASSWORD": "old, new",
        ])
        #expect(config.stripeSecret == "whsec_stripe")
        #expect(config.thinkificSecret == "api-key")
        let credentials = try #require(config.postmarkCredentials)
        for password in ["old", "new"] {
            let header = "Basic " + Data("hook:\(password)".utf8).base64EncodedString()
            #expect(throws: Never.self) { try credentials.verify(authorization: header) }
        }
        #expect(throws: WebhookAuthError.self) {
            try credentials.verify(authorization: "Basic " + Data("hook:old, new".utf8).base64EncodedString())
        }
    }

    @Test func postmarkNeedsItsTokenAndTakesALocalURL() async throws {
        let config = try await configuration([
            "CORTEX_MAIL_PROVIDER": "postmark", "POSTMARK_SERVER_TOKEN": "tok", "CORTEX_POSTMARK_API_URL": "http://127.0.0.1:9",
        ])
        #expect(config.mailProvider == .postmark)
        #expect(config.postmarkServerToken == "tok")
        #expect(config.postmarkAPIURL == "http://127.0.0.1:9")
    }

    @Test func campaignsTakeAPublicURLAndAPostmarkBroadcastStream() async throws {
        let config = try await configuration([
            "CORTEX_MAIL_PROVIDER": "postmark", "POSTMARK_SERVER_TOKEN": "tok", "CORTEX_POSTMARK_BROADCAST_STREAM": "newsletters",
            "CORTEX_PUBLIC_URL": "https://crm.example.com/",
        ])
        #expect(config.postmarkBroadcastStream == "newsletters")
        #expect(config.publicURL == "https://crm.example.com")
        #expect(try await configuration([:]).postmarkBroadcastStream == "broadcast")
        await #expect {
            _ = try await configuration([
                "CORTEX_MAIL_PROVIDER": "postmark", "POSTMARK_SERVER_TOKEN": "tok", "CORTEX_POSTMARK_BROADCAST_STREAM": "news letters",
            ])
        } throws: { ($0 as? ConfigurationError)?.message.contains("CORTEX_POSTMARK_BROADCAST_STREAM") == true }
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
        do {
            _ = try await configuration(["CORTEX_DATABASE_URL": "postgres://admin:hunter2@db/x?sslmode=bogus"])
            Issue.record("expected an error")
        } catch let error as ConfigurationError {
            #expect(!error.message.contains("hunter2"))
        }
    }
}
