@testable import Engine

/// The automation target's checks on a graph the parser accepted.
public enum FuzzAutomation {
    public static func checkShape(_ graph: AutomationGraph) {
        let triggers = graph.nodes.filter { if case .trigger = $0.step { true } else { false } }
        FuzzCheck.require(triggers.count == 1 && triggers[0].id == graph.triggerID, "a graph has exactly one trigger")
        _ = graph.trigger
        let ids = Set(graph.nodes.map(\.id))
        FuzzCheck.require(ids.count == graph.nodes.count, "node ids are unique")

        var reached: Set<String> = [graph.triggerID]
        var queue = [graph.triggerID]
        while !queue.isEmpty {
            let id = queue.removeFirst()
            guard let node = graph.node(id) else { fatalError("broken promise: an edge leads to a node that does not exist: \(id)") }
            for handle in node.step.handles {
                let target = graph.next(after: id, through: handle)
                if node.step.needsEveryHandle {
                    FuzzCheck.require(target != nil, "node \(id)'s \(handle.rawValue) handle leads somewhere")
                }
                if let target {
                    FuzzCheck.require(target != graph.triggerID, "no edge leads into the trigger")
                    if reached.insert(target).inserted { queue.append(target) }
                }
            }
        }
        FuzzCheck.require(reached == ids, "every node is reachable from the trigger")

        // Kahn's algorithm on the nodes that do not wait: what is left after it is on a loop
        // that would run without end.
        let spinning = graph.nodes.filter { !$0.step.waits }
        let spinningIDs = Set(spinning.map(\.id))
        var incoming: [String: Int] = [:]
        for node in spinning {
            for handle in node.step.handles {
                if let target = graph.next(after: node.id, through: handle), spinningIDs.contains(target) {
                    incoming[target, default: 0] += 1
                }
            }
        }
        var ready = spinning.map(\.id).filter { incoming[$0, default: 0] == 0 }
        var removed = 0
        while let id = ready.popLast() {
            removed += 1
            for handle in graph.node(id)!.step.handles {
                guard let target = graph.next(after: id, through: handle), spinningIDs.contains(target) else { continue }
                incoming[target]! -= 1
                if incoming[target] == 0 { ready.append(target) }
            }
        }
        FuzzCheck.require(removed == spinning.count, "no loop passes no delay or wait_for_event")
    }

    /// What the watcher and the walker do with each node, short of a store.
    public static func checkSteps(_ graph: AutomationGraph, timezone: String) {
        let model = JSON.object([
            "contact": .object(["email": .string("ada@example.com"), "first_name": .string("Ada"), "tags": .array([.string("vip")])]),
            "event": .object(["product": .string("P2P"), "amount": .number("4900"), "items": .array([.object(["sku": .string("a")])])]),
            "unsubscribe_url": .string(""),
        ])
        for node in graph.nodes {
            switch node.step {
            case .trigger(let trigger):
                compile(trigger.event.filter)
                if let audience = trigger.audience { compile(audience) }
            case .condition(let condition):
                compile(condition.filter)
            case .waitForEvent(let wait):
                compile(wait.event.filter)
                requireLater(FuzzCheck.now.adding(seconds: wait.timeoutSeconds), "a wait's timeout")
            case .delay(let delay):
                guard let wake = DelayClock.wakeUp(delay, after: FuzzCheck.now, timezone: timezone) else {
                    // Only a time of day in a zone Foundation cannot load has no wake-up.
                    if case .seconds = delay { fatalError("broken promise: a fixed delay always has a wake-up") }
                    continue
                }
                requireLater(wake, "a delay's wake-up")
            case .sendEmail(let mail):
                render(mail.subject, .subject, escapeHTML: false, model)
                render(mail.html, .body, escapeHTML: true, model)
                if let text = mail.text { render(text, .body, escapeHTML: false, model) }
            case .addTag(let tag), .removeTag(let tag):
                FuzzCheck.require(!tag.isEmpty && tag.utf8.count <= 200, "a tag is 1 to 200 bytes")
            case .webhook(let call):
                FuzzCheck.require(WebhookURL(call.url) != nil, "a webhook's URL parses again")
            case .exit:
                break
            }
        }
    }

    /// A filter as the watcher and the walker compile it, for both stores.
    public static func compile(_ filter: Filter) {
        for dialect in [SQLDialect.sqlite, .postgres] {
            if case .activity(let condition) = filter {
                let test = FilterCompiler.compileActivityTest(condition, dialect: dialect, now: FuzzCheck.now)
                FuzzSQL.check(test.sql, test.bindings, dialect)
            }
            // A graph's filters reference no list the compiler is given: that error is the store's.
            if let compiled = try? FilterCompiler.compile(filter, dialect: dialect, shape: .oneContact, now: FuzzCheck.now) {
                FuzzSQL.check(compiled.sql, compiled.bindings, dialect)
            }
        }
    }

    private static func render(_ source: String, _ limits: TemplateLimits, escapeHTML: Bool, _ model: JSON) {
        let template: Template
        do {
            template = try Template(source, limits: limits)
        } catch {
            fatalError("broken promise: a template the validator accepted does not parse: \(error.message)")
        }
        if let output = try? template.render(model, escapeHTML: escapeHTML, limits: limits) {
            FuzzCheck.require(output.utf8.count <= limits.maximumOutputBytes, "a render stays within its output bound")
        }
    }

    private static func requireLater(_ time: Timestamp, _ context: String) {
        FuzzCheck.require(time > FuzzCheck.now, "\(context) is after now")
        FuzzCheck.requireRoundTrip(time, context)
    }
}
