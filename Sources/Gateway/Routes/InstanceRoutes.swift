import Engine
import Hummingbird

/// `GET /v1/instance`: how this Cortex is set up, for the console's settings page — the store,
/// the mail provider and its sender's state (with why it is paused), the public address, which
/// inbound sources are configured, the archive's retention. Never a secret: no token, password,
/// key or database URL, only whether each is set.
struct InstanceRoutes {
    let configuration: CortexConfiguration
    let senderStatus: SenderStatus

    func register(on routes: RouteRegistrar) {
        routes.add(.get, "/v1/instance") { _, _ in JSONResponse.make(.ok, json()) }
    }

    func json() -> JSON {
        var mail: [(key: String, value: JSON)] = [
            ("provider", .string(configuration.mailProvider.rawValue)),
            ("from", configuration.mailFrom.map(JSON.string) ?? .null),
            ("send_rate", configuration.sendRate.map { .number(String($0)) } ?? .null),
        ]
        switch configuration.mailProvider {
        case .postmark:
            mail.append(("api_url", .string(configuration.postmarkAPIURL)))
            mail.append(("broadcast_stream", .string(configuration.postmarkBroadcastStream)))
        case .smtp:
            if let smtp = configuration.smtp { mail.append(("smtp_server", .string("\(smtp.host):\(smtp.port)"))) }
        case .dryRun:
            break
        }
        let reason = senderStatus.pausedReason
        let database: String
        switch configuration.database {
        case .sqlite: database = "sqlite"
        case .postgres: database = "postgres"
        }
        return .object([
            "database": .string(database),
            "mail": .object(JSONObject(mail)),
            "sender": .object(["state": .string(reason == nil ? "sending" : "paused"), "paused_reason": reason.map(JSON.string) ?? .null]),
            "public_url": configuration.publicURL.map(JSON.string) ?? .null,
            "inbound_sources": .object([
                "checkout": .bool(configuration.checkoutSecret != nil), "stripe": .bool(configuration.stripeSecret != nil),
                "postmark": .bool(configuration.postmarkCredentials != nil), "thinkific": .bool(configuration.thinkificSecret != nil),
            ]),
            "archive_retention_days": .int(Int64(configuration.archiveRetentionDays)),
        ])
    }
}
