import ArgumentParser
import Hummingbird
import Logging
import ServiceLifecycle
import UnixSignals

struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the HTTP server and all workers.",
        discussion: """
            With no configuration at all, serves on 127.0.0.1:8080 with SQLite at ./cortex.sqlite and \
            the dry-run mail provider. Applies pending migrations first. Stops gracefully on SIGINT or SIGTERM: \
            no new connections, in-flight requests answered, the batch being sent finished (at most 10 s), \
            then exit 0, within 25 s.
            """
    )

    /// The most a graceful shutdown may take before what is left is cancelled: 25 s, inside the
    /// 30 s a supervisor (systemd's `TimeoutStopSec`, Kubernetes' grace period) waits by default
    /// before SIGKILL. The sender's own grace for a batch (`SenderWorker.defaultShutdownGrace`)
    /// is shorter, so a batch is finished or put back in the queue before this bound cuts it.
    static let shutdownBound: Duration = .seconds(25)
    /// After the bound, how long cancellation may take before ServiceLifecycle gives up (a
    /// crash): the last resort against a call that ignores cancellation.
    static let cancellationBound: Duration = .seconds(10)

    @OptionGroup var config: ConfigOptions

    func run() async throws {
        let reader = try await CortexConfiguration.reader(file: config.file)
        let app: any ApplicationProtocol
        do {
            app = try await buildApplication(reader: reader)
        } catch let error as ConfigurationError {
            throw ValidationError(error.message)
        }
        // As `app.runService()`, which installs the SIGINT/SIGTERM handlers and drains in-flight
        // requests on shutdown, but with a bound on the whole shutdown.
        try await Self.serviceGroup(app).run()
        app.logger.notice("cortex stopped")
    }

    static func serviceGroup(_ app: any ApplicationProtocol) -> ServiceGroup {
        var configuration = ServiceGroupConfiguration(
            services: [app, ShutdownNotice(logger: app.logger)], gracefulShutdownSignals: [.sigterm, .sigint],
            logger: app.logger)
        configuration.maximumGracefulShutdownDuration = shutdownBound
        configuration.maximumCancellationDuration = cancellationBound
        return ServiceGroup(configuration: configuration)
    }
}

/// Logs when a graceful shutdown begins, so the log shows how long it took. Last in the group,
/// it is the first to hear of the shutdown (services stop in reverse order).
private struct ShutdownNotice: Service {
    let logger: Logger

    func run() async throws {
        do {
            try await gracefulShutdown()
        } catch {
            return  // Cancelled: the group is ending without a graceful shutdown.
        }
        logger.notice("cortex stopping: no new connections; finishing in-flight requests and the batch being sent")
    }
}
