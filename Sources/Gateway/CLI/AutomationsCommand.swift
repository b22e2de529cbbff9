import ArgumentParser
import Engine
import Foundation

/// `cortex automations ...`: automations from the command line.
struct AutomationsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "automations",
        abstract: "Work with automations.",
        subcommands: [Simulate.self]
    )

    /// `cortex automations simulate GRAPH.json --event EVENT.json`: what
    /// `POST /v1/automations/{id}/simulate` does, for a graph that need not be saved yet.
    struct Simulate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "simulate",
            abstract: "Run a graph for one event on a virtual clock, writing nothing, and print the step log.",
            discussion: """
                GRAPH.json is a canvas's graph ({"nodes", "edges", ...}) or an automation as POST /v1/automations \
                takes it ({"name", "graph", "exit_when"?, "timezone"?}). EVENT.json is an event ({"type", "data": \
                {"email", ...}}) or a whole simulate body ({"event", "contact"?, "then"?}). Conditions are evaluated \
                against the configured database's current data, in a transaction that is rolled back. Prints one \
                line per step ("+2d 00:00:00  cond-1  condition  ok  Condition 'Bought Canva?' is true"), or the \
                API's JSON with --json; exits 1 when the run fails and 2 when a file is not valid.
                """
        )

        @Argument(help: "The graph, or an automation body, as JSON.")
        var graph: String

        @Option(help: "The triggering event, or a whole simulate body, as JSON.")
        var event: String

        @Flag(help: "Print the answer as POST /v1/automations/{id}/simulate gives it.")
        var json = false

        @OptionGroup var config: ConfigOptions

        func run() async throws {
            let input: SimulationInput
            do {
                input = try SimulationRequest.parse(try Self.body(event), into: try Self.base(graph))
            } catch let error as InputError {
                printToStandardError("\(event): \(error.message)")
                throw ExitCode(2)
            } catch let error as GraphError {
                printToStandardError("\(graph): \(error)")
                throw ExitCode(2)
            }
            let configuration = try await CLIConfiguration.load(config)
            let store = try CLIConfiguration.openStore(configuration)
            let result = try await store.withServicesRunning {
                try await store.migrate()
                return try await AutomationSimulation(store: store, defaultFrom: configuration.mailFrom).run(input, at: SystemWallClock().now())
            }
            if json {
                print(SimulationRequest.json(result).serialized())
            } else {
                for log in result.logs { print(Self.line(log, since: result.startedAt)) }
                print("\(result.status.rawValue)\(result.wakeUpAt.map { " (next wake-up \(RFC3339.format($0)))" } ?? "")")
            }
            if result.status == .failed { throw ExitCode.failure }
        }

        /// The graph file: a bare graph, or an automation body with its exit rule and timezone.
        private static func base(_ path: String) throws -> SimulationBase {
            let object = try body(path)
            guard object["graph"] != nil else {
                return SimulationBase(graph: try AutomationGraphParser.parse(.object(object)), timezone: "UTC")
            }
            var definitionBody = object
            if definitionBody["name"] == nil { definitionBody.members.append((key: "name", value: .string(path))) }
            let definition = try AutomationDefinition.parse(definitionBody)
            return SimulationBase(
                graph: try definition.parsedGraph(), reentry: nil, exitWhen: definition.exitEvent, timezone: definition.timezone)
        }

        /// The event file as a simulate body: a bare event is wrapped as `{"event": ...}`.
        private static func body(_ path: String) throws -> JSONObject {
            guard let data = FileManager.default.contents(atPath: path) else { throw ValidationError("cannot read \(path)") }
            let object = try InboundPayload.parseObject(Array(data))
            return object["event"] == nil && object["nodes"] == nil && object["graph"] == nil ? JSONObject([("event", .object(object))]) : object
        }

        /// `+1d 02:00:00  node  action  outcome  message`.
        static func line(_ log: ExecutionLog, since start: Timestamp) -> String {
            let seconds = (log.at.microseconds - start.microseconds) / 1_000_000
            let offset = String(format: "+%lldd %02lld:%02lld:%02lld", seconds / 86_400, seconds % 86_400 / 3600, seconds % 3600 / 60, seconds % 60)
            return [offset, log.nodeID ?? "-", log.action, log.outcome.rawValue, log.message].joined(separator: "  ")
        }
    }
}
