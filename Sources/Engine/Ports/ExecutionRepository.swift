/// Where executions and their logs live, and how the watcher and the walker move them
/// (ENGINE.md §4). Executions are the walker's queue: due rows are claimed with a lease
/// (`FOR UPDATE SKIP LOCKED` on PostgreSQL), and a lease that runs out (a crashed walker) makes
/// the row claimable again.
public protocol ExecutionRepository: Sendable {
    /// Starts executions at their trigger's next node, all in one transaction, in order: none
    /// where one exists for the automation and activity, or the re-entry rule refuses the
    /// contact (`nil` in the answer, at the spawn's index). A dry run is not an entry: it always
    /// runs, and never keeps the contact from entering for real.
    func spawnExecutions(_ spawns: [ExecutionSpawn], at time: Timestamp) async throws -> [Int64?]

    /// Claims up to `limit` executions that are due (running, or waiting with `wake_up_at` passed)
    /// of active automations, leased until `now + leaseSeconds`.
    func claimExecutions(limit: Int, now: Timestamp, leaseSeconds: Int64) async throws -> [Execution]

    /// What the steps of claimed executions read, in one go for the whole claim: each contact's
    /// own fields and tags, and each triggering activity's data. Only what templates and webhook
    /// bodies use is read: the contacts' lifecycle, consent, suppression and last activity are
    /// left at ``Contact``'s defaults (the directory's `contact(email:)` computes them from the
    /// activities, which cost the walker more than the rest of a step).
    func stepInputs(of executions: [Execution]) async throws -> StepInputs

    /// Commits one step of each of several claimed executions in one transaction: each step's
    /// effects, move and logs together. An execution no longer running or waiting (cancelled
    /// meanwhile) gets nothing of its step; answers, per step, whether it was committed.
    func commitSteps(_ steps: [(execution: Int64, step: StepCommit)], at time: Timestamp) async throws -> [Bool]

    /// When the earliest waiting execution of an active automation is due, for the walker to
    /// sleep until then; `nil` when none waits.
    func nextExecutionDue() async throws -> Timestamp?

    /// The waiting executions of these contacts, for the watcher to resume the ones whose event arrived.
    func waitingExecutions(of emails: [EmailAddress]) async throws -> [Execution]

    /// Ends the contact's running and waiting executions of an automation (its `exit_when`
    /// event arrived) as `exited`, each with a log row; answers how many.
    func exitExecutions(automationID: Int64, email: EmailAddress, reason: String, at time: Timestamp) async throws -> Int

    func executions(_ query: ExecutionQuery) async throws -> [Execution]
    func execution(id: Int64) async throws -> Execution?
    func executionLogs(id: Int64) async throws -> [ExecutionLog]

    /// Cancels a running or waiting execution; answers it, or `nil` when there is none.
    func cancelExecution(id: Int64, at time: Timestamp) async throws -> Execution?
}

/// An execution the watcher starts.
public struct ExecutionSpawn: Sendable, Equatable {
    public var automationID: Int64
    public var version: Int
    public var contactEmail: EmailAddress
    public var triggerActivityID: Int64
    /// The node after the trigger; `nil` completes at once (a trigger alone).
    public var firstNodeID: String?
    public var reentry: Reentry
    public var dryRun: Bool

    public init(
        automationID: Int64, version: Int, contactEmail: EmailAddress, triggerActivityID: Int64, firstNodeID: String?,
        reentry: Reentry, dryRun: Bool = false
    ) {
        self.automationID = automationID
        self.version = version
        self.contactEmail = contactEmail
        self.triggerActivityID = triggerActivityID
        self.firstNodeID = firstNodeID
        self.reentry = reentry
        self.dryRun = dryRun
    }
}

/// What ``ExecutionRepository/stepInputs(of:)`` read.
public struct StepInputs: Sendable, Equatable {
    /// By address; an erased contact is missing.
    public var contacts: [EmailAddress: Contact]
    /// The triggering activities' data (their metadata, JSON text) by activity id.
    public var events: [Int64: String]

    public init(contacts: [EmailAddress: Contact] = [:], events: [Int64: String] = [:]) {
        self.contacts = contacts
        self.events = events
    }
}

/// Which executions to list, newest first.
public struct ExecutionQuery: Sendable, Equatable {
    public var automationID: Int64?
    public var email: EmailAddress?
    public var status: ExecutionStatus?
    public var limit: Int
    /// Only executions with an id below this (the previous page's last).
    public var before: Int64?

    public init(automationID: Int64? = nil, email: EmailAddress? = nil, status: ExecutionStatus? = nil, limit: Int = 50, before: Int64? = nil) {
        self.automationID = automationID
        self.email = email
        self.status = status
        self.limit = limit
        self.before = before
    }
}
