/// What a simulation runs: a graph (an automation's current version, or a file given to the
/// CLI), the triggering event, and what else should happen while it runs.
public struct SimulationInput: Sendable {
    public var graph: AutomationGraph
    /// Set when simulating a stored automation: re-entry is then checked against its executions.
    public var automationID: Int64?
    public var reentry: Reentry?
    public var exitWhen: EventMatch?
    /// For local-time delays of contacts without a timezone of their own.
    public var timezone: String
    /// The triggering event; it names the contact (or `contact.email` does).
    public var event: CanonicalEvent
    /// Fields that override the stored contact's for this run (the request's `contact`).
    public var contact: ContactUpdate
    /// Tags the contact has for this run besides its stored ones.
    public var tags: [String]
    /// Events that arrive later, each `afterSeconds` after the triggering one.
    public var then: [LaterEvent]

    public init(
        graph: AutomationGraph, automationID: Int64? = nil, reentry: Reentry? = nil, exitWhen: EventMatch? = nil, timezone: String = "UTC",
        event: CanonicalEvent, contact: ContactUpdate, tags: [String] = [], then: [LaterEvent] = []
    ) {
        self.graph = graph
        self.automationID = automationID
        self.reentry = reentry
        self.exitWhen = exitWhen
        self.timezone = timezone
        self.event = event
        self.contact = contact
        self.tags = tags
        self.then = then
    }

    public var email: EmailAddress { contact.email }

    /// `"dry_run": true` in the event's data simulates a dry-run execution, as the watcher would start.
    public var dryRun: Bool { event.metadata["dry_run"] == .bool(true) }
}

/// An event that arrives `afterSeconds` after the triggering one.
public struct LaterEvent: Sendable {
    public var afterSeconds: Int64
    public var event: CanonicalEvent

    public init(afterSeconds: Int64, event: CanonicalEvent) {
        self.afterSeconds = afterSeconds
        self.event = event
    }
}

/// What a simulation answers: how the run ended and the log a real run would write.
public struct SimulationResult: Sendable {
    public enum Status: String, Sendable {
        /// The event would start no execution (wrong type, `where`, audience or re-entry).
        case notTriggered = "not_triggered"
        case completed, exited, failed
        /// Still waiting beyond the simulation's horizon.
        case waiting
        /// Still stepping after the simulation's step limit (a loop).
        case running
    }

    public var status: Status
    public var dryRun: Bool
    public var startedAt: Timestamp
    /// The virtual clock's reading when the run stopped.
    public var endedAt: Timestamp
    /// Where it stopped when it did not end.
    public var currentNodeID: String?
    public var wakeUpAt: Timestamp?
    public var logs: [ExecutionLog]
    /// The mail the run would queue, rendered.
    public var emails: [NewEmailJob]
    /// `then` events that arrived after the run had ended.
    public var unusedEvents: Int
}

/// A simulation in progress: the virtual clock, the sandbox state and what was logged.
struct SimulationRun {
    let input: SimulationInput
    let start: Timestamp
    var state: SandboxState
    var contact: Contact
    var nodeID: String
    var resuming = false
    var status = SimulationResult.Status.running
    var wakeUpAt: Timestamp?
    var logs: [ExecutionLog] = []
    var emails: [NewEmailJob] = []
    /// The `then` events still to arrive, in order.
    var pending: [ArrivingEvent]

    init(input: SimulationInput, start: Timestamp) {
        self.input = input
        self.start = start
        state = SandboxState(contact: input.contact, tagChanges: input.tags.map { TagChange(tag: $0, added: true, at: start) }, now: start)
        if state.contact.firstName == nil { state.contact.firstName = input.event.firstName }
        if state.contact.lastName == nil { state.contact.lastName = input.event.lastName }
        contact = Contact(email: input.email, firstName: nil, lastName: nil, createdAt: start, tags: [], suppression: nil)
        nodeID = input.graph.triggerID
        pending = input.then.enumerated()
            .sorted { ($0.element.afterSeconds, $0.offset) < ($1.element.afterSeconds, $1.offset) }
            .map { ArrivingEvent(at: start.adding(seconds: $0.element.afterSeconds), event: $0.element.event) }
    }

    /// Takes a step's effects into the sandbox state and its log into the answer.
    mutating func apply(_ step: StepCommit) {
        logs += step.logs
        for effect in step.effects {
            switch effect {
            case .enqueueEmail(let job):
                emails.append(job)
            case .addTag(let tag):
                guard !has(tag) else { continue }
                contact.tags.append(tag)
                contact.tags.sort()
                changeTag(tag, added: true)
            case .removeTag(let tag):
                guard has(tag) else { continue }
                contact.tags.removeAll { FilterCompiler.foldASCII($0) == FilterCompiler.foldASCII(tag) }
                changeTag(tag, added: false)
            }
        }
    }

    /// A tag change and its `tag.added` / `tag.removed` activity, as the store would write them.
    private mutating func changeTag(_ tag: String, added: Bool) {
        state.tagChanges.append(TagChange(tag: tag, added: added, at: state.now))
        state.activities.append(
            SandboxActivity(
                type: added ? "tag.added" : "tag.removed", occurredAt: state.now, receivedAt: state.now, metadata: DirectoryRules.tagMetadata(tag)))
    }

    private func has(_ tag: String) -> Bool {
        contact.tags.contains { FilterCompiler.foldASCII($0) == FilterCompiler.foldASCII(tag) }
    }

    mutating func finish(_ status: SimulationResult.Status, log: ExecutionLog) {
        self.status = status
        logs.append(log)
    }

    var result: SimulationResult {
        let stopped = status == .waiting || status == .running
        return SimulationResult(
            status: status, dryRun: input.dryRun, startedAt: start, endedAt: state.now,
            currentNodeID: stopped ? nodeID : nil, wakeUpAt: wakeUpAt, logs: logs, emails: emails, unusedEvents: pending.count)
    }
}

/// A `then` event at the virtual time it arrives.
struct ArrivingEvent: Sendable {
    let at: Timestamp
    let event: CanonicalEvent
}
