import Logging
import ServiceLifecycle

/// Fans scheduled campaigns out into the send ledger when they are due (ENGINE.md §5). It
/// sleeps on the clock until the earliest scheduled campaign, or until one is scheduled (any
/// instance), so "send now" starts at once and "send at 09:00" within a second of 09:00; the
/// sender then delivers the rows at the configured rate.
public struct CampaignWorker: Service {
    let store: any CampaignRepository & WorkSignalling
    let clock: any WallClock
    let logger: Logger
    private let startAfter: StartupGate?

    public init(store: any CampaignRepository & WorkSignalling, clock: any WallClock, logger: Logger, startAfter: StartupGate? = nil) {
        self.store = store
        self.clock = clock
        self.logger = logger
        self.startAfter = startAfter
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

    /// Fans out the next due campaign, if any; answers it and its recipients.
    @discardableResult
    public func runOnce() async throws -> (campaignID: Int64, recipients: Int)? {
        let started = clock.now()
        guard let done = try await store.fanOutNextCampaign(now: started) else { return nil }
        let seconds = Double(clock.now().microseconds - started.microseconds) / 1_000_000
        logger.notice(
            "campaign fanned out",
            metadata: ["campaign": "\(done.campaignID)", "recipients": "\(done.recipients)", "seconds": "\(seconds)"])
        return done
    }
}
