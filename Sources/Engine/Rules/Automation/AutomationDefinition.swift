import Foundation

/// What a client writes of an automation (`POST` and `PUT /v1/automations`), validated: its
/// name, graph, re-entry rule, exit rule and timezone. Parsing it is I/O free.
public struct AutomationDefinition: Sendable, Equatable {
    public var name: String
    /// The graph document as sent (validated by ``AutomationGraphParser``).
    public var graph: JSON
    public var reentry: Reentry
    /// `{"event", "where"?}`: an activity that ends the contact's running executions.
    public var exitWhen: JSON?
    /// For local-time delays of contacts without a timezone of their own.
    public var timezone: String

    public static let maximumNameBytes = 255
    public static let maximumReentrySeconds: Int64 = 10 * 366 * 86_400

    /// The parsed graph; stored definitions were validated, so this only fails on a document
    /// changed behind Cortex's back.
    public func parsedGraph() throws(GraphError) -> AutomationGraph {
        try AutomationGraphParser.parse(graph)
    }

    /// Parses a request body. Throws ``GraphError`` for the graph (`422 invalid_graph`) and
    /// ``InputError`` for every other field.
    public static func parse(_ body: JSONObject) throws -> AutomationDefinition {
        let known = ["name", "graph", "reentry", "exit_when", "timezone"]
        if let unknown = body.members.first(where: { !known.contains($0.key) && !Automation.readOnlyFields.contains($0.key) }) {
            throw InputError.invalidField(unknown.key, "is not a field of an automation; fields: \(known.joined(separator: ", "))")
        }
        guard let name = body["name"]?.stringValue?.trimmingASCIIWhitespace(), !name.isEmpty,
            name.utf8.count <= maximumNameBytes
        else { throw InputError.invalidField("name", "must be a name of 1 to \(maximumNameBytes) bytes") }
        guard let graph = body["graph"], !graph.isNull else {
            throw GraphError(nodeID: nil, "graph is missing: give the canvas's nodes and edges")
        }
        _ = try AutomationGraphParser.parse(graph)
        let timezone = body["timezone"]?.stringValue ?? "UTC"
        guard TimeZone(identifier: timezone) != nil else {
            throw InputError.invalidField("timezone", "must be an IANA time zone name, e.g. Europe/Berlin")
        }
        return AutomationDefinition(
            name: name, graph: graph, reentry: try reentry(body["reentry"]), exitWhen: try exitWhen(body["exit_when"]),
            timezone: timezone)
    }

    static func reentry(_ json: JSON?) throws(InputError) -> Reentry {
        let expectation = "must be \"once\", \"always\" or {\"after_seconds\": n} with n from 1 to \(maximumReentrySeconds)"
        switch json {
        case nil, .null?, .string("once")?: return .once
        case .string("always")?: return .always
        case .object(let object)? where object.members.count == 1:
            guard case .number(let text)? = object["after_seconds"], let seconds = Int64(text),
                (1...maximumReentrySeconds).contains(seconds)
            else { throw .invalidField("reentry", expectation) }
            return .after(seconds: seconds)
        default: throw .invalidField("reentry", expectation)
        }
    }

    private static func exitWhen(_ json: JSON?) throws -> JSON? {
        guard let json, !json.isNull else { return nil }
        guard let object = json.objectValue, object.members.allSatisfy({ ["event", "where"].contains($0.key) }) else {
            throw InputError.invalidField("exit_when", "must be {\"event\": type, \"where\": {...}?}")
        }
        do {
            _ = try AutomationStepParser.eventMatch(object, nodeID: "exit_when")
        } catch {
            throw InputError.invalidField("exit_when", error.message)
        }
        return json
    }

    /// The parsed `exit_when` rule.
    public var exitEvent: EventMatch? {
        guard let object = exitWhen?.objectValue else { return nil }
        return try? AutomationStepParser.eventMatch(object, nodeID: "exit_when")
    }

    /// The re-entry rule as the API writes it.
    public var reentryJSON: JSON {
        switch reentry {
        case .once: .string("once")
        case .always: .string("always")
        case .after(let seconds): .object(["after_seconds": .int(seconds)])
        }
    }
}

extension Automation {
    /// Fields the API answers that a client may send back unchanged (a GET body edited and PUT):
    /// ignored on write.
    static let readOnlyFields = ["id", "status", "version", "stats", "created_at", "updated_at"]
}

/// An automation's stored columns, as both stores read them.
struct StoredAutomation {
    var id: Int64
    var name: String
    var status: String
    var version: Int
    var reentry: String
    var exitWhen: String?
    var timezone: String
    var graph: String
    var createdAt: Int64
    var updatedAt: Int64

    /// Columns in the order every store selects them (`a` the automation, `v` its current version).
    static let columns = "a.id, a.name, a.status, a.version, a.reentry, a.exit_when, a.timezone, v.graph"

    func automation() throws -> Automation {
        let stored = { (text: String) throws -> JSON in try JSONParser.parse(Array(text.utf8)) }
        guard let status = AutomationStatus(rawValue: status) else {
            throw StoreError.invalid("automation \(id) has an unknown status \(status)")
        }
        let definition = AutomationDefinition(
            name: name, graph: try stored(graph), reentry: try AutomationDefinition.reentry(try stored(reentry)),
            exitWhen: try exitWhen.map(stored), timezone: timezone)
        return Automation(
            id: id, name: name, status: status, version: version, definition: definition,
            createdAt: Timestamp(microseconds: createdAt), updatedAt: Timestamp(microseconds: updatedAt))
    }
}
