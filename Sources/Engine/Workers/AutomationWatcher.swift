import Logging
import ServiceLifecycle
import Synchronization

/// Matches every committed activity against the active automations and spawns their executions
/// (ENGINE.md §4). It reads activities in id order after a cursor kept in the database, so an
/// activity committed while Cortex was down is matched when it starts again; spawning is unique
/// per automation and activity, so matching one twice (after a crash before the cursor was
/// saved, or on two instances at once) starts one execution.
///
/// On PostgreSQL ids are not committed in order: a transaction that took id 10 may commit after
/// one that took id 11. The cursor therefore never moves past a missing id while the id may
/// still commit: a gap is waited for until ``gapGrace`` has passed since it was first seen (a
/// rolled-back transaction leaves a gap for good). Activities after the gap are matched as they
/// come; matching them again later is harmless.
public struct AutomationWatcher: Service {
    public typealias Store = ActivityWatch & AutomationRepository & ExecutionRepository & ContactDirectory & WorkSignalling

    public static let cursorName = "automations"
    /// How long a missing id may still be an uncommitted transaction: far longer than any ingest
    /// transaction (a group commit lasts milliseconds).
    public static let gapGrace: Int64 = 30

    /// How long the watcher lets activities gather after a pass that found fewer than a batch:
    /// ingest wakes it once per commit, and a pass per commit cost a fifth of SQLite's ingest
    /// speed (BENCHMARKS.md, "Automations"). A full batch is followed at once.
    public static let gathering: Duration = .milliseconds(100)

    /// The most activities one pass reads. Every pass writes (its spawns, its cursor), each write
    /// a commit with its own fsync on SQLite's one writer: at peak ingest (10,000 a second)
    /// passes of 500 were 20 a second, back to back, and cost a fifth of ingest with only 1 %
    /// of events matching. Passes of 5,000 are two a second.
    public static let defaultBatchSize = 5_000

    let store: any Store
    let clock: any WallClock
    let batchSize: Int
    let logger: Logger
    private let state = WatcherGaps()
    private let startAfter: StartupGate?
    /// Waits between passes (``gathering``): the clock's sleep, unless a test passes its own.
    private let pause: @Sendable (Duration) async throws -> Void

    public init(
        store: any Store, clock: any WallClock, batchSize: Int = AutomationWatcher.defaultBatchSize, logger: Logger, startAfter: StartupGate? = nil,
        pause: (@Sendable (Duration) async throws -> Void)? = nil
    ) {
        self.store = store
        self.clock = clock
        self.batchSize = batchSize
        self.logger = logger
        self.startAfter = startAfter
        self.pause = pause ?? { try await clock.sleep(for: $0) }
    }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            await startAfter?.waitUnlessCancelled()
            while !Task.isCancelled {
                do {
                    switch try await runOnce() {
                    case .noAutomations:
                        // Ingest wakes the watcher on every commit; with nothing to match it
                        // sleeps through them until an automation is activated.
                        await store.workSignals[.automations].wait()
                    case .stayed:
                        await waitForWork()
                    case .moved(let read) where read < batchSize:
                        try await pause(Self.gathering)
                    case .moved:
                        continue  // A full batch: more are waiting.
                    }
                } catch {
                    if Task.isCancelled { return }
                    logger.error("automation watch failed; retrying", metadata: ["error": "\(error)"])
                    try? await clock.sleep(for: .seconds(1))
                }
            }
        }
    }

    private func waitForWork() async {
        await store.workSignals[.activities].wait(orUntil: state.earliestDeadline, on: clock)
    }

    /// What one pass did.
    public enum Pass: Sendable, Equatable {
        /// No automation is active: nothing was read.
        case noAutomations
        /// The cursor did not move: nothing new, a gap still waited for, or the first start.
        case stayed
        /// The cursor moved past the activities read (`read` of them).
        case moved(read: Int)
    }

    /// One pass over the activities after the cursor.
    @discardableResult
    public func runOnce() async throws -> Pass {
        guard let cursor = try await store.watchCursor(Self.cursorName) else {
            // The first start: automations match what arrives from now on, not the history.
            try await store.saveWatchCursor(Self.cursorName, try await store.latestActivityID())
            return .stayed
        }
        // Nothing to match: leave the activities unread. Activating the first automation moves
        // the cursor to the newest activity (``AutomationRepository/setAutomationStatus``).
        let automations = try await store.automations().filter { $0.status == .active }
        guard !automations.isEmpty else { return .noAutomations }
        let batch = try await store.activities(after: cursor, limit: batchSize)
        guard let last = batch.last?.id else { return .stayed }
        let now = clock.now()
        let byID = Dictionary(batch.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        let types = Set(batch.map(\.type))
        var spawns: [ExecutionSpawn] = []
        for automation in automations {
            guard let graph = try? automation.definition.parsedGraph() else { continue }
            let trigger = graph.trigger
            guard types.contains(trigger.event.type), case .activity(let condition) = trigger.event.filter else { continue }
            for id in try await store.activityIDs(after: cursor, through: last, matching: condition, at: now) {
                guard let activity = byID[id] else { continue }
                if let audience = trigger.audience, !(try await store.contact(activity.contactEmail, matches: audience, at: now)) {
                    continue
                }
                spawns.append(
                    ExecutionSpawn(
                        automationID: automation.id, version: automation.version, contactEmail: activity.contactEmail,
                        triggerActivityID: activity.id, firstNodeID: graph.next(after: graph.triggerID),
                        reentry: automation.definition.reentry, dryRun: Self.isDryRun(activity)))
            }
        }
        // One transaction for the whole pass: a write per spawn held SQLite's single writer
        // hundreds of times a second under ingest.
        _ = try await store.spawnExecutions(spawns, at: now)
        try await exits(automations, types: types, byID: byID, cursor: cursor, last: last, now: now)
        try await resumeWaits(batch: batch, byID: byID, cursor: cursor, last: last, now: now)
        let safe = store.commitsInIDOrder ? last : state.safeCursor(after: cursor, seen: batch.map(\.id), now: now)
        guard safe > cursor else { return .stayed }
        try await store.saveWatchCursor(Self.cursorName, safe)
        return .moved(read: batch.count)
    }
}

extension AutomationWatcher {
    /// Ends the executions of automations whose `exit_when` event arrived for their contact.
    func exits(
        _ automations: [Automation], types: Set<String>, byID: [Int64: Activity], cursor: Int64, last: Int64, now: Timestamp
    ) async throws {
        for automation in automations {
            guard let exit = automation.definition.exitEvent, types.contains(exit.type),
                case .activity(let condition) = exit.filter
            else { continue }
            var ended: Set<EmailAddress> = []
            for id in try await store.activityIDs(after: cursor, through: last, matching: condition, at: now) {
                guard let activity = byID[id], ended.insert(activity.contactEmail).inserted else { continue }
                _ = try await store.exitExecutions(
                    automationID: automation.id, email: activity.contactEmail, reason: "Exited: '\(exit.type)' arrived", at: now)
            }
        }
    }

    /// Moves on, through `event`, the waiting executions whose event arrived for their contact.
    func resumeWaits(batch: [Activity], byID: [Int64: Activity], cursor: Int64, last: Int64, now: Timestamp) async throws {
        let contacts = Array(Set(batch.map(\.contactEmail)))
        let waiting = try await store.waitingExecutions(of: contacts)
        guard !waiting.isEmpty else { return }
        var graphs: [String: AutomationGraph] = [:]
        var matches: [String: [Int64]] = [:]  // Activity ids per wait condition, read once per pass.
        var steps: [(execution: Int64, step: StepCommit)] = []
        for execution in waiting {
            guard let nodeID = execution.currentNodeID else { continue }
            let key = "\(execution.automationID):\(execution.version)"
            if graphs[key] == nil, let document = try await store.automationGraph(id: execution.automationID, version: execution.version) {
                graphs[key] = try? AutomationGraphParser.parse(document)
            }
            guard let graph = graphs[key], case .waitForEvent(let wait)? = graph.node(nodeID)?.step,
                case .activity(let condition) = wait.event.filter
            else { continue }
            let matchKey = "\(key):\(nodeID)"
            if matches[matchKey] == nil {
                matches[matchKey] = try await store.activityIDs(after: cursor, through: last, matching: condition, at: now)
            }
            guard let arrived = matches[matchKey]?.first(where: { byID[$0]?.contactEmail == execution.contactEmail }) else { continue }
            steps.append((execution.id, ExecutionStepper.eventArrived(graph, at: nodeID, type: wait.event.type, activityID: arrived, now: now)))
        }
        _ = try await store.commitSteps(steps, at: now)
        if !steps.isEmpty { store.workSignals[.executions].notify() }
    }

    /// `"dry_run": true` in the triggering event's data starts a dry-run execution.
    static func isDryRun(_ activity: Activity) -> Bool {
        guard activity.metadata.containsBytes(of: "dry_run") else { return false }
        return (try? JSONParser.parse(Array(activity.metadata.utf8)))?.objectValue?["dry_run"] == .bool(true)
    }
}
