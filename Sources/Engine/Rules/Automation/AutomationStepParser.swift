/// Parses one node's `type` and `data` into its ``AutomationStep`` (ENGINE.md §4's node table).
/// Unknown `data` keys are refused, so a misspelt `subjet` is an error rather than a mail with
/// no subject; `label`, which canvases put on every node, is allowed everywhere.
enum AutomationStepParser {
    static let maximumTextBytes = 200
    static let maximumDelaySeconds: Int64 = 366 * 86_400
    static let maximumLookbackSeconds: Int64 = 30 * 86_400

    /// `data` keys each node type takes, besides `label`.
    static let keys: [String: [String]] = [
        "trigger": ["event", "where", "audience"],
        "send_email": ["subject", "html", "text", "from", "stream"],
        "add_tag": ["tag"],
        "remove_tag": ["tag"],
        "delay": ["seconds", "minutes", "hours", "days", "until", "weekdays"],
        "condition": ["filter"],
        "wait_for_event": ["event", "where", "timeout_seconds", "lookback_seconds"],
        "webhook": ["url", "secret"],
        "exit": [],
    ]

    static func step(type: String, data: JSONObject, nodeID: String) throws(GraphError) -> AutomationStep {
        guard let allowed = keys[type] else {
            let known = keys.keys.sorted().joined(separator: ", ")
            throw GraphError(nodeID: nodeID, "unknown node type \"\(type)\"; known types: \(known)")
        }
        for member in data.members where member.key != "label" && !allowed.contains(member.key) {
            throw GraphError(nodeID: nodeID, "data.\(member.key) is not a field of a \(type) node")
        }
        let fields = Fields(data: data, nodeID: nodeID)
        switch type {
        case "trigger":
            var audience: Filter?
            if let json = data["audience"], !json.isNull { audience = try fields.filter(json, "audience") }
            return .trigger(TriggerStep(event: try fields.event(), audience: audience))
        case "send_email":
            return .sendEmail(try sendEmail(fields))
        case "add_tag":
            return .addTag(try fields.text("tag"))
        case "remove_tag":
            return .removeTag(try fields.text("tag"))
        case "delay":
            return .delay(try delay(fields))
        case "condition":
            guard let filter = data["filter"] else { throw fields.error("data.filter is required") }
            return .condition(ConditionStep(filter: try fields.filter(filter, "filter")))
        case "wait_for_event":
            guard let timeout = try fields.integer("timeout_seconds", in: 1...maximumDelaySeconds) else {
                throw fields.error("data.timeout_seconds is required")
            }
            return .waitForEvent(
                WaitForEventStep(
                    event: try fields.event(), timeoutSeconds: timeout,
                    lookbackSeconds: try fields.integer("lookback_seconds", in: 0...maximumLookbackSeconds) ?? 0))
        case "webhook":
            return .webhook(try webhook(fields))
        default:
            return .exit
        }
    }

    private static func sendEmail(_ fields: Fields) throws(GraphError) -> SendEmailStep {
        let subject = try fields.string("subject")
        guard MailHeader.isOneLine(subject) else { throw fields.error("data.subject must be one line") }
        try fields.template(subject, "subject", limits: .subject)
        let html = try fields.string("html")
        try fields.template(html, "html", limits: .body)
        let text = try fields.optionalString("text")
        if let text { try fields.template(text, "text", limits: .body) }
        let from = try fields.optionalString("from")
        if let from, Mailbox(from) == nil {
            throw fields.error("data.from must be one mailbox, such as \"Shop <shop@example.com>\"")
        }
        let stream = try fields.optionalString("stream") ?? "transactional"
        guard ["transactional", "broadcast"].contains(stream) else {
            throw fields.error("data.stream must be \"transactional\" or \"broadcast\"")
        }
        return SendEmailStep(subject: subject, html: html, text: text, from: from, stream: stream)
    }

    private static func delay(_ fields: Fields) throws(GraphError) -> DelayStep {
        let units: [(String, Int64)] = [("seconds", 1), ("minutes", 60), ("hours", 3_600), ("days", 86_400)]
        let given = units.filter { fields.data[$0.0] != nil }
        let until = fields.data["until"]
        guard given.count + (until == nil ? 0 : 1) == 1 else {
            throw fields.error("a delay takes exactly one of data.seconds, data.minutes, data.hours, data.days or data.until")
        }
        if let (name, unit) = given.first {
            let amount = try fields.integer(name, in: 1...(maximumDelaySeconds / unit))!
            guard fields.data["weekdays"] == nil else { throw fields.error("data.weekdays goes with data.until only") }
            return .seconds(amount * unit)
        }
        let time = try fields.string("until")
        let parts = time.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2, parts.allSatisfy({ $0.count == 2 }), let hour = Int(parts[0]), let minute = Int(parts[1]),
            (0...23).contains(hour), (0...59).contains(minute)
        else { throw fields.error("data.until must be a time of day as \"HH:MM\", from \"00:00\" to \"23:59\"") }
        var weekdays: Set<Int>?
        if let list = fields.data["weekdays"] {
            guard case .array(let items) = list, !items.isEmpty else {
                throw fields.error("data.weekdays must be a non-empty array of days, 1 (Monday) to 7 (Sunday)")
            }
            var days: Set<Int> = []
            for item in items {
                guard case .number(let text) = item, let day = Int(text), (1...7).contains(day) else {
                    throw fields.error("data.weekdays must hold days from 1 (Monday) to 7 (Sunday)")
                }
                days.insert(day)
            }
            weekdays = days
        }
        return .until(hour: hour, minute: minute, weekdays: weekdays)
    }

    private static func webhook(_ fields: Fields) throws(GraphError) -> WebhookStep {
        let url = try fields.string("url")
        guard WebhookURL(url) != nil else {
            throw fields.error("data.url must be an absolute http:// or https:// URL with a host")
        }
        let secret = try fields.optionalString("secret")
        if let secret, secret.isEmpty { throw fields.error("data.secret must not be empty when given") }
        return WebhookStep(url: url, secret: secret)
    }
}

/// Reads a node's `data` members, turning every fault into a ``GraphError`` on the node.
extension AutomationStepParser {
    /// `{"event", "where"?}` (a wait's or an exit rule's) as an ``EventMatch``.
    static func eventMatch(_ data: JSONObject, nodeID: String) throws(GraphError) -> EventMatch {
        try Fields(data: data, nodeID: nodeID).event()
    }
}

private struct Fields {
    let data: JSONObject
    let nodeID: String

    func error(_ message: String) -> GraphError { GraphError(nodeID: nodeID, message) }

    func optionalString(_ key: String) throws(GraphError) -> String? {
        switch data[key] {
        case nil, .null?: return nil
        case .string(let value)?: return value
        default: throw error("data.\(key) must be a string")
        }
    }

    func string(_ key: String) throws(GraphError) -> String {
        guard let value = try optionalString(key) else { throw error("data.\(key) is required") }
        return value
    }

    /// A short name (a tag, an event type): trimmed, not empty, at most 200 bytes.
    func text(_ key: String) throws(GraphError) -> String {
        let value = try string(key).trimmingASCIIWhitespace()
        guard !value.isEmpty, value.utf8.count <= AutomationStepParser.maximumTextBytes else {
            throw error("data.\(key) must be 1 to \(AutomationStepParser.maximumTextBytes) bytes")
        }
        return value
    }

    func integer(_ key: String, in range: ClosedRange<Int64>) throws(GraphError) -> Int64? {
        guard let json = data[key], !json.isNull else { return nil }
        guard case .number(let text) = json, let value = Int64(text), range.contains(value) else {
            throw error("data.\(key) must be a whole number from \(range.lowerBound) to \(range.upperBound)")
        }
        return value
    }

    func template(_ source: String, _ key: String, limits: TemplateLimits) throws(GraphError) {
        do {
            _ = try Template(source, limits: limits)
        } catch {
            throw self.error("data.\(key) is not a valid template: \(error.message)")
        }
    }

    func filter(_ json: JSON, _ key: String) throws(GraphError) -> Filter {
        do {
            return try FilterParser.parse(json)
        } catch {
            throw self.error("data.\(key)\(error.path) \(error.message)")
        }
    }

    /// `event` and `where` as an activity condition of the filter language.
    func event() throws(GraphError) -> EventMatch {
        let type = try text("event")
        var activity: JSONObject = ["type": .string(type)]
        if let conditions = data["where"], !conditions.isNull { activity.members.append((key: "where", value: conditions)) }
        let parsed: Filter
        do {
            parsed = try FilterParser.parse(.object(["activity": .object(activity)]))
        } catch {
            // `/activity/where/product` is `data.where/product` on the node.
            let path = error.path.hasPrefix("/activity/where") ? "data.where" + error.path.dropFirst("/activity/where".count) : "data"
            throw self.error("\(path) \(error.message)")
        }
        guard case .activity(let condition) = parsed else { throw error("data.event is not an activity") }
        return EventMatch(type: type, conditions: condition.conditions, filter: parsed)
    }
}
