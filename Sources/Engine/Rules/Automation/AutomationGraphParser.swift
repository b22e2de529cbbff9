/// Why a graph was refused: the node at fault (when there is one) and what is wrong, in words
/// a person fixing the canvas reads. The API answers it as `422 invalid_graph`.
public struct GraphError: Error, Sendable, Equatable, CustomStringConvertible {
    public let nodeID: String?
    public let message: String

    public var description: String { nodeID.map { "node \"\($0)\": \(message)" } ?? message }

    public init(nodeID: String?, _ message: String) {
        self.nodeID = nodeID
        self.message = message
    }
}

/// Parses and validates a React Flow graph (ENGINE.md §4), without I/O: each node's `type` and
/// `data` (see ``AutomationStepParser``), then the shape of the whole: exactly one trigger,
/// edges between existing nodes through handles their source has, every node reachable from
/// the trigger, both ways out of every branch, and no loop that passes no `delay` or
/// `wait_for_event` (it would spin without end). Every other field is kept as sent.
public enum AutomationGraphParser {
    public static let maximumNodes = 200
    public static let maximumEdges = 400
    static let maximumIDBytes = 200

    public static func parse(_ document: JSON) throws(GraphError) -> AutomationGraph {
        guard let root = document.objectValue else { throw GraphError(nodeID: nil, "the graph must be an object with nodes and edges") }
        guard case .array(let nodeItems)? = root["nodes"] else { throw GraphError(nodeID: nil, "nodes must be an array") }
        let edgeItems: [JSON]
        switch root["edges"] {
        case nil, .null?: edgeItems = []
        case .array(let items)?: edgeItems = items
        default: throw GraphError(nodeID: nil, "edges must be an array")
        }
        guard nodeItems.count <= maximumNodes else { throw GraphError(nodeID: nil, "holds more than \(maximumNodes) nodes") }
        guard edgeItems.count <= maximumEdges else { throw GraphError(nodeID: nil, "holds more than \(maximumEdges) edges") }

        var nodes: [AutomationNode] = []
        var byID: [String: AutomationStep] = [:]
        for (index, item) in nodeItems.enumerated() {
            let node = try self.node(item, index: index)
            guard byID[node.id] == nil else { throw GraphError(nodeID: node.id, "two nodes have this id") }
            byID[node.id] = node.step
            nodes.append(node)
        }
        let triggers = nodes.filter { if case .trigger = $0.step { true } else { false } }
        guard triggers.count == 1 else {
            throw GraphError(nodeID: triggers.dropFirst().first?.id, "a graph needs exactly one trigger; it has \(triggers.count)")
        }
        let triggerID = triggers[0].id

        var next: [String: [AutomationHandle: String]] = [:]
        for (index, item) in edgeItems.enumerated() {
            let edge = try self.edge(item, index: index, steps: byID)
            guard edge.target != triggerID else {
                throw GraphError(nodeID: edge.source, "edge \"\(edge.id)\" leads back into the trigger; a trigger only starts executions")
            }
            guard next[edge.source]?[edge.handle] == nil else {
                throw GraphError(nodeID: edge.source, "two edges leave through the same handle (\(edge.handle.rawValue))")
            }
            next[edge.source, default: [:]][edge.handle] = edge.target
        }

        for node in nodes where node.step.needsEveryHandle {
            for handle in node.step.handles where next[node.id]?[handle] == nil {
                throw GraphError(nodeID: node.id, "a \(node.step.type) needs an edge from its \"\(handle.rawValue)\" handle")
            }
        }
        try checkReachable(from: triggerID, nodes: nodes, next: next)
        try checkNoLoopWithoutWait(nodes: nodes, next: next)
        return AutomationGraph(document: document, nodes: nodes, triggerID: triggerID, next: next)
    }

    private static func node(_ item: JSON, index: Int) throws(GraphError) -> AutomationNode {
        guard let object = item.objectValue else { throw GraphError(nodeID: nil, "node \(index) must be an object") }
        guard let id = object["id"]?.stringValue, !id.isEmpty, id.utf8.count <= maximumIDBytes else {
            throw GraphError(nodeID: nil, "node \(index) needs an id: a string of 1 to \(maximumIDBytes) bytes")
        }
        guard let type = object["type"]?.stringValue else { throw GraphError(nodeID: id, "type must be a string") }
        let data: JSONObject
        switch object["data"] {
        case .object(let members)?: data = members
        case nil, .null?: data = JSONObject()
        default: throw GraphError(nodeID: id, "data must be an object")
        }
        return AutomationNode(id: id, step: try AutomationStepParser.step(type: type, data: data, nodeID: id))
    }

    private struct Edge {
        let id: String
        let source: String
        let target: String
        let handle: AutomationHandle
    }

    private static func edge(_ item: JSON, index: Int, steps: [String: AutomationStep]) throws(GraphError) -> Edge {
        guard let object = item.objectValue else { throw GraphError(nodeID: nil, "edge \(index) must be an object") }
        let id = object["id"]?.stringValue ?? "\(index)"
        guard let source = object["source"]?.stringValue, let step = steps[source] else {
            throw GraphError(nodeID: nil, "edge \"\(id)\" must name an existing node as its source")
        }
        guard let target = object["target"]?.stringValue, steps[target] != nil else {
            throw GraphError(nodeID: source, "edge \"\(id)\" must name an existing node as its target")
        }
        let handle: AutomationHandle
        switch object["sourceHandle"] {
        case nil, .null?: handle = .default
        case .string(let name)? where name != AutomationHandle.default.rawValue:
            guard let named = AutomationHandle(rawValue: name) else {
                throw GraphError(nodeID: source, "edge \"\(id)\" leaves through an unknown handle \"\(name)\"")
            }
            handle = named
        default: throw GraphError(nodeID: source, "edge \"\(id)\" has a sourceHandle that is neither a string nor null")
        }
        guard step.handles.contains(handle) else {
            let allowed = step.handles.map { $0 == .default ? "null" : "\"\($0.rawValue)\"" }
            let has = allowed.isEmpty ? "has no way out" : "leaves only through \(allowed.joined(separator: " or "))"
            throw GraphError(nodeID: source, "edge \"\(id)\" leaves through \(handle == .default ? "null" : "\"\(handle.rawValue)\""), but a \(step.type) \(has)")
        }
        return Edge(id: id, source: source, target: target, handle: handle)
    }

    private static func checkReachable(from triggerID: String, nodes: [AutomationNode], next: [String: [AutomationHandle: String]])
        throws(GraphError)
    {
        var reached: Set<String> = [triggerID]
        var frontier = [triggerID]
        while let id = frontier.popLast() {
            for target in (next[id] ?? [:]).values where reached.insert(target).inserted { frontier.append(target) }
        }
        if let lost = nodes.first(where: { !reached.contains($0.id) }) {
            throw GraphError(nodeID: lost.id, "no path leads to it from the trigger")
        }
    }

    /// A loop is only safe when it waits somewhere: look for a cycle among the nodes that do
    /// not wait (depth-first, colouring nodes as on the path or done).
    private static func checkNoLoopWithoutWait(nodes: [AutomationNode], next: [String: [AutomationHandle: String]])
        throws(GraphError)
    {
        let waits = Set(nodes.filter { $0.step.waits }.map(\.id))
        var state: [String: Bool] = [:]  // false: on the current path; true: done.
        for start in nodes where !waits.contains(start.id) && state[start.id] == nil {
            var stack: [(id: String, targets: [String])] = []
            func push(_ id: String) {
                state[id] = false
                let targets = (next[id] ?? [:]).sorted { $0.key.rawValue < $1.key.rawValue }.map(\.value)
                stack.append((id, targets.filter { !waits.contains($0) }))
            }
            push(start.id)
            while !stack.isEmpty {
                guard let target = stack[stack.count - 1].targets.popLast() else {
                    state[stack.removeLast().id] = true
                    continue
                }
                switch state[target] {
                case false?: throw GraphError(nodeID: target, "it is on a loop that passes no delay or wait_for_event, which would run without end")
                case true?: continue
                case nil: push(target)
                }
            }
        }
    }
}
