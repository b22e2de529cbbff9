import ArgumentParser
import Engine
import Foundation

/// `cortex backup FILE`: an online, consistent copy of the SQLite database, taken while
/// `cortex serve` goes on serving. PostgreSQL has its own tools; the command says which.
struct BackupCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backup",
        abstract: "Copy the SQLite database, while it is in use, into FILE.",
        discussion: """
            The copy is one consistent moment of the database, taken with SQLite's online backup API \
            while the server goes on serving; it is written under a temporary name beside FILE and \
            renamed once complete and checked. To restore: stop cortex, put FILE in place of the \
            database, start cortex. For PostgreSQL use pg_dump -Fc and pg_restore (README, "Backup and restore").
            """
    )

    @Argument(help: ArgumentHelp("Where to write the copy; an existing file is refused unless --force.", valueName: "FILE"))
    var file: String

    @Flag(help: "Replace FILE if it exists.")
    var force = false

    @OptionGroup var config: ConfigOptions

    func run() async throws {
        let configuration = try await CLIConfiguration.load(config)
        switch configuration.database {
        case .postgres(let settings):
            throw Self.failure(
                """
                cortex backup copies a SQLite database; CORTEX_DATABASE_URL is PostgreSQL (\(settings.redactedURL)).
                Back it up with PostgreSQL's own tools, while cortex serves:
                  pg_dump -Fc -f \(file) 'postgres://USER:PASSWORD@HOST:PORT/DATABASE'
                and restore into an empty database with
                  pg_restore --no-owner -d 'postgres://USER:PASSWORD@HOST:PORT/NEWDATABASE' \(file)
                (or pg_basebackup for the whole cluster). See README.md, "Backup and restore".
                """)
        case .sqlite(let path):
            guard FileManager.default.fileExists(atPath: path) else { throw Self.failure("no SQLite database at \(path)") }
            let store = try SQLiteStore(path: path)
            let started = ContinuousClock.now
            do {
                let summary = try await store.backup(to: file, replacing: force)
                let elapsed = ContinuousClock.now - started
                let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
                print(
                    "backed up sqlite:\(path) to \(summary.path): \(summary.bytes) bytes, \(summary.pages) pages, in "
                        + String(format: "%.3f s", seconds))
            } catch let error as StoreError where error.kind == .conflict {
                throw Self.failure("\(error.message): pass --force to replace it")
            } catch let error as StoreError {
                throw Self.failure(error.message)
            }
        }
    }

    /// Says why on standard error; thrown, it makes the command exit 1.
    static func failure(_ message: String) -> ExitCode {
        printToStandardError("cortex backup: \(message)")
        return .failure
    }
}
