import Logging
import ServiceLifecycle

/// Runs executions (ENGINE.md §4): claims the due ones with a lease, runs their synchronous steps
/// one after another (each step's effects and move committed together, see
/// ``ExecutionStepper``), and stops an execution where it waits, ends or fails. Between passes it
/// sleeps on the clock until the earliest wake-up, or until new work is signalled: the scheduler
/// is this sleep, so a due delay runs as soon as it is due, with no polling and no cron.
public struct AutomationWalker: Service {
    public typealias Store = ExecutionRepository & AutomationRepository & ContactDirectory & ActivityWatch & WorkSignalling

    let store: any Store
    let clock: any WallClock
    let webhooks: any WebhookCaller
    let defaultFrom: String?
    let leaseSeconds: Int64
    let batchSize: Int
    let logger: Logger
    private let startAfter: StartupGate?

    /// The most steps one claim runs: a graph has at most 200 nodes and no loop without a wait,
    /// so this is only a guard against a graph changed behind Cortex's back.
    static let maximumStepsPerClaim = 1_000

    public init(
        store: any Store, clock: any WallClock, webhooks: any WebhookCaller, defaultFrom: String?, leaseSeconds: Int64 = 60,
        batchSize: Int = 500, logger: Logger, startAfter: StartupGate? = nil
    ) {
        self.store = store
        self.clock = clock
        self.webhooks = webhooks
        self.defaultFrom = defaultFrom
        self.leaseSeconds = leaseSeconds
        self.batchSize = batchSize
        self.logger = logger
        self.startAfter = startAfter
    }

    /// Passes until shutdown; a pass under way on graceful shutdown finishes and commits
    /// (``PassLoop``): cut short, it left its claimed executions to wait out their lease (60 s)
    /// after the restart, a webhook step's call made and its outcome unrecorded.
    public func run() async throws {
        await cancelWhenGracefulShutdown { await startAfter?.waitUnlessCancelled() }
        await PassLoop.run(
            clock: clock, logger: logger, failure: "automation pass failed; retrying", pass: { try await runOnce() > 0 },
            wait: { try await self.waitForWork() })
    }

    /// Sleeps until an execution is spawned or woken (any instance) or the earliest wait ends.
    private func waitForWork() async throws {
        await store.workSignals[.executions].wait(orUntil: try await store.nextExecutionDue(), on: clock)
    }

    /// An execution being walked in this pass: where it is and what its steps read.
    private struct Walk {
        let execution: Execution
        let graph: AutomationGraph
        let contact: Contact
        let event: JSON
        let timezone: String
        var nodeID: String
        var resuming: Bool
    }

    /// One pass: claims due executions and runs each as far as it goes, in rounds: every
    /// execution's next step is planned, then all of them are committed in one transaction
    /// (each step's effects with its own move), until every execution waits, ends or fails.
    /// Answers how many were claimed.
    public func runOnce() async throws -> Int {
        let claimed = try await store.claimExecutions(limit: batchSize, now: clock.now(), leaseSeconds: leaseSeconds)
        guard !claimed.isEmpty else { return 0 }
        // One read for the whole claim, instead of a contact and an activity read per execution.
        let inputs = try await store.stepInputs(of: claimed)
        var graphs: [String: AutomationGraph] = [:]
        var timezones: [Int64: String] = [:]
        var walks: [Walk] = []
        var failures: [(execution: Int64, step: StepCommit)] = []
        for execution in claimed {
            guard let nodeID = execution.currentNodeID else { continue }
            do {
                let graph = try await graph(execution, cache: &graphs)
                guard let contact = inputs.contacts[execution.contactEmail] else {
                    failures.append((execution.id, Self.failure(nodeID, "The contact was erased", at: clock.now())))
                    continue
                }
                if timezones[execution.automationID] == nil {
                    timezones[execution.automationID] = try await store.automation(id: execution.automationID)?.definition.timezone ?? "UTC"
                }
                let event = inputs.events[execution.triggerActivityID]
                    .flatMap { try? JSONParser.parse(Array($0.utf8)) } ?? .object([:])
                walks.append(
                    Walk(
                        execution: execution, graph: graph, contact: contact, event: event,
                        timezone: contact.timezone ?? timezones[execution.automationID] ?? "UTC", nodeID: nodeID,
                        resuming: execution.status == .waiting))
            } catch let error as GraphError {
                failures.append((execution.id, Self.failure(nodeID, "The automation's graph is not valid: \(error)", at: clock.now())))
            }
        }
        _ = try await store.commitSteps(failures, at: clock.now())
        for _ in 0..<Self.maximumStepsPerClaim where !walks.isEmpty {
            let now = clock.now()
            var steps: [(execution: Int64, step: StepCommit)] = []
            for walk in walks {
                let context = StepContext(
                    executionID: walk.execution.id, automationID: walk.execution.automationID, contact: walk.contact,
                    event: walk.event, defaultFrom: defaultFrom, timezone: walk.timezone, now: now, dryRun: walk.execution.dryRun)
                switch ExecutionStepper.plan(walk.graph, at: walk.nodeID, resuming: walk.resuming, context) {
                case .commit(let commit):
                    steps.append((walk.execution.id, commit))
                case .checkCondition(let filter):
                    let matched = try await store.contact(walk.execution.contactEmail, matches: filter, at: now)
                    let label = Self.label(walk.graph, walk.nodeID)
                    steps.append((walk.execution.id, ExecutionStepper.afterCondition(walk.graph, at: walk.nodeID, matched: matched, label: label, now: now)))
                case .checkEvent(let event, let since):
                    guard case .activity(let condition) = event.filter else { continue }
                    let found = try await store.hasActivity(
                        of: walk.execution.contactEmail, matching: condition, since: since,
                        excluding: walk.execution.triggerActivityID, at: now)
                    steps.append((walk.execution.id, ExecutionStepper.afterEventCheck(walk.graph, at: walk.nodeID, found: found, now: now)))
                case .callWebhook(let call):
                    // Made before the commit: a crash between them repeats the call, with the same
                    // `webhook-id`, which is what lets the receiver drop it.
                    let attempt = try await store.executionLogs(id: walk.execution.id)
                        .filter { $0.nodeID == walk.nodeID && $0.action == "webhook" && $0.outcome == .waiting }.count + 1
                    let result = await webhooks.call(call)
                    steps.append((
                        walk.execution.id,
                        ExecutionStepper.afterWebhook(walk.graph, at: walk.nodeID, url: call.url.text, result: result, attempt: attempt, now: now)
                    ))
                }
            }
            let committed = try await store.commitSteps(steps, at: now)
            var next: [Walk] = []
            for (index, var walk) in walks.enumerated() where committed[index] {
                // Only a move to the next node goes on now; a wait, an end or a failure stops here.
                guard case .next(let nodeID) = steps[index].step.move else { continue }
                walk.nodeID = nodeID
                walk.resuming = false
                next.append(walk)
            }
            walks = next
        }
        return claimed.count
    }

    private static func failure(_ nodeID: String, _ reason: String, at time: Timestamp) -> StepCommit {
        StepCommit(move: .fail(reason), logs: [ExecutionLog(at: time, nodeID: nodeID, action: "fail", outcome: .failed, message: reason)])
    }

    private func graph(_ execution: Execution, cache: inout [String: AutomationGraph]) async throws -> AutomationGraph {
        let key = "\(execution.automationID):\(execution.version)"
        if let graph = cache[key] { return graph }
        guard let document = try await store.automationGraph(id: execution.automationID, version: execution.version) else {
            throw StoreError.notFound("automation \(execution.automationID) has no version \(execution.version)")
        }
        let graph = try AutomationGraphParser.parse(document)
        cache[key] = graph
        return graph
    }

    /// A node's `data.label`, which names a condition in its log ("Condition 'bought Canva' is false").
    static func label(_ graph: AutomationGraph, _ nodeID: String) -> String? {
        guard case .array(let nodes)? = graph.document.objectValue?["nodes"] else { return nil }
        for case .object(let node) in nodes where node["id"]?.stringValue == nodeID {
            return node["data"]?.objectValue?["label"]?.stringValue
        }
        return nil
    }
}
