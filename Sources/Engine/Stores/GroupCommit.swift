import Synchronization

/// Group commit: concurrent writers share one transaction, so durability (an fsync per commit)
/// and per-transaction overhead are paid once per batch instead of once per request.
///
/// There is no background task. A caller that arrives while fewer than `maxConcurrentBatches`
/// batches are in flight leads: it takes up to `maxBatch` waiting items (its own among them),
/// commits them with one call of `commit`, and answers each item's caller. When it is done it
/// takes the next batch from the queue, if any, and hands it to that batch's oldest caller, who
/// commits it in turn. Callers that arrive while every batch slot is busy wait for the next
/// batch. Every caller is answered only after the transaction holding its item has committed,
/// with its own result (`commit` must answer each item on its own).
public final class GroupCommit<Item: Sendable, Output: Sendable>: Sendable {
    /// Commits `items` in one transaction, in order, answering one result per item.
    public typealias Commit = @Sendable ([Item]) async -> [Result<Output, any Error>]

    private let maxBatch: Int
    private let maxConcurrentBatches: Int
    private let commit: Commit
    private let state = Mutex(State())

    private struct State {
        var waiting: [Ticket] = []
        /// Batches being committed (or handed over to be).
        var inFlight = 0
    }

    /// One caller's place in the queue.
    private final class Ticket: Sendable {
        enum Signal: Sendable {
            case done(Result<Output, any Error>)
            /// Commit this batch (it starts with this ticket).
            case lead([Ticket])
        }

        let item: Item
        private let slot = Mutex<(signals: [Signal], waiter: CheckedContinuation<Signal, Never>?)>(([], nil))

        init(_ item: Item) { self.item = item }

        func send(_ signal: Signal) {
            let waiter = slot.withLock { slot -> CheckedContinuation<Signal, Never>? in
                if let waiter = slot.waiter {
                    slot.waiter = nil
                    return waiter
                }
                slot.signals.append(signal)
                return nil
            }
            waiter?.resume(returning: signal)
        }

        func next() async -> Signal {
            await withCheckedContinuation { continuation in
                let ready = slot.withLock { slot -> Signal? in
                    if !slot.signals.isEmpty { return slot.signals.removeFirst() }
                    slot.waiter = continuation
                    return nil
                }
                if let ready { continuation.resume(returning: ready) }
            }
        }
    }

    public init(maxBatch: Int, maxConcurrentBatches: Int = 1, commit: @escaping Commit) {
        self.maxBatch = max(1, maxBatch)
        self.maxConcurrentBatches = max(1, maxConcurrentBatches)
        self.commit = commit
    }

    /// Callers waiting for a batch; for tests.
    package var waitingCount: Int { state.withLock { $0.waiting.count } }

    /// Adds `item` to the next batch and returns its result once that batch has committed.
    public func submit(_ item: Item) async throws -> Output {
        let ticket = Ticket(item)
        let batch = state.withLock { state -> [Ticket]? in
            state.waiting.append(ticket)
            guard state.inFlight < maxConcurrentBatches else { return nil }
            state.inFlight += 1
            return takeBatch(&state)
        }
        if let batch { await lead(batch) }
        while true {
            switch await ticket.next() {
            case .done(let result): return try result.get()
            case .lead(let batch): await lead(batch)
            }
        }
    }

    private func takeBatch(_ state: inout State) -> [Ticket] {
        let count = min(maxBatch, state.waiting.count)
        defer { state.waiting.removeFirst(count) }
        return Array(state.waiting.prefix(count))
    }

    /// Commits `batch`, answers it, and passes the batch slot on (or frees it when no one waits).
    private func lead(_ batch: [Ticket]) async {
        let results = await commit(batch.map(\.item))
        for (index, ticket) in batch.enumerated() {
            ticket.send(.done(index < results.count ? results[index] : .failure(StoreError.unavailable("no result for a batched write"))))
        }
        let next = state.withLock { state -> [Ticket]? in
            guard !state.waiting.isEmpty else {
                state.inFlight -= 1
                return nil
            }
            return takeBatch(&state)
        }
        if let next, let first = next.first { first.send(.lead(next)) }
    }
}

/// One delivery waiting for the next group commit, with its archived headers already encoded.
struct PendingIngest: Sendable {
    var delivery: InboundDelivery
    var headers: String
    var activities: [NewActivity]
    var suppressions: [SuppressionChange]
    /// When the caller handed it over: a store with a call deadline counts the wait for a batch
    /// slot against it, so the caller is answered within the deadline of its own call.
    let submittedAt = ContinuousClock.now

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
