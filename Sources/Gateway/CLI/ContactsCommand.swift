import ArgumentParser
import Engine
import Foundation

/// `cortex contacts ...`: the directory from the command line.
struct ContactsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "contacts",
        abstract: "Work with the contact directory.",
        subcommands: [Import.self]
    )

    /// `cortex contacts import FILE`: what `POST /v1/contacts/import` does, offline, through the
    /// same reader, batches and store method.
    struct Import: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "import",
            abstract: "Import contacts from a CSV or NDJSON file, as POST /v1/contacts/import does.",
            discussion: """
                Prints {"created", "updated", "failed", ...} as JSON on standard output and each failed line as \
                "line N: reason" on standard error; exits 1 when any line failed. Rows are committed \
                \(ContactImport.batchSize) at a time, so an interrupted import keeps the batches done; running it \
                again is safe, as every row is an upsert.
                """
        )

        @Argument(help: "A CSV file with a header row, or an NDJSON file.")
        var file: String

        @Option(help: "csv or ndjson; detected from the first byte when not given.")
        var format: FormatOption?

        @OptionGroup var config: ConfigOptions

        enum FormatOption: String, ExpressibleByArgument, CaseIterable {
            case csv, ndjson

            var value: ContactImportFormat { self == .csv ? .csv : .ndjson }
        }

        func run() async throws {
            guard let handle = FileHandle(forReadingAtPath: file) else { throw ValidationError("cannot read \(file)") }
            defer { try? handle.close() }
            let configuration = try await CLIConfiguration.load(config)
            let store = try CLIConfiguration.openStore(configuration)
            let summary: ContactImportSummary
            do {
                summary = try await store.withServicesRunning {
                    try await store.migrate()
                    return try await ContactImport.run(
                        FileChunks(handle: handle), format: format?.value, into: store, clock: SystemWallClock())
                }
            } catch let rejected as ContactImportRejected {
                printToStandardError("\(rejected.failure)\nnothing was imported")
                throw ExitCode.failure
            }
            print(summary.json.serialized())
            for failure in summary.failures { printToStandardError(failure.description) }
            if summary.failuresTruncated > 0 { printToStandardError("... and \(summary.failuresTruncated) more failed lines") }
            if summary.failed > 0 { throw ExitCode.failure }
        }
    }
}
