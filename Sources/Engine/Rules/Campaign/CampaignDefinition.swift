/// What a client writes of a campaign (`POST` and `PUT /v1/campaigns`, ENGINE.md §5),
/// validated; parsing it is I/O free. Subject and bodies are Mustache templates rendered per
/// recipient at send time (`{{contact.first_name}}`, `{{unsubscribe_url}}`), so they are
/// checked to parse here and stored once, never once per recipient.
public struct CampaignDefinition: Sendable, Equatable {
    public var name: String
    public var subject: String
    public var from: String
    public var replyTo: String?
    public var html: String
    public var text: String?
    /// Kept verbatim beside `html` (an Unlayer export is `{design, html}`), so the design can be
    /// edited again.
    public var design: JSON?
    public var audience: CampaignAudience
    public var tag: String?
    public var trackOpens: Bool?
    public var trackLinks: LinkTracking?
    public var consent: CampaignConsent

    public static let maximumNameBytes = 255
    public static let maximumSubjectLength = 2000
    public static let maximumBodyBytes = 1 << 20

    /// Fields the API answers that a client may send back unchanged (a GET body edited and PUT).
    static let readOnlyFields = ["id", "status", "scheduled_at", "stats", "created_at", "updated_at", "sent_at"]
    static let fields = [
        "name", "subject", "from", "reply_to", "html", "text", "design", "list_id", "filter", "stream", "tag", "track_opens",
        "track_links", "consent",
    ]

    /// Parses a request body; `defaultFrom` (`CORTEX_MAIL_FROM`) stands in for a missing `from`.
    /// Every problem is an ``InputError`` naming the field.
    public static func parse(_ body: JSONObject, defaultFrom: String?) throws(InputError) -> CampaignDefinition {
        if let unknown = body.members.first(where: { !fields.contains($0.key) && !readOnlyFields.contains($0.key) }) {
            throw .invalidField(unknown.key, "is not a field of a campaign; fields: \(fields.joined(separator: ", "))")
        }
        guard let name = body["name"]?.stringValue?.trimmingASCIIWhitespace(), !name.isEmpty, name.utf8.count <= maximumNameBytes
        else { throw .invalidField("name", "must be a name of 1 to \(maximumNameBytes) bytes") }
        guard let subject = body["subject"]?.stringValue, !subject.isEmpty, subject.count <= maximumSubjectLength,
            MailHeader.isOneLine(subject)
        else { throw .invalidField("subject", "must be one line of 1 to \(maximumSubjectLength) characters") }
        try template(subject, "subject", limits: .subject)
        guard let from = try optionalText(body, "from") ?? defaultFrom else {
            throw InputError(code: "missing_from", message: "\"from\" is required when CORTEX_MAIL_FROM is not set")
        }
        guard Mailbox(from) != nil else { throw .invalidField("from", "must be an address or \"Name <address>\" on one line") }
        let replyTo = try optionalText(body, "reply_to")
        guard replyTo.map({ Mailbox($0) != nil }) ?? true else {
            throw .invalidField("reply_to", "must be an address or \"Name <address>\" on one line")
        }
        guard let html = try optionalText(body, "html"), !html.isEmpty else {
            throw InputError(code: "empty_content", message: "a campaign needs \"html\" (and may add \"text\")")
        }
        guard html.utf8.count <= maximumBodyBytes else { throw .invalidField("html", "must be at most 1 MiB") }
        try template(html, "html", limits: .body)
        let text = try optionalText(body, "text")
        guard (text?.utf8.count ?? 0) <= maximumBodyBytes else { throw .invalidField("text", "must be at most 1 MiB") }
        if let text { try template(text, "text", limits: .body) }
        var design: JSON?
        if let value = body["design"], !value.isNull {
            guard value.objectValue != nil else { throw .invalidField("design", "must be a JSON object (e.g. Unlayer's design)") }
            design = value
        }
        if let stream = try optionalText(body, "stream"), stream != EmailStream.broadcast.rawValue {
            throw .invalidField("stream", "must be \"broadcast\": a campaign is bulk mail")
        }
        let tag = try optionalText(body, "tag")
        guard tag.map({ MailHeader.isOneLine($0) && $0.count <= 1000 }) ?? true else {
            throw .invalidField("tag", "must be one line of at most 1000 characters")
        }
        let (trackOpens, trackLinks) = try DeliveryOptionsJSON.tracking(in: body)
        var consent = CampaignConsent.granted
        if let raw = try optionalText(body, "consent") {
            guard let parsed = CampaignConsent(rawValue: raw) else {
                throw .invalidField("consent", "must be \"granted\" (only contacts who opted in) or \"any\" (all but revoked)")
            }
            consent = parsed
        }
        return CampaignDefinition(
            name: name, subject: subject, from: from, replyTo: replyTo, html: html, text: text, design: design,
            audience: try audience(body), tag: tag, trackOpens: trackOpens, trackLinks: trackLinks, consent: consent)
    }

    /// Exactly one of `list_id` (a smart list) and `filter` (the filter language).
    private static func audience(_ body: JSONObject) throws(InputError) -> CampaignAudience {
        let list = body["list_id"].flatMap { $0.isNull ? nil : $0 }
        let filter = body["filter"].flatMap { $0.isNull ? nil : $0 }
        switch (list, filter) {
        case (let list?, nil):
            guard case .number(let text) = list, let id = Int64(text), id > 0 else {
                throw .invalidField("list_id", "must be the id of a smart list")
            }
            return .list(id)
        case (nil, let filter?):
            do {
                _ = try FilterParser.parse(filter)
            } catch {
                throw .invalidField("filter", error.message)
            }
            return .filter(filter)
        case (nil, nil):
            throw .invalidField("list_id", "a campaign needs an audience: \"list_id\" or \"filter\"")
        case (_?, _?):
            throw .invalidField("filter", "give \"list_id\" or \"filter\", not both")
        }
    }

    private static func template(_ source: String, _ field: String, limits: TemplateLimits) throws(InputError) {
        do {
            _ = try Template(source, limits: limits)
        } catch {
            throw .invalidField(field, "is not a valid template: \(error.message)")
        }
    }

    private static func optionalText(_ body: JSONObject, _ field: String) throws(InputError) -> String? {
        guard let value = body[field], !value.isNull else { return nil }
        guard let text = value.stringValue else { throw .invalidField(field, "must be a string") }
        return text
    }

    /// The definition as the API writes it (without the campaign's id, status and stats).
    public var json: JSONObject {
        var object: JSONObject = ["name": .string(name), "subject": .string(subject), "from": .string(from)]
        object.members.append(("reply_to", replyTo.map(JSON.string) ?? .null))
        object.members.append(("html", .string(html)))
        object.members.append(("text", text.map(JSON.string) ?? .null))
        object.members.append(("design", design ?? .null))
        switch audience {
        case .list(let id):
            object.members.append(("list_id", .int(id)))
            object.members.append(("filter", .null))
        case .filter(let filter):
            object.members.append(("list_id", .null))
            object.members.append(("filter", filter))
        }
        object.members.append(("stream", .string(EmailStream.broadcast.rawValue)))
        object.members.append(("tag", tag.map(JSON.string) ?? .null))
        object.members.append(("track_opens", trackOpens.map(JSON.bool) ?? .null))
        object.members.append(("track_links", trackLinks.map { .string($0.rawValue) } ?? .null))
        object.members.append(("consent", .string(consent.rawValue)))
        return object
    }
}

/// Who a campaign goes to: a smart list's members, or the contacts a filter selects, as they
/// are when the campaign is sent.
public enum CampaignAudience: Sendable, Equatable {
    case list(Int64)
    case filter(JSON)
}

/// Whose consent a campaign needs: `granted` (the default) sends only to contacts who opted in;
/// `any` to everyone but those who revoked it. Suppressed contacts never get one.
public enum CampaignConsent: String, Sendable, CaseIterable {
    case granted, any
}

extension CampaignDefinition {
    /// The audience as a filter: a list's members are `{"list": id}`.
    public var audienceFilter: Filter {
        get throws {
            switch audience {
            case .list(let id): return .list(id)
            case .filter(let json): return try FilterParser.parse(json)
            }
        }
    }
}
