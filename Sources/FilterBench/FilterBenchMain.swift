import Engine
import Foundation
import Logging

/// `filter-bench`: seeds the data set into an empty store and times the directory's
/// filter queries through the real `ContactDirectory` methods, then prints one JSON line. See
/// bench/filters.sh and BENCHMARKS.md ("Directory filters").
@main
enum FilterBenchMain {
    static func main() async {
        let options: BenchOptions
        do {
            options = try BenchOptions(Array(CommandLine.arguments.dropFirst()))
        } catch {
            progress("\(error)\n\(BenchOptions.usage)")
            exit(2)
        }
        do {
            let store = try open(options.databaseURL)
            let report = try await store.withServicesRunning { @Sendable in
                try await FilterBenchRun(store: store, options: options).run()
            }
            print(report.serialized())
        } catch {
            progress("FAILED: \(error)")
            exit(1)
        }
    }

    /// The store a `--database-url` names: `sqlite:PATH` or `postgres://...`, as Cortex's own
    /// `CORTEX_DATABASE_URL` (Gateway's parser is not reachable from here).
    static func open(_ url: String) throws -> any BenchStore {
        if url.hasPrefix("sqlite:") {
            var path = String(url.dropFirst("sqlite:".count))
            if path.hasPrefix("//") { path.removeFirst(2) }
            return try SQLiteStore(path: path)
        }
        var settings: PostgresSettings
        do {
            settings = try PostgresSettings(url: url, poolSize: 4)
        } catch {
            throw BenchFailure("--database-url \(error.message)")
        }
        // Seeding a million rows is one statement; the store's 5 s default is for HTTP requests.
        settings.operationTimeout = .seconds(1_800)
        var logger = Logger(label: "filter-bench")
        logger.logLevel = .warning
        return PostgresStore(settings: settings, logger: logger)
    }
}

func progress(_ line: String) {
    FileHandle.standardError.write(Data(("filter-bench: " + line + "\n").utf8))
}

struct BenchFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
