import Logging
import ServiceLifecycle

/// The loop of a worker that must not be cut in the middle of a pass (the sender's lanes, the
/// automation walker): passes until shutdown, waiting for work after a pass that found none.
///
/// On graceful shutdown only the waits end at once; a pass under way finishes, so what it
/// claimed is recorded instead of waiting out its lease after the restart (`cortex serve`
/// bounds the whole shutdown, and a pass may bound itself, as the sender's does). A failed pass
/// is logged and tried again a second later.
enum PassLoop {
    /// `pass` answers whether it found work; `wait` sleeps until there may be some.
    static func run(
        clock: any WallClock, logger: Logger, failure: Logger.Message, pass: () async throws -> Bool,
        wait: @escaping @Sendable () async throws -> Void
    ) async {
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            do {
                if try await !pass() { try await cancelWhenGracefulShutdown(wait) }
            } catch {
                // A wait or a pass cut short by shutdown: stop quietly.
                if Task.isCancelled || Task.isShuttingDownGracefully { return }
                logger.error(failure, metadata: ["error": "\(error)"])
                try? await cancelWhenGracefulShutdown { try await clock.sleep(for: .seconds(1)) }
            }
        }
    }
}
