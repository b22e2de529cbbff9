/// The ledger's `options` column: a message's tracking choices and extra headers as one JSON
/// object, `{"track_opens":true,"track_links":"HtmlOnly","headers":[{"Name":"X-A","Value":"1"}]}`.
/// Absent choices are left out, so `{}` means "provider defaults, no extra headers".
public enum DeliveryOptionsJSON {
    public static func encode(_ message: NewEmailJob) -> String {
        var members = tracking(opens: message.trackOpens, links: message.trackLinks)
        if !message.headers.isEmpty {
            members.append(("headers", .array(message.headers.map(\.json))))
        }
        if message.dryRun { members.append(("dry_run", .bool(true))) }
        return JSON.object(JSONObject(members)).serialized()
    }

    /// Only the tracking choices (a campaign's rows carry no headers of their own).
    static func encode(trackOpens: Bool?, trackLinks: LinkTracking?) -> String {
        JSON.object(JSONObject(tracking(opens: trackOpens, links: trackLinks))).serialized()
    }

    private static func tracking(opens: Bool?, links: LinkTracking?) -> [(key: String, value: JSON)] {
        var members: [(key: String, value: JSON)] = []
        if let opens { members.append(("track_opens", .bool(opens))) }
        if let links { members.append(("track_links", .string(links.rawValue))) }
        return members
    }

    /// `track_opens` (true or false) and `track_links` (a ``LinkTracking``, any letter case) of a
    /// request body (a message, a campaign); each `nil` when left out.
    public static func tracking(in body: JSONObject) throws(InputError) -> (opens: Bool?, links: LinkTracking?) {
        var opens: Bool?
        if let value = body["track_opens"], !value.isNull {
            guard case .bool(let flag) = value else { throw .invalidField("track_opens", "must be true or false") }
            opens = flag
        }
        var links: LinkTracking?
        if let value = body["track_links"], !value.isNull {
            guard let raw = value.stringValue,
                let parsed = LinkTracking.allCases.first(where: { $0.rawValue.lowercased() == raw.lowercased() })
            else {
                throw .invalidField("track_links", "must be one of " + LinkTracking.allCases.map(\.rawValue).joined(separator: ", "))
            }
            links = parsed
        }
        return (opens, links)
    }

    /// Sets `message`'s options from stored text; unreadable parts are left at their defaults.
    public static func apply(_ text: String, to message: inout NewEmailJob) {
        guard let object = (try? JSONParser.parse(Array(text.utf8)))?.objectValue else { return }
        if case .bool(let value)? = object["track_opens"] { message.trackOpens = value }
        message.trackLinks = object["track_links"]?.stringValue.flatMap(LinkTracking.init(rawValue:))
        message.dryRun = object["dry_run"] == .bool(true)
        if case .array(let items)? = object["headers"] {
            message.headers = items.compactMap { item in
                guard let name = item.objectValue?["Name"]?.stringValue, let value = item.objectValue?["Value"]?.stringValue
                else { return nil }
                return MailHeader(name: name, value: value)
            }
        }
    }
}

extension MailHeader {
    /// `{"Name": ..., "Value": ...}`, the form of Postmark's `Headers` and of the ledger.
    public var json: JSON { .object(["Name": .string(name), "Value": .string(value)]) }
}
