/// Answers questions about one contact as if some changes had been committed, inside a
/// transaction that is always rolled back: the simulator (``AutomationSimulation``) evaluates
/// conditions and waits with the real filter SQL against the contact's current data plus what
/// the simulated run did, and nothing is ever written.
///
/// Activities the sandbox inserts take negative ids, never a sequence value: on PostgreSQL a
/// rolled-back sequence value is a gap the watcher would wait for (``AutomationWatcher/gapGrace``).
public protocol SimulationSandbox: Sendable {
    /// Answers `question` at `state.now` with `state` applied to the contact.
    func answer(_ question: SandboxQuestion, given state: SandboxState) async throws -> Bool
}

/// What the simulated run has done so far to its contact.
public struct SandboxState: Sendable {
    /// The contact; fields set here (from the simulate request's `contact`) override the stored ones.
    public var contact: ContactUpdate
    /// Tag changes in order: those of the request's `contact.tags`, then those of the run's steps.
    public var tagChanges: [TagChange]
    /// Activities that arrived, in order: the triggering event first, then the `then` events
    /// and the run's own tag activities as they happened.
    public var activities: [SandboxActivity]
    /// The virtual clock's reading.
    public var now: Timestamp

    public init(contact: ContactUpdate, tagChanges: [TagChange] = [], activities: [SandboxActivity] = [], now: Timestamp) {
        self.contact = contact
        self.tagChanges = tagChanges
        self.activities = activities
        self.now = now
    }
}

/// A tag added to or removed from the sandbox's contact.
public struct TagChange: Sendable, Equatable {
    public var tag: String
    public var added: Bool
    public var at: Timestamp

    public init(tag: String, added: Bool, at: Timestamp) {
        self.tag = tag
        self.added = added
        self.at = at
    }
}

/// An activity of the simulated run, received (and so visible to lookbacks) at `receivedAt`.
public struct SandboxActivity: Sendable, Equatable {
    public var type: String
    public var occurredAt: Timestamp
    public var receivedAt: Timestamp
    /// JSON object text.
    public var metadata: String

    public init(type: String, occurredAt: Timestamp, receivedAt: Timestamp, metadata: String) {
        self.type = type
        self.occurredAt = occurredAt
        self.receivedAt = receivedAt
        self.metadata = metadata
    }
}

/// What the simulator asks the sandbox.
public enum SandboxQuestion: Sendable {
    /// Whether the contact matches the filter (a condition node, a trigger's audience).
    case contactMatches(Filter)
    /// Whether the newest sandbox activity matches (a trigger's or an `exit_when`'s `where`, or
    /// the event a wait is waiting for).
    case newestActivityMatches(ActivityCondition)
    /// Whether the contact has an activity matching the condition received since the time,
    /// other than the triggering one (a wait's lookback).
    case activitySince(ActivityCondition, Timestamp)
}

extension SandboxQuestion {
    /// The id the sandbox gives its `index`-th activity: -1 for the triggering event, then -2, ...
    public static func activityID(_ index: Int) -> Int64 { -Int64(index) - 1 }

    /// The statement that answers the question (a row when the answer is yes), for either
    /// store; `compile` compiles a contact filter as the store does (it reads list filters).
    public func statement(
        given state: SandboxState, _ dialect: SQLDialect, compile: (Filter) async throws -> CompiledFilter
    ) async throws -> DirectoryStatement {
        switch self {
        case .contactMatches(let filter):
            return .oneContact(try await compile(filter), email: state.contact.email.value, dialect)
        case .newestActivityMatches(let condition):
            let test = FilterCompiler.compileActivityTest(condition, dialect: dialect, now: state.now)
            return .activity(test, id: Self.activityID(state.activities.count - 1), dialect)
        case .activitySince(let condition, let since):
            let test = FilterCompiler.compileActivityTest(condition, dialect: dialect, now: state.now)
            return .activity(test, of: state.contact.email.value, receivedSince: since, excluding: Self.activityID(0), dialect)
        }
    }
}
