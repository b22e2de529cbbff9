import ArgumentParser
import Hummingbird

struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the HTTP server and all workers.",
        discussion: """
            With no configuration at all, serves on 127.0.0.1:8080 with SQLite at ./cortex.sqlite and \
            the dry-run mail provider. Applies pending migrations first. Stops gracefully on SIGINT or SIGTERM.
            """
    )

    @OptionGroup var config: ConfigOptions

    func run() async throws {
        let reader = try await CortexConfiguration.reader(file: config.file)
        let app: any ApplicationProtocol
        do {
            app = try await buildApplication(reader: reader)
        } catch let error as ConfigurationError {
            throw ValidationError(error.message)
        }
        // runService() installs SIGINT/SIGTERM handlers and drains in-flight requests on shutdown.
        try await app.runService()
    }
}
