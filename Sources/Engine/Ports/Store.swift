import ServiceLifecycle

/// Everything Cortex keeps, behind one protocol with one implementation per database.
///
/// Every method is one transaction; a method that returns has committed durably.
public protocol Store: JobQueue {
    /// A human-readable name for logs, e.g. `sqlite:cortex.sqlite` (never with a password).
    var description: String { get }

    /// Long-running parts the store needs (a connection pool), run in the application's
    /// `ServiceGroup`; empty for SQLite.
    var services: [any Service] { get }

    /// Applies every pending schema migration; safe to call on every start.
    func migrate() async throws

    /// Succeeds when the database answers a trivial query.
    func ping() async throws

    /// Archives an authenticated delivery as accepted and writes its activities, upserting one
    /// contact per activity, in one transaction. When `(source, externalID)` was accepted before,
    /// writes nothing and answers `duplicate` with the first delivery's activity ids.
    func ingest(_ delivery: InboundDelivery, activities: [NewActivity]) async throws -> IngestOutcome

    /// Archives an authenticated delivery whose payload could not be normalized.
    func archiveRejected(_ delivery: InboundDelivery, reason: String) async throws

    func activities(_ query: ActivityQuery) async throws -> [Activity]

    func contact(email: EmailAddress) async throws -> Contact?

    func inboundEvents(_ query: InboundQuery) async throws -> [InboundEvent]

    /// Stores an API key's SHA-256 hash (hex); the key itself is never stored.
    func createAPIKey(name: String, keyHash: String, at time: Timestamp) async throws

    /// Whether a stored API key has this SHA-256 hash (hex).
    func apiKeyExists(keyHash: String) async throws -> Bool
}

extension Store {
    public var services: [any Service] { [] }
}
