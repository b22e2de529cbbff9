import Configuration
import Adapters
import Engine
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle

/// What the HTTP application is built from; tests pass their own store and clock.
struct AppDependencies: Sendable {
    var configuration: CortexConfiguration
    var store: any Store
    var clock: any WallClock = SystemWallClock()
    var logger: Logger = Logger(label: "cortex")
    /// False when the caller already runs the store's services (tests sharing one pool).
    var runsStoreServices = true
    /// False when the caller drives the sender itself (tests, one pass at a time).
    var runsSender = true
    /// False when the caller runs no archive pruner (tests of other things).
    var runsArchivePruner = true
    /// Whether the application runs the automation watcher and walker.
    var runsAutomations = true

    /// Shared by the sender and `/readyz`, which reports a paused sender.
    var senderStatus = SenderStatus()
    /// Opened once migrations are applied; the sender waits for it.
    var migrated = StartupGate()

    /// The unsubscribe links' key, read from the store once.
    var unsubscribeKey: UnsubscribeKey { UnsubscribeKey(store: store) }

    /// The transport `CORTEX_MAIL_PROVIDER` names; the configuration has checked its settings.
    var transport: any MailTransport {
        switch (configuration.mailProvider, configuration.smtp) {
        case (.postmark, _):
            PostmarkTransport(
                baseURL: configuration.postmarkAPIURL, serverToken: configuration.postmarkServerToken ?? "",
                broadcastStream: configuration.postmarkBroadcastStream)
        case (.smtp, let settings?):
            SMTPTransport(settings: settings)
        case (.dryRun, _), (.smtp, nil):
            DryRunTransport()
        }
    }

    func sender() -> SenderWorker {
        SenderWorker(
            store: store, transport: transport, clock: clock, ratePerSecond: configuration.sendRate,
            leaseSeconds: configuration.sendLeaseSeconds, logger: logger, status: senderStatus, startAfter: migrated,
            campaignMail: configuration.publicURL.map { url in
                CampaignMail(store: store, links: SignedUnsubscribeLinks(publicURL: url, key: unsubscribeKey))
            })
    }

    /// Fans scheduled campaigns out into the ledger (ENGINE.md §5).
    func campaignWorker() -> CampaignWorker {
        CampaignWorker(store: store, clock: clock, logger: logger, startAfter: migrated)
    }

    /// The automation watcher and walker (ENGINE.md §4), unless the caller runs none.
    var automationWorkers: [any Service] {
        guard runsAutomations else { return [] }
        return [
            AutomationWatcher(store: store, clock: clock, logger: logger, startAfter: migrated),
            AutomationWalker(
                store: store, clock: clock, webhooks: HTTPWebhookCaller(allowPrivate: configuration.webhookAllowPrivate),
                defaultFrom: configuration.mailFrom, leaseSeconds: configuration.executionLeaseSeconds, logger: logger,
                startAfter: migrated),
        ]
    }

    /// The archive pruner, unless retention is off (0 days) or the caller runs none.
    var archivePruners: [any Service] {
        guard runsArchivePruner, configuration.archiveRetentionDays > 0 else { return [] }
        return [
            ArchivePruner(
                store: store, clock: clock, retentionDays: configuration.archiveRetentionDays, logger: logger,
                startAfter: migrated)
        ]
    }
}

/// Builds the application from configuration. The store is migrated when the server starts,
/// once its services (PostgreSQL's connection pool) run.
func buildApplication(reader: ConfigReader) async throws -> some ApplicationProtocol {
    let configuration = try CortexConfiguration(reader: reader)
    var logger = Logger(label: "cortex")
    logger.logLevel = configuration.logLevel
    let store = try openStore(configuration.database, logger: logger)
    let dependencies = AppDependencies(configuration: configuration, store: store, logger: logger)
    var app = buildApplication(dependencies)
    app.beforeServerStarts {
        try await store.migrate()
        dependencies.migrated.open()
    }
    return app
}

/// Opens the configured store without migrating it or starting its services.
func openStore(_ location: DatabaseLocation, logger: Logger) throws -> any Store {
    switch location {
    case .sqlite(let path): try SQLiteStore(path: path)
    case .postgres(let settings): PostgresStore(settings: settings, logger: logger)
    }
}

func buildApplication(_ dependencies: AppDependencies) -> Application<RouterResponder<BasicRequestContext>> {
    let configuration = dependencies.configuration
    let logger = dependencies.logger
    let database = dependencies.store.description
    return Application(
        router: buildRouter(dependencies),
        server: .cortex(
            timeouts: ConnectionGuard.Timeouts(
                header: TimeAmount(configuration.httpHeaderTimeout), idle: TimeAmount(configuration.httpIdleTimeout)),
            maxConnections: configuration.httpMaxConnections),
        configuration: ApplicationConfiguration(
            address: .hostname(configuration.host, port: configuration.port), serverName: "cortex",
            backlog: configuration.httpListenBacklog),
        services: (dependencies.runsStoreServices ? dependencies.store.services : [])
            + (dependencies.runsSender ? [dependencies.sender(), dependencies.campaignWorker()] : []) + dependencies.archivePruners
            + dependencies.automationWorkers,
        onServerRunning: { channel in
            let port = channel.localAddress?.port ?? configuration.port
            logger.notice(
                "cortex serving http://\(configuration.host):\(port) database=\(database) mail=\(configuration.mailProvider.rawValue)"
            )
            logger.notice("console at http://\(configuration.host):\(port)/ (sign in with an API key)")
            if configuration.apiKeys.isEmpty {
                // A first run: without a key the API and the console refuse everyone, so say
                // how to get one rather than leave a 401 to puzzle over.
                logger.notice(
                    "no CORTEX_API_KEYS: /v1 and the console accept only keys made with `cortex keys create --name NAME`")
            }
            if let url = configuration.publicURL, url.hasPrefix("http://") {
                // RFC 8058 requires an HTTPS URI for one-click unsubscribe: fine for a local test,
                // but mailbox providers will not offer the button for these links.
                logger.warning("CORTEX_PUBLIC_URL is http://: unsubscribe links need https:// outside local testing (RFC 8058)")
            }
        },
        logger: logger
    )
}

/// The router with every route.
func buildRouter(_ dependencies: AppDependencies) -> Router<BasicRequestContext> {
    buildRoutes(dependencies).router
}

/// The router and the table of its routes (tests compare the table with the OpenAPI spec).
func buildRoutes(_ dependencies: AppDependencies) -> RouteRegistrar {
    let router = Router()
    let table = RouteTable()
    let metrics = CortexMetrics()
    let store = dependencies.store
    let clock = dependencies.clock
    // Added before any route, so it wraps every route (and the API key check of `/v1` routes,
    // turning its refusal into JSON) and the not-found responder.
    router.add(middleware: ErrorMiddleware(routes: table, metrics: metrics, clock: clock))
    let authenticator = APIKeyAuthenticator(configuredKeys: dependencies.configuration.apiKeys, store: store, clock: clock)
    let routes = RouteRegistrar(router: router, table: table, authenticator: authenticator)

    let sources = InboundSources(configuration: dependencies.configuration)
    let pipeline = InboundPipeline(
        ingest: InboundIngest(store: store, clock: clock), metrics: metrics, logger: dependencies.logger)
    IngestRoutes(sources: sources, pipeline: pipeline).register(on: routes)
    InboundRoutes(store: store, sources: sources, pipeline: pipeline).register(on: routes)
    SuppressionRoutes(store: store).register(on: routes)
    MessageRoutes(store: store, clock: clock, defaultFrom: dependencies.configuration.mailFrom).register(on: routes)
    ReadRoutes(store: store).register(on: routes)
    SmartListRoutes(store: store, clock: clock).register(on: routes)
    CampaignRoutes(
        store: store, clock: clock, defaultFrom: dependencies.configuration.mailFrom, publicURL: dependencies.configuration.publicURL
    ).register(on: routes)
    AutomationRoutes(
        store: store, simulation: AutomationSimulation(store: store, defaultFrom: dependencies.configuration.mailFrom), clock: clock
    ).register(on: routes)
    ExecutionRoutes(store: store, clock: clock).register(on: routes)
    APIKeyRoutes(store: store, configuredKeys: dependencies.configuration.apiKeys.count, clock: clock).register(on: routes)
    DirectoryRoutes(store: store, clock: clock).register(on: routes)
    ImportRoutes(store: store, clock: clock).register(on: routes)
    HealthRoutes(store: store, metrics: metrics, senderStatus: dependencies.senderStatus).register(on: routes)
    InstanceRoutes(configuration: dependencies.configuration, senderStatus: dependencies.senderStatus).register(on: routes)
    UnsubscribeRoutes(store: store, key: dependencies.unsubscribeKey, clock: clock).register(on: routes)
    ConsoleRoutes(
        store: store, authenticator: authenticator, clock: clock,
        secure: dependencies.configuration.publicURL?.hasPrefix("https://") == true
    ).register(on: routes)
    return routes
}
