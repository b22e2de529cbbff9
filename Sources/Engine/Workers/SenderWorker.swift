import Logging
import ServiceLifecycle
import Synchronization

/// Sends what the ledger holds: claims due messages in batches the transport accepts, paces them
/// with a token bucket, and records each message's own result. It wakes at once when a message is
/// queued and otherwise sleeps until the next retry is due.
///
/// On graceful shutdown it claims nothing more, and a batch it is sending gets `shutdownGrace`
/// to reach the provider and have its results recorded. A batch still unfinished then is cut
/// short and put back in the queue at once (see `runOnce()`), so no row waits out its lease.
public struct SenderWorker: Service {
    /// What one pass did, for the loop and for tests.
    public enum Pass: Sendable, Equatable {
        /// Nothing was due.
        case idle
        /// `count` messages were handled.
        case sent(count: Int)
    }

    let store: any EmailLedger & WorkSignalling
    let transport: any MailTransport
    let clock: any WallClock
    let policy: RetryPolicy
    let leaseSeconds: Int64
    let logger: Logger
    /// `nil`: no rate limit.
    private let bucket: RateLimiter?
    /// Waits before a paced send: the clock's sleep, unless a test passes one that only records.
    private let pause: @Sendable (Duration) async throws -> Void
    private let jitter: @Sendable () -> Double
    /// Why sending is paused (a configuration error the provider reported), for `/readyz`.
    public let status: SenderStatus
    /// When set, the loop starts only once this opens (after migrations).
    private let startAfter: StartupGate?
    /// Renders campaign rows at send time; `nil` without `CORTEX_PUBLIC_URL` (such rows fail).
    private let campaignMail: CampaignMail?
    /// How many passes run at once (each claims its own leased batch).
    let lanes: Int
    /// How long a batch being sent may still take once graceful shutdown begins.
    let shutdownGrace: Duration

    /// The default `shutdownGrace`: a Postmark batch call answers in well under a second, and
    /// `cortex serve` bounds its whole shutdown (`ServeCommand.shutdownBound`) above this.
    public static let defaultShutdownGrace: Duration = .seconds(10)
    /// Only one lane at a time is between handing its batch over and recording the outcome.
    private let turn = ProviderTurn()

    public init(
        store: any EmailLedger & WorkSignalling, transport: any MailTransport, clock: any WallClock, ratePerSecond: Double?,
        policy: RetryPolicy = RetryPolicy(), leaseSeconds: Int64 = 120, logger: Logger,
        pause: (@Sendable (Duration) async throws -> Void)? = nil,
        jitter: @escaping @Sendable () -> Double = { Double.random(in: 0..<1) },
        status: SenderStatus = SenderStatus(), startAfter: StartupGate? = nil, campaignMail: CampaignMail? = nil,
        lanes: Int = 2, shutdownGrace: Duration = SenderWorker.defaultShutdownGrace
    ) {
        self.lanes = max(1, lanes)
        self.shutdownGrace = shutdownGrace
        self.startAfter = startAfter
        self.campaignMail = campaignMail
        self.store = store
        self.transport = transport
        self.clock = clock
        self.policy = policy
        self.leaseSeconds = leaseSeconds
        self.logger = logger
        self.bucket = ratePerSecond.map { RateLimiter(TokenBucket(rate: $0)) }
        self.pause = pause ?? { try await clock.sleep(for: $0) }
        self.jitter = jitter
        self.status = status
    }

    /// Runs `lanes` loops of passes side by side. Two by default: a pass spends most of its time
    /// in the store (the claim and the record, each a commit, SQLite's one writer and an fsync)
    /// or in the CPU and the provider (rendering, sending), and one loop leaves the other idle.
    /// With two, one lane claims and renders while the other sends and records. Each lane claims
    /// its own batch under a lease, so no message goes to two lanes; they share the rate's bucket,
    /// and take turns from the send to the record (``ProviderTurn``), so a crash leaves at most
    /// one batch at the provider unrecorded.
    public func run() async throws {
        await cancelWhenGracefulShutdown { await startAfter?.waitUnlessCancelled() }
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<lanes { group.addTask { await self.loop() } }
        }
    }

    /// Passes until shutdown (``PassLoop``); a pass under way on graceful shutdown is left to
    /// finish within its grace (`boundedPass()`), so its batch is not cut at the provider.
    private func loop() async {
        await PassLoop.run(
            clock: clock, logger: logger, failure: "sender pass failed; retrying", pass: { try await boundedPass() != .idle },
            wait: { try await self.waitForWork() })
    }

    /// What ends first in `boundedPass()`.
    private enum PassEvent: Sendable {
        case finished(Result<Pass, any Error>)
        case graceOver
        case timerStopped
    }

    /// One pass that, once graceful shutdown begins, has `shutdownGrace` (real time, whatever the
    /// injected clock says: it bounds how long the process takes to exit) to end before it is
    /// cancelled; a cancelled pass puts its batch back in the queue.
    private func boundedPass() async throws -> Pass {
        let grace = shutdownGrace
        let outcome = await withTaskGroup(of: PassEvent.self) { group in
            group.addTask {
                do { return .finished(.success(try await self.runOnce())) } catch { return .finished(.failure(error)) }
            }
            group.addTask {
                do {
                    try await gracefulShutdown()
                    try await Task.sleep(for: grace)
                    return .graceOver
                } catch {
                    return .timerStopped
                }
            }
            var outcome: Result<Pass, any Error> = .failure(CancellationError())
            for await event in group {
                switch event {
                case .finished(let result):
                    outcome = result
                    group.cancelAll()
                case .graceOver:
                    logger.warning("shutdown: a batch outlasted \(grace); cutting it short and putting it back in the queue")
                    group.cancelAll()
                case .timerStopped:
                    break
                }
            }
            return outcome
        }
        return try outcome.get()
    }

    /// Sleeps until a message is queued (any instance) or the next retry is due, by the clock.
    private func waitForWork() async throws {
        await store.workSignals[.email].wait(orUntil: try await store.nextEmailDue(), on: clock)
    }

    /// The most messages one pass claims. Pacing happens after the claim, so at a low rate the
    /// batch is kept small enough to be sent within a quarter of its lease (half, behind the other
    /// lane's batch); otherwise another sender could take the messages over while this one still
    /// waits to send them. And a batch is never more than half a second's worth: it reaches the
    /// provider in one call, and batches a second's worth each, arriving a few milliseconds
    /// closer than their tokens were taken, showed the provider more than the rate plus one
    /// second's worth in a window (503 at 500/s).
    var batchLimit: Int {
        guard let rate = bucket?.state.withLock({ $0.configuredRate }) else { return transport.maxBatchSize }
        return min(transport.maxBatchSize, max(1, Int(rate / 2)), max(1, Int(rate * Double(leaseSeconds) / 4)))
    }

    /// One pass: claim a batch, pace it, send it, record every result.
    ///
    /// The claim and every record run to their end even if the pass is cancelled (`settled`): a
    /// claim or a record cut in the middle would leave rows `sending` until their lease runs out.
    /// A pass cancelled before all its rows are recorded (shutdown past the grace) puts them
    /// back in the queue, due at once: rows not yet handed to the provider get their attempt
    /// back; rows whose send was cut keep it, and may reach the provider twice, as after a crash.
    public func runOnce() async throws -> Pass {
        let claimedAt = clock.now()
        let (store, limit, leaseSeconds) = (store, batchLimit, leaseSeconds)
        var claimed = try await Self.settled {
            try await store.claimEmailJobs(limit: limit, now: claimedAt, leaseSeconds: leaseSeconds)
        }
        guard !claimed.isEmpty else { return .idle }
        let claimedCount = claimed.count
        var unrecorded = claimed.map(\.id)
        var handedOver = false
        func record(_ outcomes: [(id: Int64, outcome: EmailOutcome)], at time: Timestamp) async throws {
            try await Self.settled { try await store.recordEmailOutcomes(outcomes, at: time) }
            let recorded = Set(outcomes.map(\.id))
            unrecorded.removeAll { recorded.contains($0) }
        }
        do {
            if claimed.contains(where: { $0.campaignID != nil }) {
                var unsendable: [(id: Int64, outcome: EmailOutcome)] = []
                let rendered =
                    try await campaignMail?.render(claimed)
                    ?? claimed.map {
                        $0.campaignID == nil ? .success($0) : .failure(CampaignMailFailure("CORTEX_PUBLIC_URL is not set"))
                    }
                claimed = zip(claimed, rendered).compactMap { job, result in
                    switch result {
                    case .success(let ready): return ready
                    case .failure(let failure):
                        unsendable.append((job.id, .failed(reason: failure.reason, suppressRecipient: false)))
                        return nil
                    }
                }
                if !unsendable.isEmpty { try await record(unsendable, at: claimedAt) }
                guard !claimed.isEmpty else { return .sent(count: claimedCount) }
            }
            // Dry-run mail is recorded as sent by `dry-run` and never reaches the transport or its rate.
            let dryRuns = claimed.filter(\.message.dryRun)
            if !dryRuns.isEmpty {
                try await record(
                    dryRuns.map { ($0.id, .sent(provider: DryRunMail.provider, messageID: "dry-run-\($0.id)", at: claimedAt)) },
                    at: claimedAt)
            }
            let jobs = claimed.filter { !$0.message.dryRun }
            guard !jobs.isEmpty else { return .sent(count: claimedCount) }
            // From the tokens to the record, one lane at a time: a crash then finds at most one
            // batch handed over without its outcome (the other lane's is claimed, not yet sent).
            try await turn.take {
                var jobs = jobs
                if let bucket {
                    // Tokens are taken now, just before the send, not at the claim: the claim, the
                    // dry runs and the rendering take time, and pacing from the claim let two
                    // batches reach the provider closer together than the rate allows.
                    let now = clock.now()
                    let wait = bucket.state.withLock { $0.take(jobs.count, now: now) }
                    if wait > .zero { try await pause(wait) }
                }
                var leaseEnd = claimedAt.adding(seconds: leaseSeconds)
                let now = clock.now()
                if leaseEnd.microseconds - now.microseconds < leaseSeconds * 500_000 {
                    // Half the lease is gone (waiting for the other lane, the tokens, a slow
                    // store): once it runs out another sender may claim and send these messages,
                    // and sending them here too would deliver them twice without a crash. Keep
                    // only those still held under this claim's lease, leased again for the send.
                    let (ids, heldUntil, until) = (jobs.map(\.id), leaseEnd, now.adding(seconds: leaseSeconds))
                    let mine = try await Self.settled { try await store.renewEmailLeases(ids, heldUntil: heldUntil, until: until) }
                    leaseEnd = until
                    // Rows another sender holds now are not this pass's to record or put back.
                    let taken = Set(ids).subtracting(mine)
                    unrecorded.removeAll { taken.contains($0) }
                    jobs = jobs.filter { mine.contains($0.id) }
                    if jobs.count < ids.count {
                        logger.warning(
                            "a claimed batch outlived its lease; another sender has its messages",
                            metadata: ["messages": "\(ids.count - jobs.count)"])
                    }
                    guard !jobs.isEmpty else { return }
                }
                handedOver = true
                let outcomes = try await deliver(jobs)
                // Tried again while the store is unavailable (a slow or lost database) until the
                // batch's lease ends: given up at once, the record left the batch `sending`, and
                // after its lease it was sent a second time without any crash.
                var failures = 0
                while true {
                    do {
                        try await record(outcomes, at: clock.now())
                        return
                    } catch let error as StoreError where error.kind == .unavailable {
                        failures += 1
                        guard !Task.isCancelled, clock.now() < leaseEnd else { throw error }
                        logger.error(
                            "recording a sent batch failed; trying again",
                            metadata: ["error": "\(error)", "failures": "\(failures)"])
                        try await pause(.seconds(min(failures, 5)))
                    }
                }
            }
            return .sent(count: claimedCount)
        } catch {
            // Only a pass cut short (shutdown) puts its rows back; any other failure leaves them
            // to their lease, so a fault that repeats still spends attempts and ends.
            if Task.isCancelled, !unrecorded.isEmpty {
                let now = clock.now()
                let back: EmailOutcome =
                    handedOver
                    ? .retry(reason: "the send was cut short by shutdown; its outcome is unknown", retryAt: now)
                    : .hold(reason: "put back in the queue at shutdown before sending", retryAt: now)
                let count = unrecorded.count
                do {
                    try await record(unrecorded.map { ($0, back) }, at: now)
                    logger.notice("shutdown: \(count) claimed messages put back in the queue")
                } catch {
                    logger.error("shutdown: claimed messages wait for their lease", metadata: ["error": "\(error)"])
                }
            }
            throw error
        }
    }

    /// Sends `jobs` in one call and maps the provider's answer to each row's outcome. A call cut
    /// short by shutdown is no word from the provider: no back-off, no attempt spent beyond this
    /// one, no pause; it throws, and `runOnce()` puts the batch back.
    private func deliver(_ jobs: [EmailJob]) async throws -> [(id: Int64, outcome: EmailOutcome)] {
        let batch = jobs.map { OutgoingEmail(jobID: $0.id, message: $0.message) }
        do throws(TransportError) {
            let results = try await transport.send(batch)
            let now = clock.now()
            status.resume()
            bucket?.state.withLock { $0.recover() }
            return jobs.enumerated().map { index, job in
                let result = index < results.count ? results[index] : .deferred(reason: "no result from the provider", retryAfter: nil)
                return (job.id, outcome(of: result, for: job, now: now))
            }
        } catch {
            if Task.isCancelled { throw CancellationError() }
            let now = clock.now()
            switch error.kind {
            case .throttled(let retryAfter):
                bucket?.state.withLock { $0.backOff() }
                logger.warning("provider throttled; backing off", metadata: ["error": "\(error.message)"])
                return jobs.map { ($0.id, outcome(of: .deferred(reason: error.message, retryAfter: retryAfter), for: $0, now: now)) }
            case .misconfigured:
                // Not the messages' fault: hold them without spending attempts until fixed.
                status.pause(error.message)
                logger.error("sending paused: the provider refused the configuration", metadata: ["error": "\(error.message)"])
                return jobs.map { ($0.id, .hold(reason: error.message, retryAt: now.adding(seconds: 60))) }
            }
        }
    }

    /// Runs a store call to its end even when the calling task is cancelled: a new unstructured
    /// task does not inherit cancellation. The store's own timeouts bound it.
    private static func settled<T: Sendable>(_ body: @escaping @Sendable () async throws -> T) async throws -> T {
        try await Task { try await body() }.value
    }

    private func outcome(of result: DeliveryResult, for job: EmailJob, now: Timestamp) -> EmailOutcome {
        switch result {
        case .sent(let messageID):
            return .sent(provider: transport.name, messageID: messageID, at: now)
        case .rejected(let reason, let suppress):
            return .failed(reason: reason, suppressRecipient: suppress)
        case .deferred(let reason, let retryAfter):
            guard let retryAt = policy.nextAttempt(after: job.attempts, now: now, retryAfter: retryAfter, jitter: jitter())
            else { return .failed(reason: "gave up after \(job.attempts) attempts: \(reason)", suppressRecipient: false) }
            return .retry(reason: reason, retryAt: retryAt)
        }
    }
}

/// Mail of dry-run executions.
enum DryRunMail {
    /// The provider such mail is recorded under, whatever transport is configured.
    static let provider = "dry-run"
}

/// Whether the sender is paused by a configuration error, and why.
public final class SenderStatus: Sendable {
    private let reason = Mutex<String?>(nil)

    public init() {}

    public var pausedReason: String? { reason.withLock { $0 } }

    func pause(_ why: String) { reason.withLock { $0 = why } }

    func resume() { reason.withLock { $0 = nil } }
}

/// The sender's token bucket, shared by its passes.
final class RateLimiter: Sendable {
    let state: Mutex<TokenBucket>

    init(_ bucket: TokenBucket) {
        state = Mutex(bucket)
    }
}
