import Logging
import PostgresNIO
import ServiceLifecycle

/// Holds a LISTEN on the job channel and wakes this instance's idle workers whenever any instance
/// enqueues a job. Reconnects after a lost connection, and wakes the workers then too, since a
/// notification may have been missed meanwhile.
struct JobNotificationListener: Service {
    let client: PostgresClient
    let signal: WorkSignal
    let logger: Logger

    func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                do {
                    try await client.withConnection { connection in
                        try await connection.listen(on: PostgresStore.jobChannel) { notifications in
                            signal.notify()
                            for try await _ in notifications {
                                signal.notify()
                            }
                        }
                    }
                } catch {
                    guard !Task.isCancelled else { return }
                    logger.warning("job notifications lost; reconnecting", metadata: ["error": "\(error)"])
                    try? await Task.sleep(for: .seconds(1))
                }
            }
        }
    }
}
