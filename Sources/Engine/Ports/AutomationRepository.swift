/// Where automations and their versions live (ENGINE.md §4). Every version's graph is kept:
/// executions run on the version they started on, whatever is saved since.
public protocol AutomationRepository: Sendable {
    /// Saves a new automation as a draft at version 1; returns its id.
    func createAutomation(_ definition: AutomationDefinition, at time: Timestamp) async throws -> Int64

    /// Every automation, oldest first, archived ones included.
    func automations() async throws -> [Automation]

    func automation(id: Int64) async throws -> Automation?

    /// Replaces an automation's definition. When an execution has started on the current
    /// version, the change becomes a new version and the old one is kept for those executions;
    /// otherwise the current version is changed in place. `nil` when there is no such
    /// automation; throws ``StoreError`` `conflict` for an archived one.
    func updateAutomation(id: Int64, _ definition: AutomationDefinition, at time: Timestamp) async throws -> Automation?

    /// Moves an automation to `status` (the caller has checked the move is allowed from
    /// `expected`); `nil` when there is no such automation, throws ``StoreError`` `conflict`
    /// when its status is no longer `expected` (another request moved it meanwhile). Archiving
    /// cancels its running executions. Activating it while no other automation is active moves
    /// the watcher's cursor to the newest activity, since the watcher reads nothing while none
    /// is active and what arrived meanwhile must not start the new one.
    func setAutomationStatus(id: Int64, from expected: AutomationStatus, to status: AutomationStatus, at time: Timestamp)
        async throws -> Automation?

    /// The graph of one version, for executions that started on it.
    func automationGraph(id: Int64, version: Int) async throws -> JSON?

    /// Per node, across every version: the executions that reached it (logged a step there),
    /// that failed there, and that wait there now; and how many executions there are in all.
    func automationNodeCounts(id: Int64) async throws -> AutomationNodeCounts
}

/// What ``AutomationRepository/automationNodeCounts(id:)`` reads, before the stats rules.
public struct AutomationNodeCounts: Sendable, Equatable {
    public var executions: Int
    public var reached: [String: Int]
    public var failed: [String: Int]
    public var waiting: [String: Int]

    public init(executions: Int = 0, reached: [String: Int] = [:], failed: [String: Int] = [:], waiting: [String: Int] = [:]) {
        self.executions = executions
        self.reached = reached
        self.failed = failed
        self.waiting = waiting
    }

    /// `{"<node id>": {"entered", "completed", "waiting", "failed"}}` for every node of `graph`
    /// (ENGINE.md §4): the trigger entered by every execution; a node's completed are those that
    /// went on from it.
    public func stats(_ graph: AutomationGraph) -> JSON {
        var members: [(key: String, value: JSON)] = []
        for node in graph.nodes {
            let entered = node.id == graph.triggerID ? executions : reached[node.id, default: 0]
            let waiting = waiting[node.id, default: 0]
            let failed = failed[node.id, default: 0]
            members.append((
                key: node.id,
                value: .object([
                    "entered": .int(entered), "completed": .int(max(0, entered - waiting - failed)), "waiting": .int(waiting),
                    "failed": .int(failed),
                ])
            ))
        }
        return .object(JSONObject(members))
    }
}
