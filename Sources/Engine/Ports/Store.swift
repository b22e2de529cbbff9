import ServiceLifecycle

/// Everything Cortex keeps: one implementation per database, made of narrow repositories.
///
/// Routes and workers take only the repository they use (`any SuppressionRepository`, ...), so
/// each says what it touches and a new concern gets a protocol of its own rather than growing
/// this one. Every method is one transaction; a method that returns has committed durably.
public protocol Store: InboundArchive, ActivityFeed, ContactDirectory, SmartListRepository, ContactImporter,
    SuppressionRepository, APIKeyRepository, WorkSignalling, EmailLedger, AutomationRepository, ExecutionRepository, ActivityWatch,
    SimulationSandbox, CampaignRepository, ConsoleSessionRepository
{
    /// A human-readable name for logs, e.g. `sqlite:cortex.sqlite` (never with a password).
    var description: String { get }

    /// Long-running parts the store needs (a connection pool), run in the application's
    /// `ServiceGroup`; empty for SQLite.
    var services: [any Service] { get }

    /// Applies every pending schema migration; safe to call on every start.
    func migrate() async throws

    /// Succeeds when the database answers a trivial query.
    func ping() async throws
}

extension Store {
    public var services: [any Service] { [] }
}
