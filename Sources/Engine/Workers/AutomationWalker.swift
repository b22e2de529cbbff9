import Logging
import ServiceLifecycle

/// Runs executions (ENGINE.md §4): claims the due ones with a lease, runs their synchronous steps
/// one after another (each step's effects and move committed together, see
/// ``ExecutionStepper``), and stops an execution where it waits, ends or fails. Between passes it
/// sleeps on the clock until the earliest wake-up, or until new work is signalled: the scheduler
/// is this sleep, so a due delay runs as soon as it is due, with no polling and no cron.
public struct AutomationWalker: Service {
    public typealias Store = ExecutionRepository & AutomationRepository & ContactDirectory & ActivityWatch & JobQueue

    let store: any Store
    let clock: any WallClock
    let defaultFrom: String?
    let leaseSeconds: Int64
    let batchSize: Int
    let logger: Logger
    private let startAfter: StartupGate?

    /// The most steps one claim runs: a graph has at most 200 nodes and no loop without a wait,
    /// so this is only a guard against a graph changed behind Cortex's back.
    static let maximumStepsPerClaim = 1_000

    public init(
        store: any Store, clock: any WallClock, defaultFrom: String?, leaseSeconds: Int64 = 60, batchSize: Int = 50,
        logger: Logger, startAfter: StartupGate? = nil
    ) {
        self.store = store
        self.clock = clock
        self.defaultFrom = defaultFrom
        self.leaseSeconds = leaseSeconds
        self.batchSize = batchSize
        self.logger = logger
        self.startAfter = startAfter
    }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            await startAfter?.waitUnlessCancelled()
            while !Task.isCancelled {
                do {
                    if try await runOnce() == 0 { try await waitForWork() }
                } catch {
                    if Task.isCancelled { return }
                    logger.error("automation pass failed; retrying", metadata: ["error": "\(error)"])
                    try? await clock.sleep(for: .seconds(1))
                }
            }
        }
    }

    /// Sleeps until an execution is spawned or woken (any instance) or the earliest wait ends.
    private func waitForWork() async throws {
        let due = try await store.nextExecutionDue()
        let signal = store.workSignals[.executions]
        let clock = clock
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await signal.wait() }
            if let due { group.addTask { try? await clock.sleep(until: due) } }
            await group.next()
            group.cancelAll()
        }
    }

    /// One pass: claims due executions and runs each as far as it goes; answers how many.
    public func runOnce() async throws -> Int {
        let claimed = try await store.claimExecutions(limit: batchSize, now: clock.now(), leaseSeconds: leaseSeconds)
        var graphs: [String: AutomationGraph] = [:]
        for execution in claimed {
            do {
                try await walk(execution, graphs: &graphs)
            } catch let error as StoreError where error.kind == .conflict {
                // Cancelled meanwhile: its step committed nothing.
                continue
            } catch {
                // The lease runs out and another pass retries from the last committed step.
                logger.error("execution step failed", metadata: ["execution": "\(execution.id)", "error": "\(error)"])
            }
        }
        return claimed.count
    }

    private func walk(_ execution: Execution, graphs: inout [String: AutomationGraph]) async throws {
        guard var nodeID = execution.currentNodeID else { return }
        let graph = try await graph(execution, cache: &graphs)
        let automation = try await store.automation(id: execution.automationID)
        guard let contact = try await store.contact(email: execution.contactEmail) else {
            try await store.commitStep(
                execution: execution.id,
                StepCommit(
                    move: .fail("the contact was erased"),
                    logs: [ExecutionLog(at: clock.now(), nodeID: nodeID, action: "fail", outcome: .failed, message: "The contact was erased")]),
                at: clock.now())
            return
        }
        let event = try await store.activity(id: execution.triggerActivityID)
            .flatMap { try? JSONParser.parse(Array($0.metadata.utf8)) } ?? .object([:])
        var resuming = execution.status == .waiting
        for _ in 0..<Self.maximumStepsPerClaim {
            let now = clock.now()
            let context = StepContext(
                executionID: execution.id, automationID: execution.automationID, contact: contact, event: event,
                defaultFrom: defaultFrom, timezone: contact.timezone ?? automation?.definition.timezone ?? "UTC", now: now)
            let step: StepCommit
            switch ExecutionStepper.plan(graph, at: nodeID, resuming: resuming, context) {
            case .commit(let commit):
                step = commit
            case .checkCondition(let filter):
                let matched = try await store.contact(execution.contactEmail, matches: filter, at: now)
                step = ExecutionStepper.afterCondition(graph, at: nodeID, matched: matched, label: Self.label(graph, nodeID), now: now)
            }
            try await store.commitStep(execution: execution.id, step, at: now)
            resuming = false
            guard case .next(let next) = step.move else { return }
            nodeID = next
        }
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
