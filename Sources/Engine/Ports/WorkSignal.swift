import Synchronization

/// Wakes idle workers when there is new work, without polling.
///
/// A `notify()` with nobody waiting is remembered, so a worker that checks for work and then
/// waits can never miss a wake-up that arrived in between.
public final class WorkSignal: Sendable {
    private struct State {
        var pending = false
        var waiters: [Int: CheckedContinuation<Void, Never>] = [:]
        var nextID = 0
    }

    private let state = Mutex(State())

    public init() {}

    /// Wakes every waiting worker, or the next one to wait.
    public func notify() {
        let waiters = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            guard !state.waiters.isEmpty else {
                state.pending = true
                return []
            }
            defer { state.waiters = [:] }
            return Array(state.waiters.values)
        }
        for waiter in waiters { waiter.resume() }
    }

    /// How many tasks wait now; tests wait for waiters to be in place before they notify.
    package var waiterCount: Int {
        state.withLock { $0.waiters.count }
    }

    /// Returns after the next `notify()` (at once if one is pending), or when the task is cancelled.
    public func wait() async {
        let id = state.withLock { state -> Int in
            state.nextID += 1
            return state.nextID
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let resumeNow = state.withLock { state -> Bool in
                    if state.pending || Task.isCancelled {
                        state.pending = false
                        return true
                    }
                    state.waiters[id] = continuation
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        } onCancel: {
            let waiter = state.withLock { $0.waiters.removeValue(forKey: id) }
            waiter?.resume()
        }
    }
}

extension WorkSignal {
    /// Returns after the next `notify()` or, when `deadline` is given, once `clock` reaches it,
    /// whichever comes first: how an idle worker sleeps until new work or its next due time.
    public func wait(orUntil deadline: Timestamp?, on clock: any WallClock) async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.wait() }
            if let deadline { group.addTask { try? await clock.sleep(until: deadline) } }
            await group.next()
            group.cancelAll()
        }
    }
}

/// Where workers wait for new work: notified, by topic, when work is added, in this process and,
/// on PostgreSQL, in every instance (LISTEN/NOTIFY, a channel per topic), so idle workers wake
/// at once instead of polling. Each queue is a table of its own (the send ledger, the
/// executions) that workers claim under a lease.
public protocol WorkSignalling: Sendable {
    var workSignals: WorkSignals { get }
}

/// Which kind of worker a wake-up is for. Each has its own ``WorkSignal`` (and on PostgreSQL its
/// own NOTIFY channel), so a wake-up meant for one kind is never taken by another's wait: with
/// one signal for all, a notify for the sender set the one pending flag, and whichever worker
/// waited next took it, leaving the sender asleep.
public enum WorkTopic: String, CaseIterable, Sendable {
    /// The send ledger's queued mail: the sender.
    case email
    /// Executions to run: spawned, or woken earlier than the walker planned.
    case executions
    /// New activities for the automation watcher.
    case activities
    /// An automation was activated: the watcher, asleep while none was active, starts reading.
    case automations
    /// A campaign was scheduled: the campaign worker sleeps until it is due.
    case campaigns

    /// The PostgreSQL channel its wake-ups travel on between instances.
    public var channel: String { "cortex_\(rawValue)" }
}

/// One ``WorkSignal`` per ``WorkTopic``.
public final class WorkSignals: Sendable {
    private let signals: [WorkTopic: WorkSignal]

    public init() {
        signals = Dictionary(uniqueKeysWithValues: WorkTopic.allCases.map { ($0, WorkSignal()) })
    }

    public subscript(topic: WorkTopic) -> WorkSignal {
        signals[topic]!
    }

    /// Wakes every kind of worker: after a lost connection to the other instances, any of them
    /// may have missed a wake-up.
    public func notifyAll() {
        for signal in signals.values { signal.notify() }
    }
}
