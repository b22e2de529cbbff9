import ArgumentParser
import Engine
import Logging

struct MigrateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "migrate",
        abstract: "Apply pending schema migrations and exit.",
        discussion: "`serve` also migrates on start; use this to migrate ahead of a deploy."
    )

    @OptionGroup var config: ConfigOptions

    func run() async throws {
        let configuration = try await CLIConfiguration.load(config)
        let store = try CLIConfiguration.openStore(configuration)
        try await store.withServicesRunning { try await store.migrate() }
        print("migrated \(store.description)")
    }
}

/// Reads the configuration for a CLI command, turning a bad setting into a usage error.
enum CLIConfiguration {
    static func openStore(_ configuration: CortexConfiguration) throws -> any Store {
        var logger = Logger(label: "cortex")
        logger.logLevel = configuration.logLevel
        return try Gateway.openStore(configuration.database, logger: logger)
    }

    static func load(_ options: ConfigOptions) async throws -> CortexConfiguration {
        do {
            return try CortexConfiguration(reader: try await CortexConfiguration.reader(file: options.file))
        } catch let error as ConfigurationError {
            throw ValidationError(error.message)
        }
    }
}
