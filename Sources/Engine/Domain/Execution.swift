/// One contact's run through one version of an automation (ENGINE.md §4).
public struct Execution: Sendable, Equatable {
    public var id: Int64
    public var automationID: Int64
    public var version: Int
    public var contactEmail: EmailAddress
    public var triggerActivityID: Int64
    public var status: ExecutionStatus
    /// The node it is at: the next to run while `running`, the waiting one while `waiting`.
    public var currentNodeID: String?
    public var wakeUpAt: Timestamp?
    public var dryRun: Bool
    public var createdAt: Timestamp
    public var finishedAt: Timestamp?

    public init(
        id: Int64, automationID: Int64, version: Int, contactEmail: EmailAddress, triggerActivityID: Int64,
        status: ExecutionStatus, currentNodeID: String?, wakeUpAt: Timestamp?, dryRun: Bool, createdAt: Timestamp,
        finishedAt: Timestamp?
    ) {
        self.id = id
        self.automationID = automationID
        self.version = version
        self.contactEmail = contactEmail
        self.triggerActivityID = triggerActivityID
        self.status = status
        self.currentNodeID = currentNodeID
        self.wakeUpAt = wakeUpAt
        self.dryRun = dryRun
        self.createdAt = createdAt
        self.finishedAt = finishedAt
    }
}

public enum ExecutionStatus: String, Sendable, CaseIterable {
    case running, waiting, completed, exited, cancelled, failed

    /// Whether it has ended for good.
    public var isFinished: Bool {
        switch self {
        case .running, .waiting: false
        case .completed, .exited, .cancelled, .failed: true
        }
    }
}

/// One row of an execution's log, in words a person reads.
public struct ExecutionLog: Sendable, Equatable {
    public var at: Timestamp
    public var nodeID: String?
    public var action: String
    public var outcome: Outcome
    public var message: String
    public var detail: JSON?

    public enum Outcome: String, Sendable {
        case ok, waiting, skipped, failed
    }

    public init(at: Timestamp, nodeID: String?, action: String, outcome: Outcome, message: String, detail: JSON? = nil) {
        self.at = at
        self.nodeID = nodeID
        self.action = action
        self.outcome = outcome
        self.message = message
        self.detail = detail
    }
}

/// What one step commits, all in one transaction with the execution's move: its effects, where
/// the execution goes next, and the log rows that say so. A step retried after a crash finds
/// the move committed with its effects, or neither.
public struct StepCommit: Sendable, Equatable {
    public var effects: [StepEffect]
    public var move: ExecutionMove
    public var logs: [ExecutionLog]
    /// Commit only if the execution is still at this node: a wait's event and its timeout may
    /// race, and only the first moves it.
    public var onlyAt: String?

    public init(effects: [StepEffect] = [], move: ExecutionMove, logs: [ExecutionLog], onlyAt: String? = nil) {
        self.effects = effects
        self.move = move
        self.logs = logs
        self.onlyAt = onlyAt
    }
}

public enum StepEffect: Sendable, Equatable {
    /// Into the send ledger; its idempotency key is `automation:<execution>:<node>`.
    case enqueueEmail(NewEmailJob)
    case addTag(String)
    case removeTag(String)
}

public enum ExecutionMove: Sendable, Equatable {
    /// Run `node` next, now.
    case next(String)
    /// Wait at `node` (a delay, or a wait for an event) until `until`; woken at a delay it goes
    /// on past it, at a wait it leaves through `timeout`.
    case wait(node: String, until: Timestamp)
    /// The graph ended here.
    case complete
    case fail(String)
}
