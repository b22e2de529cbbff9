import Engine

/// A simulate body (`POST /v1/automations/{id}/simulate`, and the CLI's files), validated:
/// `{"event": EVENT, "contact": {...}?, "then": [{"after_seconds": n, "event": EVENT}]?}`.
/// Each problem is a 400 naming the field.
enum SimulationRequest {
    static let maximumThen = 100

    /// The input for `graph` (with the automation's other settings in `base`).
    static func parse(_ body: JSONObject, into base: SimulationBase) throws(InputError) -> SimulationInput {
        let known = ["event", "contact", "then"]
        if let unknown = body.members.first(where: { !known.contains($0.key) }) {
            throw .invalidField(unknown.key, "is not a field of a simulation; fields: \(known.joined(separator: ", "))")
        }
        let event = try event(body["event"], field: "event")
        var contactObject = JSONObject()
        if let value = body["contact"], !value.isNull {
            guard let object = value.objectValue else { throw .invalidField("contact", "must be a JSON object") }
            contactObject = object
        }
        let email = try email(event, contactObject["email"])
        var tags: [String] = []
        if contactObject["tags"] != nil { tags = try ContactRequest.tags(contactObject["tags"]) }
        contactObject.members.removeAll { $0.key == "email" || $0.key == "tags" }
        let contact = try ContactRequest.parse(contactObject, email: email)
        return SimulationInput(
            graph: base.graph, automationID: base.automationID, reentry: base.reentry, exitWhen: base.exitWhen, timezone: base.timezone,
            event: event, contact: contact, tags: tags, then: try then(body["then"]))
    }

    /// The contact: the event's, else `contact.email`; both given must agree.
    private static func email(_ event: CanonicalEvent, _ given: JSON?) throws(InputError) -> EmailAddress {
        var contactEmail: EmailAddress?
        if let given, !given.isNull {
            guard let text = given.stringValue, let parsed = EmailAddress(text) else {
                throw .invalidField("contact.email", "must be an email address")
            }
            contactEmail = parsed
        }
        switch (event.email, contactEmail) {
        case (let fromEvent?, let fromContact?) where fromEvent != fromContact:
            throw .invalidField("contact.email", "differs from the event's email \(fromEvent.value)")
        case (let email?, _), (nil, let email?):
            return email
        case (nil, nil):
            throw .invalidField("event", "names no contact: give data.email in the event or contact.email")
        }
    }

    private static func event(_ value: JSON?, field: String) throws(InputError) -> CanonicalEvent {
        guard let object = value?.objectValue else {
            throw .invalidField(field, "must be an event: {\"type\": ..., \"data\": {\"email\": ...}}")
        }
        do {
            return try CanonicalEvent.parse(object)
        } catch {
            throw .invalidField(field, error.message)
        }
    }

    private static func then(_ value: JSON?) throws(InputError) -> [LaterEvent] {
        guard let value, !value.isNull else { return [] }
        let expectation = "must be an array of at most \(maximumThen) {\"after_seconds\": n, \"event\": EVENT} with n from 0"
        guard case .array(let items) = value, items.count <= maximumThen else { throw .invalidField("then", expectation) }
        return try items.enumerated().map { (index, item) throws(InputError) in
            guard let object = item.objectValue, object.members.allSatisfy({ ["after_seconds", "event"].contains($0.key) }),
                case .number(let text)? = object["after_seconds"], let seconds = Int64(text),
                (0...AutomationSimulation.horizonSeconds).contains(seconds)
            else { throw .invalidField("then[\(index)]", expectation + " to \(AutomationSimulation.horizonSeconds)") }
            return LaterEvent(afterSeconds: seconds, event: try event(object["event"], field: "then[\(index)].event"))
        }
    }

    /// A simulation's answer: how the run ended and its log, each entry with its offset from
    /// the start in (virtual) milliseconds.
    static func json(_ result: SimulationResult) -> JSON {
        let milliseconds = { (time: Timestamp) -> JSON in .int((time.microseconds - result.startedAt.microseconds) / 1_000) }
        return .object([
            "status": .string(result.status.rawValue), "dry_run": .bool(result.dryRun),
            "started_at": .string(RFC3339.format(result.startedAt)), "ended_at": .string(RFC3339.format(result.endedAt)),
            "duration_ms": milliseconds(result.endedAt), "current_node_id": result.currentNodeID.map(JSON.string) ?? .null,
            "wake_up_at": result.wakeUpAt.map { .string(RFC3339.format($0)) } ?? .null,
            "logs": .array(
                result.logs.map { log in
                    guard case .object(var object) = ExecutionRoutes.json(log) else { return ExecutionRoutes.json(log) }
                    object.members.append((key: "offset_ms", value: milliseconds(log.at)))
                    return .object(object)
                }),
            "emails": .array(
                result.emails.map { job in
                    .object([
                        "to": .string(job.recipient.value), "from": .string(job.sender), "subject": .string(job.subject),
                        "html": job.html.map(JSON.string) ?? .null, "text": job.text.map(JSON.string) ?? .null, "stream": .string(job.stream.rawValue),
                    ])
                }),
            "unused_events": .int(Int64(result.unusedEvents)),
        ])
    }
}

/// What a simulation takes from the automation (or the CLI's graph file) rather than the body.
struct SimulationBase {
    var graph: AutomationGraph
    var automationID: Int64?
    var reentry: Reentry?
    var exitWhen: EventMatch?
    var timezone: String
}
