/// Runs an automation's graph for one event on a virtual clock, without writing anything
/// (ENGINE.md §4, `simulate`): the step functions are the walker's (``ExecutionStepper``), and
/// conditions and waits are answered by the store's own filter SQL in a rolled-back transaction
/// (``SimulationSandbox``) against the contact's current data plus what the run did so far. A
/// delay or a wait moves the virtual clock, so a run of weeks answers in milliseconds.
public struct AutomationSimulation: Sendable {
    public typealias Store = SimulationSandbox & ContactDirectory & ExecutionRepository

    let store: any Store
    let defaultFrom: String?

    /// The most steps one simulation takes, and how far ahead its virtual clock goes: a graph
    /// that loops through a delay (a weekly digest) would otherwise never end.
    public static let maximumSteps = 500
    public static let horizonSeconds: Int64 = 400 * 86_400

    public init(store: any Store, defaultFrom: String?) {
        self.store = store
        self.defaultFrom = defaultFrom
    }

    /// Simulates `input` starting at `start`.
    public func run(_ input: SimulationInput, at start: Timestamp) async throws -> SimulationResult {
        var run = SimulationRun(input: input, start: start)
        run.contact = try await contact(input, at: start)
        run.state.activities.append(Self.activity(input.event, at: start))
        if let reason = try await refusal(input, run.state) {
            run.finish(.notTriggered, log: ExecutionLog(at: start, nodeID: input.graph.triggerID, action: "trigger", outcome: .skipped, message: reason))
            return run.result
        }
        let dry = input.dryRun ? " (dry run)" : ""
        run.logs.append(
            ExecutionLog(at: start, nodeID: nil, action: "spawn", outcome: .ok, message: "Spawned a simulated execution for \(input.email.value)\(dry)"))
        guard let first = input.graph.next(after: input.graph.triggerID) else {
            run.status = .completed
            return run.result
        }
        run.nodeID = first
        try await walk(&run)
        return run.result
    }

    /// Why a real run would not start for this event, or `nil` when it would.
    private func refusal(_ input: SimulationInput, _ state: SandboxState) async throws -> String? {
        let trigger = input.graph.trigger
        guard input.event.type == trigger.event.type else {
            return "The event is '\(input.event.type)'; the trigger starts on '\(trigger.event.type)'"
        }
        if case .activity(let condition) = trigger.event.filter, !trigger.event.conditions.isEmpty,
            try await !store.answer(.newestActivityMatches(condition), given: state)
        {
            return "The event does not match the trigger's 'where'"
        }
        if let audience = trigger.audience, try await !store.answer(.contactMatches(audience), given: state) {
            return "\(input.email.value) is not in the trigger's audience"
        }
        if let automationID = input.automationID, let reentry = input.reentry,
            let last = try await store.executions(ExecutionQuery(automationID: automationID, email: input.email, limit: 1)).first,
            !ExecutionRules.mayEnter(reentry, lastEntry: last.createdAt, now: state.now)
        {
            return "\(input.email.value) entered at \(RFC3339.format(last.createdAt)) (execution \(last.id)); re-entry does not allow another"
        }
        return nil
    }

    /// Steps until the run ends, fails, or reaches the step limit or the horizon.
    private func walk(_ run: inout SimulationRun) async throws {
        let graph = run.input.graph
        for _ in 0..<Self.maximumSteps {
            let context = StepContext(
                executionID: 0, automationID: run.input.automationID ?? 0, contact: run.contact, event: .object(run.input.event.metadata),
                defaultFrom: defaultFrom, timezone: run.contact.timezone ?? run.input.timezone, now: run.state.now,
                dryRun: run.input.dryRun)
            let step: StepCommit
            switch ExecutionStepper.plan(graph, at: run.nodeID, resuming: run.resuming, context) {
            case .commit(let commit):
                step = commit
            case .checkCondition(let filter):
                let matched = try await store.answer(.contactMatches(filter), given: run.state)
                step = ExecutionStepper.afterCondition(
                    graph, at: run.nodeID, matched: matched, label: AutomationWalker.label(graph, run.nodeID), now: run.state.now)
            case .checkEvent(let event, let since):
                guard case .activity(let condition) = event.filter else { return }
                let found = try await store.answer(.activitySince(condition, since), given: run.state)
                step = ExecutionStepper.afterEventCheck(graph, at: run.nodeID, found: found, now: run.state.now)
            case .callWebhook(let call):
                step = ExecutionStepper.simulatedWebhook(graph, at: run.nodeID, url: call.url.text, now: run.state.now)
            }
            run.apply(step)
            switch step.move {
            case .next(let nodeID):
                run.nodeID = nodeID
                run.resuming = false
            case .complete:
                run.status = .completed
                return
            case .fail:
                run.status = .failed
                return
            case .wait(let nodeID, let until):
                run.nodeID = nodeID
                guard until.microseconds <= run.start.adding(seconds: Self.horizonSeconds).microseconds else {
                    run.status = .waiting
                    run.wakeUpAt = until
                    return
                }
                if try await !awaitEvents(&run, until: until) { return }
            }
        }
        run.status = .running
    }

    /// Lets the `then` events due before `until` arrive in order: one that matches `exit_when`
    /// ends the run, one that a `wait_for_event` waits for moves it on; otherwise the clock goes
    /// to `until` and the waiting node resumes. Answers whether the run goes on.
    private func awaitEvents(_ run: inout SimulationRun, until: Timestamp) async throws -> Bool {
        let graph = run.input.graph
        while let next = run.pending.first, next.at.microseconds <= until.microseconds {
            run.pending.removeFirst()
            run.state.now = next.at
            run.state.activities.append(Self.activity(next.event, at: next.at))
            if let exit = run.input.exitWhen, exit.type == next.event.type, case .activity(let condition) = exit.filter,
                try await store.answer(.newestActivityMatches(condition), given: run.state)
            {
                run.finish(.exited, log: ExecutionLog(at: next.at, nodeID: nil, action: "exit", outcome: .ok, message: "Exited: '\(exit.type)' arrived"))
                return false
            }
            if case .waitForEvent(let wait)? = graph.node(run.nodeID)?.step, wait.event.type == next.event.type,
                case .activity(let condition) = wait.event.filter,
                try await store.answer(.newestActivityMatches(condition), given: run.state)
            {
                let step = ExecutionStepper.eventArrived(graph, at: run.nodeID, type: wait.event.type, activityID: 0, now: next.at)
                run.apply(step)
                guard case .next(let nodeID) = step.move else {
                    run.status = .completed
                    return false
                }
                run.nodeID = nodeID
                run.resuming = false
                return true
            }
        }
        run.state.now = until
        run.resuming = true
        return true
    }

    /// The contact as the run's templates read it: the stored one (or a new one), with the
    /// event's names and the request's `contact` fields and tags over it.
    private func contact(_ input: SimulationInput, at start: Timestamp) async throws -> Contact {
        var contact =
            try await store.contact(email: input.email)
            ?? Contact(email: input.email, firstName: nil, lastName: nil, createdAt: start, tags: [], suppression: nil)
        let update = input.contact
        contact.firstName = update.firstName ?? input.event.firstName ?? contact.firstName
        contact.lastName = update.lastName ?? input.event.lastName ?? contact.lastName
        contact.externalID = update.externalID ?? contact.externalID
        contact.timezone = update.timezone ?? contact.timezone
        if let changes = update.attributes { contact.attributes = try DirectoryRules.merged(attributes: contact.attributes, with: changes) }
        if let consent = update.consent { contact.consent = Consent(status: consent, at: start, source: "simulation") }
        for tag in input.tags where !contact.tags.contains(where: { FilterCompiler.foldASCII($0) == FilterCompiler.foldASCII(tag) }) {
            contact.tags.append(tag)
        }
        contact.tags.sort()
        return contact
    }

    static func activity(_ event: CanonicalEvent, at time: Timestamp) -> SandboxActivity {
        SandboxActivity(type: event.type, occurredAt: event.occurredAt ?? time, receivedAt: time, metadata: JSON.object(event.metadata).serialized())
    }
}
