import ArgumentParser

/// `cortex`: the webhook gateway, CRM event engine and mail automation server.
@main
struct CortexCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cortex",
        abstract: "Webhook gateway, CRM event engine and mail automation server.",
        discussion: """
            Configuration comes from environment variables (CORTEX_HTTP_PORT, CORTEX_DATABASE_URL, ...) \
            and, with --config FILE, from a file of the same KEY=value lines; the environment wins.
            """,
        subcommands: [
            ServeCommand.self, MigrateCommand.self, SignCommand.self, KeysCommand.self, ContactsCommand.self, AutomationsCommand.self,
            SendTestCommand.self, BackupCommand.self,
        ]
    )
}

/// The `--config` option every subcommand accepts.
struct ConfigOptions: ParsableArguments {
    @Option(
        name: .customLong("config"),
        help: ArgumentHelp("A file of KEY=value lines with the same names as the environment variables.", valueName: "FILE"))
    var file: String?
}
