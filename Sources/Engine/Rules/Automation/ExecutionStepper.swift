import Foundation

/// What a step needs to know besides the graph: the contact and triggering event its templates
/// read, the sender to use when the node names none, and the moment.
public struct StepContext: Sendable {
    public var executionID: Int64
    public var automationID: Int64
    public var contact: Contact
    /// The triggering activity's data, as templates read it under `event`.
    public var event: JSON
    public var defaultFrom: String?
    /// The contact's timezone, else the automation's, for `until` delays.
    public var timezone: String
    public var now: Timestamp
    /// Every step is logged as it would run; mail is recorded as sent by `dry-run`, tag changes
    /// are not applied.
    public var dryRun = false

    public init(
        executionID: Int64, automationID: Int64, contact: Contact, event: JSON, defaultFrom: String?, timezone: String,
        now: Timestamp, dryRun: Bool = false
    ) {
        self.dryRun = dryRun
        self.executionID = executionID
        self.automationID = automationID
        self.contact = contact
        self.event = event
        self.defaultFrom = defaultFrom
        self.timezone = timezone
        self.now = now
    }
}

/// What the walker does for one node: commit a step, or first ask the store whether the
/// contact matches a condition's filter and then commit ``ExecutionStepper/afterCondition``.
public enum StepPlan: Sendable {
    case commit(StepCommit)
    case checkCondition(Filter)
    /// Whether the contact has an activity matching `event` that arrived since `since` (other
    /// than the triggering one); then commit ``ExecutionStepper/afterEventCheck``.
    case checkEvent(EventMatch, since: Timestamp)
    /// Call the webhook, then commit ``ExecutionStepper/afterWebhook``.
    case callWebhook(WebhookCall)
}

/// The step functions of the automation graph (ENGINE.md §4), free of I/O: given the node an
/// execution is at, what it does, where it goes and what its log says. The walker runs them and
/// commits each result in one transaction (``ExecutionRepository/commitStep(execution:_:at:)``).
public enum ExecutionStepper {
    /// The plan for `nodeID`; `resuming` when a waiting execution woke at it.
    public static func plan(_ graph: AutomationGraph, at nodeID: String, resuming: Bool, _ context: StepContext) -> StepPlan {
        guard let node = graph.node(nodeID) else {
            return .commit(fail(nodeID, "the graph has no node \"\(nodeID)\"", context.now))
        }
        let now = context.now
        func onward(_ effects: [StepEffect], _ log: ExecutionLog) -> StepPlan {
            .commit(StepCommit(effects: effects, move: move(graph, after: nodeID), logs: [log]))
        }
        switch node.step {
        case .trigger:
            return onward([], ExecutionLog(at: now, nodeID: nodeID, action: "trigger", outcome: .ok, message: "Started"))
        case .sendEmail(let mail):
            switch message(mail, nodeID: nodeID, context) {
            case .success(var job):
                job.dryRun = context.dryRun
                return onward(
                    [.enqueueEmail(job)],
                    ExecutionLog(
                        at: now, nodeID: nodeID, action: "send_email", outcome: .ok,
                        message: "Queued email '\(job.subject)' to \(job.recipient.value)\(context.dryRun ? " (dry run: not sent)" : "")",
                        detail: .object(["idempotency_key": .string(job.idempotencyKey)])))
            case .failure(let failure):
                return .commit(fail(nodeID, failure.reason, now))
            }
        case .addTag(let tag):
            if context.dryRun {
                return onward([], ExecutionLog(at: now, nodeID: nodeID, action: "add_tag", outcome: .skipped, message: "Would add tag '\(tag)' (dry run)"))
            }
            return onward([.addTag(tag)], ExecutionLog(at: now, nodeID: nodeID, action: "add_tag", outcome: .ok, message: "Added tag '\(tag)'"))
        case .removeTag(let tag):
            if context.dryRun {
                return onward(
                    [], ExecutionLog(at: now, nodeID: nodeID, action: "remove_tag", outcome: .skipped, message: "Would remove tag '\(tag)' (dry run)"))
            }
            return onward(
                [.removeTag(tag)], ExecutionLog(at: now, nodeID: nodeID, action: "remove_tag", outcome: .ok, message: "Removed tag '\(tag)'"))
        case .delay(let delay):
            if resuming {
                return onward([], ExecutionLog(at: now, nodeID: nodeID, action: "delay", outcome: .ok, message: "Delay over"))
            }
            guard let until = DelayClock.wakeUp(delay, after: now, timezone: context.timezone) else {
                return .commit(fail(nodeID, "no time matches the delay in \(context.timezone)", now))
            }
            return .commit(
                StepCommit(
                    move: .wait(node: nodeID, until: until),
                    logs: [
                        ExecutionLog(
                            at: now, nodeID: nodeID, action: "delay", outcome: .waiting, message: "Pausing until \(RFC3339.format(until))")
                    ]))
        case .condition(let condition):
            return .checkCondition(condition.filter)
        case .exit:
            return .commit(StepCommit(move: .complete, logs: [ExecutionLog(at: now, nodeID: nodeID, action: "exit", outcome: .ok, message: "Exited")]))
        case .waitForEvent(let wait):
            if resuming {
                return .commit(
                    StepCommit(
                        move: move(graph, after: nodeID, through: .timeout),
                        logs: [
                            ExecutionLog(
                                at: now, nodeID: nodeID, action: "wait_for_event", outcome: .ok,
                                message: "Timed out waiting for '\(wait.event.type)'")
                        ], onlyAt: nodeID))
            }
            return .checkEvent(wait.event, since: now.adding(seconds: -wait.lookbackSeconds))
        case .webhook(let webhook):
            guard let url = WebhookURL(webhook.url) else { return .commit(fail(nodeID, "the webhook URL is not valid", now)) }
            if context.dryRun {
                return onward(
                    [], ExecutionLog(at: now, nodeID: nodeID, action: "webhook", outcome: .skipped, message: "Would call webhook \(url.text) (dry run)"))
            }
            let body = JSON.object([
                "contact": TemplateModel.contact(context.contact), "event": context.event,
                "execution": .object([
                    "id": .int(context.executionID), "automation_id": .int(context.automationID), "node_id": .string(nodeID),
                ]),
            ])
            var bytes: [UInt8] = []
            body.write(into: &bytes)
            return .callWebhook(
                WebhookCall(url: url, id: "automation:\(context.executionID):\(nodeID)", timestamp: now, body: bytes, secret: webhook.secret))
        }
    }

    /// The step after a condition's filter was evaluated for the contact.
    public static func afterCondition(_ graph: AutomationGraph, at nodeID: String, matched: Bool, label: String?, now: Timestamp)
        -> StepCommit
    {
        let name = label.map { "'\($0)'" } ?? "of node \(nodeID)"
        return StepCommit(
            move: move(graph, after: nodeID, through: matched ? .true : .false),
            logs: [
                ExecutionLog(
                    at: now, nodeID: nodeID, action: "condition", outcome: .ok, message: "Condition \(name) is \(matched)")
            ])
    }

    /// The step of a `wait_for_event` once the store said whether its event had already arrived
    /// (within the lookback): on through `event` at once, or wait until the timeout.
    public static func afterEventCheck(_ graph: AutomationGraph, at nodeID: String, found: Bool, now: Timestamp) -> StepCommit {
        guard case .waitForEvent(let wait)? = graph.node(nodeID)?.step else { return fail(nodeID, "not a wait_for_event", now) }
        if found {
            return StepCommit(
                move: move(graph, after: nodeID, through: .event),
                logs: [
                    ExecutionLog(
                        at: now, nodeID: nodeID, action: "wait_for_event", outcome: .ok,
                        message: "Event '\(wait.event.type)' had already arrived")
                ])
        }
        let until = now.adding(seconds: wait.timeoutSeconds)
        return StepCommit(
            move: .wait(node: nodeID, until: until),
            logs: [
                ExecutionLog(
                    at: now, nodeID: nodeID, action: "wait_for_event", outcome: .waiting,
                    message: "Waiting for '\(wait.event.type)' until \(RFC3339.format(until))")
            ])
    }

    /// The most calls a webhook node makes before its execution fails.
    public static let webhookAttempts = 5

    /// The step after a webhook call, its `attempt`-th (from 1): on when delivered; a retryable
    /// failure waits 30 s, then 60, 120, 240, and the last fails the execution, as does any
    /// failure that waiting cannot help.
    public static func afterWebhook(_ graph: AutomationGraph, at nodeID: String, url: String, result: WebhookResult, attempt: Int, now: Timestamp)
        -> StepCommit
    {
        switch result {
        case .delivered(let status):
            return StepCommit(
                move: move(graph, after: nodeID),
                logs: [ExecutionLog(at: now, nodeID: nodeID, action: "webhook", outcome: .ok, message: "Called webhook \(url) (HTTP \(status))")])
        case .failed(let reason, let retryable) where retryable && attempt < webhookAttempts:
            let until = now.adding(seconds: 30 << Int64(attempt - 1))
            return StepCommit(
                move: .wait(node: nodeID, until: until),
                logs: [
                    ExecutionLog(
                        at: now, nodeID: nodeID, action: "webhook", outcome: .waiting,
                        message: "Webhook \(url) failed (\(reason)); retrying at \(RFC3339.format(until))",
                        detail: .object(["attempt": .int(attempt)]))
                ])
        case .failed(let reason, _):
            return fail(nodeID, "Webhook \(url) failed after \(attempt) attempt\(attempt == 1 ? "" : "s"): \(reason)", now)
        }
    }

    /// The step of a webhook node in a simulation, which never calls it: on as if delivered.
    public static func simulatedWebhook(_ graph: AutomationGraph, at nodeID: String, url: String, now: Timestamp) -> StepCommit {
        StepCommit(
            move: move(graph, after: nodeID),
            logs: [
                ExecutionLog(
                    at: now, nodeID: nodeID, action: "webhook", outcome: .skipped, message: "Would call webhook \(url) (simulation: not called)")
            ])
    }

    /// The step of a waiting execution whose event the watcher saw arrive.
    public static func eventArrived(_ graph: AutomationGraph, at nodeID: String, type: String, activityID: Int64, now: Timestamp) -> StepCommit {
        StepCommit(
            move: move(graph, after: nodeID, through: .event),
            logs: [
                ExecutionLog(
                    at: now, nodeID: nodeID, action: "wait_for_event", outcome: .ok, message: "Event '\(type)' arrived",
                    detail: .object(["activity_id": .int(activityID)]))
            ], onlyAt: nodeID)
    }

    private static func move(_ graph: AutomationGraph, after nodeID: String, through handle: AutomationHandle = .default) -> ExecutionMove {
        graph.next(after: nodeID, through: handle).map(ExecutionMove.next) ?? .complete
    }

    private static func fail(_ nodeID: String, _ reason: String, _ now: Timestamp) -> StepCommit {
        StepCommit(move: .fail(reason), logs: [ExecutionLog(at: now, nodeID: nodeID, action: "fail", outcome: .failed, message: reason)])
    }

    /// The ledger row of a `send_email` node: templates rendered over `contact` and `event`,
    /// keyed `automation:<execution>:<node>` so a retried step never queues it twice.
    static func message(_ mail: SendEmailStep, nodeID: String, _ context: StepContext) -> Result<NewEmailJob, StepFailure> {
        guard let from = mail.from ?? context.defaultFrom else {
            return .failure(StepFailure("no sender: set data.from on the node or CORTEX_MAIL_FROM"))
        }
        let model = JSON.object(["contact": TemplateModel.contact(context.contact), "event": context.event, "unsubscribe_url": .string("")])
        do {
            let subject = try Template(mail.subject, limits: .subject).render(model, escapeHTML: false, limits: .subject)
            guard MailHeader.isOneLine(subject) else { return .failure(StepFailure("the subject renders to more than one line")) }
            let html = try Template(mail.html).render(model, escapeHTML: true, limits: .body)
            let text = try mail.text.map { try Template($0).render(model, escapeHTML: false, limits: .body) }
            let metadata = JSON.object([
                "automation_id": .int(context.automationID), "execution_id": .int(context.executionID), "node_id": .string(nodeID),
            ])
            return .success(
                NewEmailJob(
                    idempotencyKey: "automation:\(context.executionID):\(nodeID)", recipient: context.contact.email, sender: from,
                    subject: subject, html: html, text: text, stream: EmailStream(rawValue: mail.stream) ?? .transactional,
                    metadata: metadata.serialized()))
        } catch {
            return .failure(StepFailure("the email could not be rendered: \((error as? TemplateError)?.message ?? "\(error)")"))
        }
    }
}

/// The contact as templates read it under `contact`.
enum TemplateModel {
    static func contact(_ contact: Contact) -> JSON {
        .object([
            "email": .string(contact.email.value), "first_name": contact.firstName.map(JSON.string) ?? .null,
            "last_name": contact.lastName.map(JSON.string) ?? .null, "external_id": contact.externalID.map(JSON.string) ?? .null,
            "timezone": contact.timezone.map(JSON.string) ?? .null,
            "attributes": (try? JSONParser.parse(Array(contact.attributes.utf8))) ?? .object([:]),
            "tags": .array(contact.tags.map(JSON.string)),
        ])
    }
}

/// Why a step cannot run; the execution fails with it.
struct StepFailure: Error {
    let reason: String
    init(_ reason: String) { self.reason = reason }
}
