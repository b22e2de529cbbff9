import Synchronization

/// Group commit: concurrent writers share one transaction, so durability (an fsync per commit)
/// is paid once per batch instead of once per request.
///
/// There is no background task. The first caller to find no batch in progress becomes the
/// leader: it takes up to `maxBatch` waiting items (its own first), commits them with one call
/// of `commit`, answers each item's caller, and hands leadership to the oldest caller still
/// waiting, if any. Callers that arrive while a batch commits wait for the next one. Every caller
/// is answered only after the transaction holding its item has committed, and with its own
/// result: `commit` isolates items (a savepoint each), so one bad item does not fail the others.
public final class GroupCommit<Item: Sendable, Output: Sendable>: Sendable {
    /// Commits `items` in one transaction, in order, answering one result per item.
    public typealias Commit = @Sendable ([Item]) async -> [Result<Output, any Error>]

    private let maxBatch: Int
    private let commit: Commit
    private let state = Mutex(State())

    private struct State {
        var waiting: [Ticket] = []
        /// Whether some caller is leading (committing or about to).
        var leading = false
    }

    /// One caller's place in the queue.
    private final class Ticket: Sendable {
        enum Signal { case done(Result<Output, any Error>), lead }
        let item: Item
        private let slot = Mutex<(signal: Signal?, waiter: CheckedContinuation<Signal, Never>?)>((nil, nil))

        init(_ item: Item) { self.item = item }

        func send(_ signal: Signal) {
            let waiter = slot.withLock { slot -> CheckedContinuation<Signal, Never>? in
                if let waiter = slot.waiter {
                    slot.waiter = nil
                    return waiter
                }
                slot.signal = signal
                return nil
            }
            waiter?.resume(returning: signal)
        }

        func next() async -> Signal {
            await withCheckedContinuation { continuation in
                let ready = slot.withLock { slot -> Signal? in
                    if let signal = slot.signal {
                        slot.signal = nil
                        return signal
                    }
                    slot.waiter = continuation
                    return nil
                }
                if let ready { continuation.resume(returning: ready) }
            }
        }
    }

    public init(maxBatch: Int, commit: @escaping Commit) {
        self.maxBatch = max(1, maxBatch)
        self.commit = commit
    }

    /// Callers waiting for a batch; for tests.
    package var waitingCount: Int { state.withLock { $0.waiting.count } }

    /// Adds `item` to the next batch and returns its result once that batch has committed.
    public func submit(_ item: Item) async throws -> Output {
        let ticket = Ticket(item)
        let leads = state.withLock { state -> Bool in
            state.waiting.append(ticket)
            guard !state.leading else { return false }
            state.leading = true
            return true
        }
        if leads { await lead() }
        while true {
            switch await ticket.next() {
            case .done(let result): return try result.get()
            case .lead: await lead()
            }
        }
    }

    /// Commits one batch, answers it, and passes leadership on (or gives it up when no one waits).
    private func lead() async {
        let batch = state.withLock { state -> [Ticket] in
            let count = min(maxBatch, state.waiting.count)
            let batch = Array(state.waiting.prefix(count))
            state.waiting.removeFirst(count)
            return batch
        }
        let results = await commit(batch.map(\.item))
        for (index, ticket) in batch.enumerated() {
            ticket.send(.done(index < results.count ? results[index] : .failure(StoreError.unavailable("no result for a batched write"))))
        }
        let next = state.withLock { state -> Ticket? in
            guard let next = state.waiting.first else {
                state.leading = false
                return nil
            }
            return next
        }
        next?.send(.lead)
    }
}

/// One delivery waiting for the next group commit, with its archived headers already encoded.
struct PendingIngest: Sendable {
    var delivery: InboundDelivery
    var headers: String
    var activities: [NewActivity]
    var suppressions: [SuppressionChange]

    init(delivery: InboundDelivery, activities: [NewActivity], suppressions: [SuppressionChange]) {
        self.delivery = delivery
        self.headers = delivery.headersJSON
        self.activities = activities
        self.suppressions = suppressions
    }
}

/// A store whose ingests are group-committed; lets the conformance suite commit a chosen batch.
package protocol GroupCommittingStore: Store {
    /// Commits `deliveries` as one batch, as concurrent ingests would be.
    func ingestTogether(_ deliveries: [(InboundDelivery, [NewActivity])]) async -> [Result<IngestOutcome, any Error>]
    /// Runs SQL as is; tests use it to plant a trigger that refuses one delivery.
    func execute(rawSQL: String) async throws
}
