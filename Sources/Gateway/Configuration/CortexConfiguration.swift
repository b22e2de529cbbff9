import Adapters
import Configuration
import Engine
import Foundation
import Logging

/// Every setting of `cortex`, read once at start-up from the environment and an optional file.
///
/// Keys are read with swift-configuration's dotted names (`cortex.http.port`), which the
/// environment provider maps to the documented variables (`CORTEX_HTTP_PORT`).
struct CortexConfiguration: Sendable {
    var host: String = "127.0.0.1"
    var port: Int = 8080
    var database: DatabaseLocation = .default
    /// Bearer keys accepted on `/v1/*` in addition to those made with `cortex keys create`.
    var apiKeys: [String] = []
    /// The Standard Webhooks secret of `/webhooks/checkout` (`whsec_...`); unset answers 401.
    var checkoutSecret: String?
    /// The Stripe endpoint secret of `/webhooks/stripe`, used as is.
    var stripeSecret: String?
    /// Basic-auth credentials of `/webhooks/postmark`.
    var postmarkCredentials: BasicCredentials?
    /// The Thinkific API key that signs `/webhooks/thinkific`.
    var thinkificSecret: String?
    var mailProvider: MailProviderName = .dryRun
    var mailFrom: String?
    /// `POSTMARK_SERVER_TOKEN`, required when the provider is Postmark.
    var postmarkServerToken: String?
    /// `CORTEX_POSTMARK_API_URL`; tests point it at a local server.
    var postmarkAPIURL = "https://api.postmarkapp.com"
    /// `CORTEX_POSTMARK_BROADCAST_STREAM`: the Postmark message stream campaigns go on.
    var postmarkBroadcastStream = "broadcast"
    /// `CORTEX_SMTP_URL` and `CORTEX_SMTP_CA_FILE`, required when the provider is SMTP.
    var smtp: SMTPSettings?
    /// Messages per second across the provider (`CORTEX_SEND_RATE`); `nil` for the provider default.
    var sendRate: Double?
    /// `CORTEX_SEND_LEASE_SECONDS`: how long a claimed message is the sender's. After a crash its
    /// in-flight messages wait this long before another sender takes them over.
    var sendLeaseSeconds: Int64 = 120
    /// `CORTEX_EXECUTION_LEASE_SECONDS`: the same for the executions a walker claims.
    var executionLeaseSeconds: Int64 = 60
    /// Days the archive keeps raw bodies and headers (`CORTEX_ARCHIVE_RETENTION_DAYS`); 0 keeps
    /// them forever.
    var archiveRetentionDays = 30
    /// `CORTEX_WEBHOOK_ALLOW_PRIVATE=1`: webhook nodes may call loopback, link-local and private
    /// addresses (off by default: a graph must not reach into Cortex's own network).
    var webhookAllowPrivate = false
    /// `CORTEX_PUBLIC_URL`: where Cortex is reached from outside (`https://crm.example.com`), for
    /// the one-click unsubscribe links every broadcast carries; required to send a campaign.
    var publicURL: String?
    var logLevel: Logger.Level = .notice
    /// `CORTEX_HTTP_HEADER_TIMEOUT`: a request head must be complete this long after its first
    /// byte (and a fresh connection must send one), and a body may not stall longer.
    var httpHeaderTimeout: Duration = .seconds(30)
    /// `CORTEX_HTTP_IDLE_TIMEOUT`: a keep-alive connection with nothing in flight is closed after this.
    var httpIdleTimeout: Duration = .seconds(75)
    /// `CORTEX_HTTP_MAX_CONNECTIONS`: connections served at once; beyond it, 503 and close.
    var httpMaxConnections = 1024

    /// The listen queue: as long as the connections served at once (at least Hummingbird's 256;
    /// Linux caps it at `net.core.somaxconn`). With 256, a burst of connections (clients
    /// reconnecting after a deploy, or a flood) overflowed it and the kernel dropped SYNs, so a
    /// health check that arrived meanwhile waited a second for its retransmit.
    var httpListenBacklog: Int { min(max(httpMaxConnections, 256), 65_535) }

    init() {}

    init(reader: ConfigReader) throws(ConfigurationError) {
        if let host = Self.nonEmpty(reader.string(forKey: "cortex.http.host")) { self.host = host }
        if let port = Self.nonEmpty(reader.string(forKey: "cortex.http.port")) {
            guard let value = Int(port), (0...65_535).contains(value) else {
                throw ConfigurationError("CORTEX_HTTP_PORT must be a port number from 0 to 65535, got \"\(port)\"")
            }
            self.port = value
        }
        httpHeaderTimeout = try Self.seconds(reader, "cortex.http.header.timeout", "CORTEX_HTTP_HEADER_TIMEOUT") ?? httpHeaderTimeout
        httpIdleTimeout = try Self.seconds(reader, "cortex.http.idle.timeout", "CORTEX_HTTP_IDLE_TIMEOUT") ?? httpIdleTimeout
        if let count = Self.nonEmpty(reader.string(forKey: "cortex.http.max.connections")) {
            guard let value = Int(count), (1...1_000_000).contains(value) else {
                throw ConfigurationError(
                    "CORTEX_HTTP_MAX_CONNECTIONS must be an integer from 1 to 1000000, got \"\(count)\"")
            }
            httpMaxConnections = value
        }
        var poolSize = DatabaseLocation.defaultPoolSize
        if let size = Self.nonEmpty(reader.string(forKey: "cortex.database.pool.size")) {
            guard let value = Int(size), (1...1000).contains(value) else {
                throw ConfigurationError("CORTEX_DATABASE_POOL_SIZE must be an integer from 1 to 1000, got \"\(size)\"")
            }
            poolSize = value
        }
        if let url = Self.nonEmpty(reader.string(forKey: "cortex.database.url", isSecret: true)) {
            database = try DatabaseLocation(url: url, poolSize: poolSize)
        }
        if let keys = reader.string(forKey: "cortex.api.keys", isSecret: true) {
            apiKeys = keys.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        }
        if let secret = Self.nonEmpty(reader.string(forKey: "cortex.checkout.secret", isSecret: true)) {
            // Validate now, so a typo stops start-up instead of rejecting every webhook later.
            _ = try StandardWebhooksVerifier(secret: secret, variable: "CORTEX_CHECKOUT_SECRET")
            checkoutSecret = secret
        }
        stripeSecret = Self.nonEmpty(reader.string(forKey: "cortex.stripe.secret", isSecret: true))
        thinkificSecret = Self.nonEmpty(reader.string(forKey: "cortex.thinkific.secret", isSecret: true))
        let postmarkUser = Self.nonEmpty(reader.string(forKey: "cortex.postmark.webhook.user", isSecret: true))
        let postmarkPasswords = (reader.string(forKey: "cortex.postmark.webhook.password", isSecret: true) ?? "")
            .split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        switch (postmarkUser, postmarkPasswords.isEmpty) {
        case (nil, true): break
        case (let user?, false): postmarkCredentials = BasicCredentials(user: user, passwords: postmarkPasswords)
        default:
            throw ConfigurationError(
                "CORTEX_POSTMARK_WEBHOOK_USER and CORTEX_POSTMARK_WEBHOOK_PASSWORD must be set together")
        }
        mailFrom = Self.nonEmpty(reader.string(forKey: "cortex.mail.from"))
            ?? Self.nonEmpty(reader.string(forKey: "postmark.from.email"))
        if let mailFrom, Mailbox(mailFrom) == nil {
            throw ConfigurationError("CORTEX_MAIL_FROM must be an address or \"Name <address>\", got \"\(mailFrom)\"")
        }
        if let provider = Self.nonEmpty(reader.string(forKey: "cortex.mail.provider")) {
            guard let name = MailProviderName(rawValue: provider.lowercased()) else {
                throw ConfigurationError(
                    "CORTEX_MAIL_PROVIDER must be one of dry-run, postmark, smtp; got \"\(provider)\"")
            }
            mailProvider = name
        }
        switch mailProvider {
        case .dryRun:
            break
        case .postmark:
            guard let token = Self.nonEmpty(reader.string(forKey: "postmark.server.token", isSecret: true)) else {
                throw ConfigurationError("CORTEX_MAIL_PROVIDER=postmark needs POSTMARK_SERVER_TOKEN")
            }
            postmarkServerToken = token
            if let url = Self.nonEmpty(reader.string(forKey: "cortex.postmark.api.url")) {
                guard url.hasPrefix("http://") || url.hasPrefix("https://") else {
                    throw ConfigurationError("CORTEX_POSTMARK_API_URL must be an http(s) URL")
                }
                postmarkAPIURL = url
            }
            if let stream = Self.nonEmpty(reader.string(forKey: "cortex.postmark.broadcast.stream")) {
                guard stream.count <= 100, stream.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") }) else {
                    throw ConfigurationError("CORTEX_POSTMARK_BROADCAST_STREAM must be a Postmark stream ID (letters, digits, - and _), got \"\(stream)\"")
                }
                postmarkBroadcastStream = stream
            }
        case .smtp:
            guard let url = Self.nonEmpty(reader.string(forKey: "cortex.smtp.url", isSecret: true)) else {
                throw ConfigurationError(
                    "CORTEX_MAIL_PROVIDER=smtp needs CORTEX_SMTP_URL, e.g. smtp://user:password@smtp.example.com:587")
            }
            // EHLO names the sending domain when one is configured.
            let helo = mailFrom.flatMap { Mailbox($0) }.map { String($0.address.value.split(separator: "@").last ?? "localhost") }
            do throws(SMTPSettings.Invalid) {
                smtp = try SMTPSettings(
                    url: url, caFile: Self.nonEmpty(reader.string(forKey: "cortex.smtp.ca.file")), heloName: helo ?? "localhost")
            } catch {
                throw ConfigurationError(error.description)
            }
        }
        if let rate = Self.nonEmpty(reader.string(forKey: "cortex.send.rate")) {
            guard let value = Double(rate), value > 0, value <= 100_000 else {
                throw ConfigurationError("CORTEX_SEND_RATE must be a number of messages per second above 0, got \"\(rate)\"")
            }
            sendRate = value
        }
        sendLeaseSeconds = try Self.lease(reader, "cortex.send.lease.seconds", "CORTEX_SEND_LEASE_SECONDS") ?? sendLeaseSeconds
        executionLeaseSeconds =
            try Self.lease(reader, "cortex.execution.lease.seconds", "CORTEX_EXECUTION_LEASE_SECONDS") ?? executionLeaseSeconds
        if let allow = Self.nonEmpty(reader.string(forKey: "cortex.webhook.allow.private")) {
            guard ["0", "1", "true", "false"].contains(allow.lowercased()) else {
                throw ConfigurationError("CORTEX_WEBHOOK_ALLOW_PRIVATE must be 1 or 0, got \"\(allow)\"")
            }
            webhookAllowPrivate = allow == "1" || allow.lowercased() == "true"
        }
        if let url = Self.nonEmpty(reader.string(forKey: "cortex.public.url")) {
            guard url.hasPrefix("https://") || url.hasPrefix("http://"), url.count > 8, !url.contains(" ") else {
                throw ConfigurationError("CORTEX_PUBLIC_URL must be an https:// URL (http:// for local testing), got \"\(url)\"")
            }
            publicURL = url.hasSuffix("/") ? String(url.dropLast()) : url
        }
        if let days = Self.nonEmpty(reader.string(forKey: "cortex.archive.retention.days")) {
            guard let value = Int(days), (0...36_500).contains(value) else {
                throw ConfigurationError(
                    "CORTEX_ARCHIVE_RETENTION_DAYS must be a whole number of days from 0 (keep forever) to 36500, got \"\(days)\"")
            }
            archiveRetentionDays = value
        }
        if let level = Self.nonEmpty(reader.string(forKey: "cortex.log.level")) {
            guard let value = Logger.Level(rawValue: level.lowercased()) else {
                throw ConfigurationError(
                    "CORTEX_LOG_LEVEL must be one of trace, debug, info, notice, warning, error, critical")
            }
            logLevel = value
        }
    }

    /// A positive number of seconds (fractions allowed) up to a day, or `nil` when unset.
    private static func seconds(_ reader: ConfigReader, _ key: ConfigKey, _ variable: String) throws(ConfigurationError) -> Duration? {
        guard let text = nonEmpty(reader.string(forKey: key)) else { return nil }
        guard let value = Double(text), value > 0, value <= 86_400 else {
            throw ConfigurationError("\(variable) must be a number of seconds above 0 and at most 86400, got \"\(text)\"")
        }
        return .milliseconds(Int64((value * 1000).rounded(.up)))
    }

    /// A lease: whole seconds from 1 to a day, or `nil` when unset.
    private static func lease(_ reader: ConfigReader, _ key: ConfigKey, _ variable: String) throws(ConfigurationError) -> Int64? {
        guard let text = nonEmpty(reader.string(forKey: key)) else { return nil }
        guard let value = Int64(text), (1...86_400).contains(value) else {
            throw ConfigurationError("\(variable) must be a whole number of seconds from 1 to 86400, got \"\(text)\"")
        }
        return value
    }

    private static func nonEmpty(_ value: String?) -> String? {
        guard let value = value?.trimmingCharacters(in: .whitespaces), !value.isEmpty else { return nil }
        return value
    }

    /// Builds the reader for the process: environment variables first, then `file` (the same
    /// `KEY=value` lines as the environment), so the environment overrides the file.
    static func reader(
        environment: [String: String] = ProcessInfo.processInfo.environment,
        file: String?
    ) async throws -> ConfigReader {
        // Mark every credential-bearing variable secret so no provider ever prints it.
        let secrets = SecretsSpecifier<String, String>.dynamic { key, _ in
            ["SECRET", "TOKEN", "PASSWORD", "KEYS", "URL"].contains { key.uppercased().contains($0) }
        }
        var providers: [any ConfigProvider] = [
            EnvironmentVariablesProvider(environmentVariables: environment, secretsSpecifier: secrets)
        ]
        if let file {
            guard FileManager.default.isReadableFile(atPath: file) else {
                throw ConfigurationError("cannot read the configuration file \(file)")
            }
            providers.append(try await EnvironmentVariablesProvider(environmentFilePath: .init(file), secretsSpecifier: secrets))
        }
        return ConfigReader(providers: providers)
    }
}

/// The mail transports `CORTEX_MAIL_PROVIDER` can name.
enum MailProviderName: String, Sendable {
    case dryRun = "dry-run"
    case postmark
    case smtp
}
