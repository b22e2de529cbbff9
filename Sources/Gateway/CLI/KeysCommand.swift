import ArgumentParser
import Engine
import Foundation

struct KeysCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keys",
        abstract: "Manage API keys for /v1/*.",
        subcommands: [CreateKey.self]
    )

    struct CreateKey: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "create",
            abstract: "Create an API key, print it once and store only its hash.",
            discussion: "The key is shown this one time; keep it in your secret store. It is never logged."
        )

        @Option(help: "A name to recognise the key by, e.g. the calling application.")
        var name: String

        @OptionGroup var config: ConfigOptions

        func validate() throws {
            guard !name.trimmingCharacters(in: .whitespaces).isEmpty else {
                throw ValidationError("--name must not be empty")
            }
        }

        func run() async throws {
            let configuration = try await CLIConfiguration.load(config)
            let store = try CLIConfiguration.openStore(configuration)
            let key = "ck_" + RandomToken.make(bytes: 32)
            try await store.withServicesRunning {
                try await store.migrate()
                try await store.createAPIKey(
                    name: name, keyHash: APIKeyAuthenticator.hashHex(key), at: SystemWallClock().now())
            }
            // The key alone on standard output, so `KEY=$(cortex keys create --name x)` works.
            print(key)
        }
    }
}
