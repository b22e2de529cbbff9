import Logging
import PostgresNIO
import ServiceLifecycle

/// Holds a LISTEN on every work topic's channel (one connection) and wakes this instance's idle
/// workers of that topic whenever any instance adds work. Reconnects after a lost connection,
/// and wakes every topic then, since a notification may have been missed meanwhile.
struct JobNotificationListener: Service {
    let client: PostgresClient
    let signals: WorkSignals
    let logger: Logger

    func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                do {
                    try await client.withConnection { connection in
                        try await withThrowingTaskGroup(of: Void.self) { group in
                            for topic in WorkTopic.allCases {
                                group.addTask {
                                    try await connection.listen(on: topic.channel) { notifications in
                                        signals[topic].notify()
                                        for try await _ in notifications { signals[topic].notify() }
                                    }
                                }
                            }
                            // A listen ends only with its connection: end the others with it.
                            try await group.next()
                            group.cancelAll()
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
