import ArgumentParser
import Engine
import Foundation

/// `cortex keys ...`: stored API keys, as `GET`/`POST /v1/keys` and `DELETE /v1/keys/{id}` manage them.
struct KeysCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keys",
        abstract: "Manage API keys for /v1/*.",
        subcommands: [CreateKey.self, ListKeys.self, RevokeKey.self]
    )

    struct CreateKey: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "create",
            abstract: "Create an API key, print it once and store only its hash.",
            discussion: "The key is shown this one time; keep it in your secret store. It is never logged."
        )

        @Option(help: "A name to recognise the key by, e.g. the calling application (one line, up to 100 characters).")
        var name: String

        @OptionGroup var config: ConfigOptions

        func validate() throws {
            guard (try? APIKeyIssuer.validName(name)) != nil else {
                throw ValidationError("--name must be one line of 1 to \(APIKeyIssuer.maximumNameLength) characters")
            }
        }

        func run() async throws {
            let configuration = try await CLIConfiguration.load(config)
            let store = try CLIConfiguration.openStore(configuration)
            let name = try APIKeyIssuer.validName(name)
            let issued = try await store.withServicesRunning {
                try await store.migrate()
                return try await APIKeyIssuer.issue(name: name, store: store, at: SystemWallClock().now())
            }
            // The key alone on standard output, so `KEY=$(cortex keys create --name x)` works.
            print(issued.key)
        }
    }

    struct ListKeys: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "list",
            abstract: "List the stored API keys, newest first: id, name, hint (the key's last 4 characters), created, revoked.",
            discussion: "Keys from CORTEX_API_KEYS are not stored, so they are only counted (on standard error)."
        )

        @OptionGroup var config: ConfigOptions

        func run() async throws {
            let configuration = try await CLIConfiguration.load(config)
            let store = try CLIConfiguration.openStore(configuration)
            let keys = try await store.withServicesRunning {
                try await store.migrate()
                return try await store.apiKeys()
            }
            for line in KeysCommand.table(keys) { print(line) }
            if !configuration.apiKeys.isEmpty {
                printToStandardError("\(configuration.apiKeys.count) more configured in CORTEX_API_KEYS (not listed)")
            }
        }
    }

    struct RevokeKey: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "revoke",
            abstract: "Revoke a stored API key by its id (see `cortex keys list`); its console sessions end with it.",
            discussion: "Revoking a revoked key changes nothing. Exits 1 when there is no key with that id."
        )

        @Argument(help: "The key's id.")
        var id: Int64

        @OptionGroup var config: ConfigOptions

        func run() async throws {
            let configuration = try await CLIConfiguration.load(config)
            let store = try CLIConfiguration.openStore(configuration)
            let key = try await store.withServicesRunning {
                try await store.migrate()
                return try await store.revokeAPIKey(id: id, at: SystemWallClock().now())
            }
            guard let key else {
                printToStandardError("no API key \(id)")
                throw ExitCode.failure
            }
            for line in KeysCommand.table([key]) { print(line) }
        }
    }

    /// A header and one line per key, in aligned columns.
    static func table(_ keys: [APIKey]) -> [String] {
        let rows =
            [["ID", "NAME", "HINT", "CREATED", "REVOKED"]]
            + keys.map { key in
                [
                    String(key.id), key.name, key.hint.map { "…" + $0 } ?? "-", RFC3339.format(key.createdAt),
                    key.revokedAt.map(RFC3339.format) ?? "-",
                ]
            }
        let widths = (0..<5).map { column in rows.map { $0[column].count }.max() ?? 0 }
        return rows.map { row in
            zip(row, widths).dropLast().map { cell, width in cell + String(repeating: " ", count: width - cell.count) }
                .joined(separator: "  ") + "  " + (row.last ?? "")
        }
    }
}
