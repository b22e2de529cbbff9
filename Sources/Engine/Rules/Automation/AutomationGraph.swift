/// An automation's graph as a React Flow canvas saves it (ENGINE.md §4), validated: the
/// typed steps Cortex runs, and the document as it was sent, so a canvas gets its layout back.
///
/// Built only by ``AutomationGraphParser``, so every graph has exactly one trigger, every node is
/// reachable from it, every branch has both its ways out, and no loop runs without a wait.
public struct AutomationGraph: Sendable {
    /// The document as sent: every UI field (`position`, `measured`, `selected`, `viewport`...)
    /// kept in its order, numbers in their text.
    public let document: JSON
    /// The nodes in document order.
    public let nodes: [AutomationNode]
    /// The trigger's node id.
    public let triggerID: String
    /// `next[nodeID][handle]`: the node an outgoing handle leads to. A node whose one handle
    /// leads nowhere ends its execution there.
    let next: [String: [AutomationHandle: String]]

    /// The node with this id.
    public func node(_ id: String) -> AutomationNode? {
        nodes.first { $0.id == id }
    }

    public var trigger: TriggerStep {
        guard case .trigger(let step)? = node(triggerID)?.step else { preconditionFailure("a graph has its trigger") }
        return step
    }

    /// The node a step continues to through `handle`, or `nil` where the graph ends.
    public func next(after nodeID: String, through handle: AutomationHandle = .default) -> String? {
        next[nodeID]?[handle]
    }
}

/// One node: its id as the canvas named it, and the step it stands for.
public struct AutomationNode: Sendable {
    public let id: String
    public let step: AutomationStep
}

/// An outgoing handle: `sourceHandle` on an edge (`null` for a node's only way out).
public enum AutomationHandle: String, Sendable, Hashable {
    case `default` = "null"
    case `true`, `false`
    case event, timeout
}

/// What a node does (ENGINE.md §4's node table), with its `data` parsed.
public enum AutomationStep: Sendable {
    case trigger(TriggerStep)
    case sendEmail(SendEmailStep)
    case addTag(String)
    case removeTag(String)
    case delay(DelayStep)
    case condition(ConditionStep)
    case waitForEvent(WaitForEventStep)
    case webhook(WebhookStep)
    case exit

    /// The node `type` that names it.
    public var type: String {
        switch self {
        case .trigger: "trigger"
        case .sendEmail: "send_email"
        case .addTag: "add_tag"
        case .removeTag: "remove_tag"
        case .delay: "delay"
        case .condition: "condition"
        case .waitForEvent: "wait_for_event"
        case .webhook: "webhook"
        case .exit: "exit"
        }
    }

    /// The outgoing handles the node has.
    public var handles: [AutomationHandle] {
        Self.handles(ofType: type) ?? []
    }

    /// The outgoing handles of a node `type`; `nil` for a type that does not exist.
    public static func handles(ofType type: String) -> [AutomationHandle]? {
        switch type {
        case "condition": [.true, .false]
        case "wait_for_event": [.event, .timeout]
        case "exit": []
        case "trigger", "send_email", "add_tag", "remove_tag", "delay", "webhook": [.default]
        default: nil
        }
    }

    /// Whether every handle must lead somewhere: a branch that ends on one side is a mistake
    /// on a canvas, not a way to stop (that is what `exit` is for).
    var needsEveryHandle: Bool {
        switch self {
        case .condition, .waitForEvent: true
        default: false
        }
    }

    /// Whether an execution stops here for time to pass, which is what makes a loop safe.
    var waits: Bool {
        switch self {
        case .delay, .waitForEvent: true
        default: false
        }
    }
}

/// An activity of a type, optionally with metadata conditions: what starts an execution, and
/// what a wait or an exit rule waits for.
public struct EventMatch: Sendable, Equatable {
    public let type: String
    /// The activity `where` conditions, as the filter language parses them.
    public let conditions: [MetadataCondition]
    /// The same as a filter: `{"activity": {"type": ..., "where": ...}}`.
    public let filter: Filter
}

public struct TriggerStep: Sendable {
    public let event: EventMatch
    /// Only contacts in this set enter, judged when the event arrives.
    public let audience: Filter?
}

public struct SendEmailStep: Sendable {
    public let subject: String
    public let html: String
    public let text: String?
    public let from: String?
    public let stream: String
}

public enum DelayStep: Sendable, Equatable {
    /// A fixed wait.
    case seconds(Int64)
    /// Until the next `hour:minute` in the contact's timezone (else the automation's), on one
    /// of `weekdays` (ISO: 1 is Monday) when given.
    case until(hour: Int, minute: Int, weekdays: Set<Int>?)
}

public struct ConditionStep: Sendable {
    public let filter: Filter
}

public struct WaitForEventStep: Sendable {
    public let event: EventMatch
    public let timeoutSeconds: Int64
    /// An event that arrived up to this long before the wait began also counts.
    public let lookbackSeconds: Int64
}

public struct WebhookStep: Sendable {
    public let url: String
    /// Signs the POST (Standard Webhooks); kept out of every log and answer.
    public let secret: String?
}
