import CortexTestSupport
import Foundation
import Testing

@testable import Engine

/// Graphs as a React Flow canvas saves them: the fixtures in `contracts/automations/` (UI fields
/// included) parse and keep every byte, and each rule of ENGINE.md §4's validation refuses its
/// fault naming the node.
@Suite struct AutomationGraphTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../../contracts/automations").standardized

    static func fixture(_ name: String) throws -> [UInt8] {
        [UInt8](try Data(contentsOf: fixtures.appendingPathComponent("\(name).json")))
    }

    static let names = ["welcome-p2p", "abandoned-cart", "weekly-digest-loop"]

    @Test(arguments: names)
    func aCanvasGraphParsesAndRoundTripsByteForByte(name: String) throws {
        let bytes = try Self.fixture(name)
        let graph = try AutomationGraphParser.parse(try JSONParser.parse(bytes))
        #expect(graph.document.serialized() == String(decoding: bytes, as: UTF8.self))
    }

    @Test func theWelcomeFlowReadsAsItsSteps() throws {
        let graph = try AutomationGraphParser.parse(try JSONParser.parse(try Self.fixture("welcome-p2p")))
        #expect(graph.triggerID == "trigger-1")
        #expect(graph.trigger.event.type == "checkout.completed")
        #expect(graph.trigger.event.conditions == [MetadataCondition(path: ["product"], comparison: .eq(.string("P2P")))])
        #expect(graph.next(after: "trigger-1") == "mail-1")
        guard case .sendEmail(let mail)? = graph.node("mail-1")?.step else { Issue.record("mail-1 is not a send_email"); return }
        #expect(mail.subject == "Welcome to P2P, {{contact.first_name}}!" && mail.stream == "transactional")
        guard case .delay(let delay)? = graph.node("wait-1")?.step else { Issue.record("wait-1 is not a delay"); return }
        #expect(delay == .seconds(2 * 86_400))
        #expect(graph.next(after: "cond-1", through: .true) == "tag-yes")
        #expect(graph.next(after: "cond-1", through: .false) == "tag-no")
        #expect(graph.next(after: "tag-yes") == nil)
    }

    @Test func theOtherFixturesReadAsTheirSteps() throws {
        let cart = try AutomationGraphParser.parse(try JSONParser.parse(try Self.fixture("abandoned-cart")))
        guard case .waitForEvent(let wait)? = cart.node("wait")?.step else { Issue.record("not a wait"); return }
        #expect(wait.event.type == "checkout.completed" && wait.timeoutSeconds == 3600 && wait.lookbackSeconds == 300)
        #expect(cart.trigger.audience != nil)
        #expect(cart.next(after: "wait", through: .timeout) == "remind")
        let digest = try AutomationGraphParser.parse(try JSONParser.parse(try Self.fixture("weekly-digest-loop")))
        guard case .delay(let delay)? = digest.node("morning")?.step else { Issue.record("not a delay"); return }
        #expect(delay == .until(hour: 9, minute: 0, weekdays: [1]))
    }

    /// A valid three-node graph the cases below break one way each.
    static func graph(nodes: [String], edges: [String]) -> String {
        #"{"nodes":[\#(nodes.joined(separator: ","))],"edges":[\#(edges.joined(separator: ","))]}"#
    }

    static let trigger = #"{"id":"t","type":"trigger","data":{"event":"checkout.completed"}}"#
    static let tag = #"{"id":"tag","type":"add_tag","data":{"tag":"P2P"}}"#
    static func edge(_ source: String, _ target: String, _ handle: String? = nil, id: String = "e") -> String {
        #"{"id":"\#(id)","source":"\#(source)","target":"\#(target)","sourceHandle":\#(handle.map { "\"\($0)\"" } ?? "null")}"#
    }

    /// (what is wrong, the graph, the node named, words the message holds)
    static let invalid: [(String, String, String?, String)] = [
        ("not an object", "[]", nil, "must be an object"),
        ("no nodes", #"{"edges":[]}"#, nil, "nodes must be an array"),
        ("no trigger", graph(nodes: [tag], edges: []), nil, "exactly one trigger; it has 0"),
        ("two triggers", graph(nodes: [trigger, #"{"id":"t2","type":"trigger","data":{"event":"x"}}"#], edges: []), "t2", "exactly one trigger"),
        ("unknown type", graph(nodes: [trigger, #"{"id":"n","type":"sms","data":{}}"#], edges: [edge("t", "n")]), "n", "unknown node type \"sms\""),
        ("misspelt field", graph(nodes: [trigger, #"{"id":"m","type":"send_email","data":{"subjet":"Hi","html":"x"}}"#], edges: [edge("t", "m")]), "m", "data.subjet is not a field"),
        ("missing subject", graph(nodes: [trigger, #"{"id":"m","type":"send_email","data":{"html":"x"}}"#], edges: [edge("t", "m")]), "m", "data.subject is required"),
        ("bad template", graph(nodes: [trigger, #"{"id":"m","type":"send_email","data":{"subject":"Hi {{#a}}","html":"x"}}"#], edges: [edge("t", "m")]), "m", "data.subject is not a valid template"),
        ("two-line subject", graph(nodes: [trigger, #"{"id":"m","type":"send_email","data":{"subject":"Hi\r\nBcc: x@y.z","html":"x"}}"#], edges: [edge("t", "m")]), "m", "one line"),
        ("two mailboxes", graph(nodes: [trigger, #"{"id":"m","type":"send_email","data":{"subject":"Hi","html":"x","from":"a@b.c, d@e.f"}}"#], edges: [edge("t", "m")]), "m", "one mailbox"),
        ("bad filter", graph(nodes: [trigger, #"{"id":"c","type":"condition","data":{"filter":{"all":[{"tag":5}]}}}"#, tag, #"{"id":"x","type":"exit","data":{}}"#], edges: [edge("t", "c"), edge("c", "tag", "true", id: "y"), edge("c", "x", "false", id: "n")]), "c", "data.filter/all/0/tag"),
        ("bad where", graph(nodes: [#"{"id":"t","type":"trigger","data":{"event":"checkout.completed","where":{"amount":{"op":"gt","value":"a"}}}}"#], edges: []), "t", "data.where/amount"),
        ("two delays in one", graph(nodes: [trigger, #"{"id":"d","type":"delay","data":{"seconds":5,"days":1}}"#], edges: [edge("t", "d")]), "d", "exactly one of"),
        ("negative delay", graph(nodes: [trigger, #"{"id":"d","type":"delay","data":{"minutes":-5}}"#], edges: [edge("t", "d")]), "d", "data.minutes must be a whole number"),
        ("bad time of day", graph(nodes: [trigger, #"{"id":"d","type":"delay","data":{"until":"9am"}}"#], edges: [edge("t", "d")]), "d", "HH:MM"),
        ("bad weekday", graph(nodes: [trigger, #"{"id":"d","type":"delay","data":{"until":"09:00","weekdays":[0]}}"#], edges: [edge("t", "d")]), "d", "1 (Monday) to 7 (Sunday)"),
        ("wait without timeout", graph(nodes: [trigger, #"{"id":"w","type":"wait_for_event","data":{"event":"x"}}"#], edges: [edge("t", "w")]), "w", "timeout_seconds is required"),
        ("webhook to ftp", graph(nodes: [trigger, #"{"id":"h","type":"webhook","data":{"url":"ftp://example.com/x"}}"#], edges: [edge("t", "h")]), "h", "http:// or https://"),
        ("edge to nowhere", graph(nodes: [trigger], edges: [edge("t", "ghost")]), "t", "existing node as its target"),
        ("edge from nowhere", graph(nodes: [trigger, tag], edges: [edge("t", "tag"), edge("ghost", "tag", id: "f")]), nil, "existing node as its source"),
        ("wrong handle", graph(nodes: [trigger, tag], edges: [edge("t", "tag", "true")]), "t", "but a trigger leaves only through null"),
        ("unknown handle", graph(nodes: [trigger, tag], edges: [edge("t", "tag", "maybe")]), "t", "unknown handle \"maybe\""),
        ("out of an exit", graph(nodes: [trigger, #"{"id":"x","type":"exit","data":{}}"#, tag], edges: [edge("t", "x"), edge("x", "tag", id: "f")]), "x", "has no way out"),
        ("two edges, one handle", graph(nodes: [trigger, tag, #"{"id":"tag2","type":"add_tag","data":{"tag":"B"}}"#], edges: [edge("t", "tag"), edge("t", "tag2", id: "f")]), "t", "same handle"),
        ("back into the trigger", graph(nodes: [trigger, tag], edges: [edge("t", "tag"), edge("tag", "t", id: "f")]), "tag", "back into the trigger"),
        ("unreachable", graph(nodes: [trigger, tag], edges: []), "tag", "no path leads to it"),
        ("condition with one way", graph(nodes: [trigger, #"{"id":"c","type":"condition","data":{"filter":{"tag":"x"}}}"#, tag], edges: [edge("t", "c"), edge("c", "tag", "true", id: "f")]), "c", "\"false\" handle"),
        ("wait with one way", graph(nodes: [trigger, #"{"id":"w","type":"wait_for_event","data":{"event":"x","timeout_seconds":60}}"#, tag], edges: [edge("t", "w"), edge("w", "tag", "event", id: "f")]), "w", "\"timeout\" handle"),
        ("loop without a wait", graph(nodes: [trigger, tag, #"{"id":"tag2","type":"remove_tag","data":{"tag":"P2P"}}"#], edges: [edge("t", "tag"), edge("tag", "tag2", id: "f"), edge("tag2", "tag", id: "g")]), "tag", "loop that passes no delay"),
        ("duplicate ids", graph(nodes: [trigger, tag, tag], edges: [edge("t", "tag")]), "tag", "two nodes have this id"),
    ]

    @Test(arguments: invalid.indices)
    func anInvalidGraphIsRefusedNamingTheNode(index: Int) throws {
        let (what, document, nodeID, words) = Self.invalid[index]
        let json = try JSONParser.parse(Array(document.utf8))
        let error = try #require(throws: GraphError.self, "\(what)") { try AutomationGraphParser.parse(json) }
        #expect(error.nodeID == nodeID, "\(what): \(error)")
        #expect(error.message.contains(words), "\(what): \(error)")
    }

    @Test func aLoopThroughADelayIsAllowed() throws {
        let delay = #"{"id":"d","type":"delay","data":{"hours":1}}"#
        let document = Self.graph(
            nodes: [Self.trigger, Self.tag, delay], edges: [Self.edge("t", "tag"), Self.edge("tag", "d", id: "f"), Self.edge("d", "tag", id: "g")])
        let graph = try AutomationGraphParser.parse(try JSONParser.parse(Array(document.utf8)))
        #expect(graph.next(after: "d") == "tag")
    }

    @Test func tooManyNodesAreRefusedBeforeAnyIsRead() throws {
        let nodes = (0...AutomationGraphParser.maximumNodes).map { #"{"id":"n\#($0)","type":"exit","data":{}}"# }
        let json = try JSONParser.parse(Array(Self.graph(nodes: nodes, edges: []).utf8))
        let error = try #require(throws: GraphError.self) { try AutomationGraphParser.parse(json) }
        #expect(error.message.contains("more than \(AutomationGraphParser.maximumNodes) nodes"))
    }
}

/// `contracts/schemas/automation-graph.json` says what the parser takes: the same node types,
/// the same `data` fields for each, the same handles.
@Suite struct AutomationGraphSchemaTests {
    @Test func theSchemaNamesTheParsersTypesFieldsAndHandles() throws {
        let url = AutomationGraphTests.fixtures.deletingLastPathComponent().appendingPathComponent("schemas/automation-graph.json")
        let schema = try JSONParser.parse([UInt8](try Data(contentsOf: url)))
        let node = try #require(schema["$defs"]?["node"])
        let types = try #require(node["properties"]?["type"]?["enum"]?.arrayValue).compactMap(\.stringValue)
        #expect(Set(types) == Set(AutomationStepParser.keys.keys))
        for rule in try #require(node["allOf"]?.arrayValue) {
            let type = try #require(rule["if"]?["properties"]?["type"]?["const"]?.stringValue)
            let fields = try #require(rule["then"]?["properties"]?["data"]?["properties"]?.objectValue).members.map(\.key)
            #expect(Set(fields) == Set((AutomationStepParser.keys[type] ?? []) + ["label"]), "\(type)")
        }
        let handles = try #require(schema["x-handles"]?.objectValue)
        for (type, list) in handles.members {
            let names = try #require(list.arrayValue).map { $0.stringValue ?? "null" }
            #expect(names == (AutomationStep.handles(ofType: type) ?? []).map(\.rawValue), "\(type)")
        }
        #expect(Set(handles.members.map(\.key)) == Set(types))
    }
}
