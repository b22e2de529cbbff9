import Logging
import ServiceLifecycle
import Synchronization

/// Fans scheduled campaigns out into the send ledger when they are due (ENGINE.md §5). It
/// sleeps on the clock until the earliest scheduled campaign, or until one is scheduled (any
/// instance), so "send now" starts at once and "send at 09:00" within a second of 09:00; the
/// sender then delivers the rows at the configured rate.
public struct CampaignWorker: Service {
    let store: any CampaignRepository & WorkSignalling
    let clock: any WallClock
    let logger: Logger
    private let startAfter: StartupGate?
    /// Contact ids per fan-out transaction. 200,000 (about 0.7 s on SQLite, 3 s on PostgreSQL
    /// here): a million-contact audience never holds one transaction (or SQLite's one writer)
    /// for long, the sender starts on the first chunk, and 100,000 recipients are still one
    /// statement (smaller chunks made the fan-out race the sender for the CPU).
    let contactsPerChunk: Int64
    private let progress = FanOutProgress()
    /// Rows one chunk queues before the ledger's statistics are refreshed.
    static let refreshAfter = 10_000

    public init(
        store: any CampaignRepository & WorkSignalling, clock: any WallClock, logger: Logger, startAfter: StartupGate? = nil,
        contactsPerChunk: Int64 = 200_000
    ) {
        self.store = store
        self.clock = clock
        self.logger = logger
        self.startAfter = startAfter
        self.contactsPerChunk = contactsPerChunk
    }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            await startAfter?.waitUnlessCancelled()
            while !Task.isCancelled {
                do {
                    if try await runOnce() == nil {
                        await store.workSignals[.campaigns].wait(orUntil: try await store.nextCampaignDue(), on: clock)
                    }
                } catch {
                    if Task.isCancelled { return }
                    logger.error("campaign fan-out failed; retrying", metadata: ["error": "\(error)"])
                    try? await clock.sleep(for: .seconds(1))
                }
            }
        }
    }

    /// Fans out the next chunk of the campaign due earliest, if any, and answers it. The last
    /// chunk logs the campaign's recipients and how long its fan-out took (in this process).
    @discardableResult
    public func runOnce() async throws -> CampaignFanOutStep? {
        let started = clock.now()
        guard let step = try await store.fanOutNextCampaign(now: started, contactsPerChunk: contactsPerChunk) else { return nil }
        let total = progress.add(step, startedAt: started)
        if step.finished {
            let seconds = Double(clock.now().microseconds - total.since.microseconds) / 1_000_000
            logger.notice(
                "campaign fanned out",
                metadata: ["campaign": "\(step.campaignID)", "recipients": "\(total.recipients)", "seconds": "\(seconds)"])
        }
        // After the first large chunk and after the last of several, the ledger has changed
        // enough for the planner's statistics to mislead the send's queries. Not part of the
        // fan-out: the rows are committed and the sender is already at them.
        if (total.chunks == 1 && step.recipients >= Self.refreshAfter) || (step.finished && total.chunks > 1) {
            try await store.refreshLedgerStatistics()
        }
        return step
    }
}

/// The chunks fanned out so far, per campaign, for the log line of its last.
private final class FanOutProgress: Sendable {
    private let state = Mutex<[Int64: (since: Timestamp, recipients: Int, chunks: Int)]>([:])

    func add(_ step: CampaignFanOutStep, startedAt: Timestamp) -> (since: Timestamp, recipients: Int, chunks: Int) {
        state.withLock { totals in
            var total = totals[step.campaignID] ?? (startedAt, 0, 0)
            total.recipients += step.recipients
            total.chunks += 1
            totals[step.campaignID] = step.finished ? nil : total
            return total
        }
    }
}
