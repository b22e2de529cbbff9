import Logging
import ServiceLifecycle

/// Keeps the raw archive from growing without bound: removes the bodies and headers of archived
/// deliveries older than the retention period, keeping each row's verdict and dedupe key (see
/// ``Store/pruneInboundBodies(receivedBefore:limit:at:)``). It runs once at start, then once
/// per `interval`, and stops at once on graceful shutdown.
public struct ArchivePruner: Service {
    let store: any InboundArchive
    let clock: any WallClock
    let retentionSeconds: Int64
    let batchSize: Int
    let interval: Duration
    let logger: Logger
    /// Waits between passes: the clock's sleep, unless a test passes one it releases by hand.
    private let pause: @Sendable (Duration) async throws -> Void
    /// When set, the loop starts only once this opens (after migrations).
    private let startAfter: StartupGate?

    /// - Parameters:
    ///   - retentionDays: bodies of deliveries received more than this many days ago are pruned.
    ///   - batchSize: rows per transaction. Small enough that one batch holds SQLite's single
    ///     writer for milliseconds, so ingest never waits long behind the pruner.
    ///   - interval: time between passes. Retention is counted in days, so an hour is prompt.
    public init(
        store: any InboundArchive, clock: any WallClock, retentionDays: Int, batchSize: Int = 1_000,
        interval: Duration = .seconds(3_600), logger: Logger,
        pause: (@Sendable (Duration) async throws -> Void)? = nil,
        startAfter: StartupGate? = nil
    ) {
        self.store = store
        self.clock = clock
        self.retentionSeconds = Int64(retentionDays) * 86_400
        self.batchSize = batchSize
        self.interval = interval
        self.logger = logger
        self.pause = pause ?? { try await clock.sleep(for: $0) }
        self.startAfter = startAfter
    }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            await startAfter?.waitUnlessCancelled()
            while !Task.isCancelled {
                do {
                    _ = try await runOnce()
                } catch {
                    // A database call cut short by shutdown surfaces as a store error: stop quietly.
                    if Task.isCancelled { return }
                    // Nothing is lost by waiting: the next pass prunes what this one did not.
                    logger.error("archive pruning failed; retrying at the next pass", metadata: ["error": "\(error)"])
                }
                do { try await pause(interval) } catch { return }
            }
        }
    }

    /// One pass: prunes batch after batch until a batch finds fewer rows than it may take.
    /// Answers how many rows it pruned.
    public func runOnce() async throws -> Int {
        let cutoff = clock.now().adding(seconds: -retentionSeconds)
        var total = 0
        while !Task.isCancelled {
            let pruned = try await store.pruneInboundBodies(receivedBefore: cutoff, limit: batchSize, at: clock.now())
            total += pruned
            if pruned < batchSize { break }
        }
        if total > 0 {
            logger.info(
                "pruned archived bodies",
                metadata: ["rows": "\(total)", "received_before": "\(RFC3339.format(cutoff))"])
        }
        return total
    }
}
