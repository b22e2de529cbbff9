import Engine
import Foundation

/// A `POST /v1/messages` body, validated into a ledger entry. Each problem is a 400 naming the
/// field, so a caller fixes its call instead of retrying it.
enum MessageRequest {
    static let maximumSubjectLength = 2000
    static let maximumTagLength = 1000
    static let maximumKeyLength = 255

    static func parse(_ object: JSONObject, defaultFrom: String?) throws(InputError) -> NewEmailJob {
        guard let rawTo = string(object, "to"), let to = EmailAddress(rawTo) else {
            throw .invalidField("to", "must be one email address")
        }
        guard let from = string(object, "from") ?? defaultFrom else {
            throw InputError(code: "missing_from", message: "\"from\" is required when CORTEX_MAIL_FROM is not set")
        }
        guard Mailbox(from) != nil else { throw .invalidField("from", "must be an address or \"Name <address>\"") }
        guard var subject = string(object, "subject"), !subject.isEmpty, subject.count <= maximumSubjectLength,
            MailHeader.isOneLine(subject)
        else {
            throw .invalidField("subject", "must be one line of 1 to \(maximumSubjectLength) characters")
        }
        var html = try optionalString(object, "html")
        var text = try optionalString(object, "text")
        guard html?.isEmpty == false || text?.isEmpty == false else {
            throw InputError(code: "empty_content", message: "give \"html\", \"text\" or both, not empty")
        }
        var stream = EmailStream.transactional
        if let raw = try optionalString(object, "stream") {
            guard let parsed = EmailStream(rawValue: raw) else {
                throw .invalidField("stream", "must be transactional or broadcast")
            }
            stream = parsed
        }
        let tag = try optionalString(object, "tag")
        guard (tag?.count ?? 0) <= maximumTagLength, tag.map(MailHeader.isOneLine) ?? true else {
            throw .invalidField("tag", "must be one line of at most \(maximumTagLength) characters")
        }
        var metadata = "{}"
        if let value = object["metadata"], !value.isNull {
            guard let fields = value.objectValue, fields.members.allSatisfy({ $0.value.stringValue != nil }) else {
                throw .invalidField("metadata", "must be an object of string values")
            }
            metadata = value.serialized()
        }
        if let value = object["model"], !value.isNull {
            guard let model = value.objectValue else { throw .invalidField("model", "must be a JSON object") }
            subject = try MessageTemplate.render(subject, field: "subject", model: model, html: false, limits: .subject)
            html = try html.map { (template) throws(InputError) in
                try MessageTemplate.render(template, field: "html", model: model, html: true, limits: .body)
            }
            text = try text.map { (template) throws(InputError) in
                try MessageTemplate.render(template, field: "text", model: model, html: false, limits: .body)
            }
            // A value from the model must not break the subject onto a second header line.
            guard MailHeader.isOneLine(subject), !subject.isEmpty else {
                throw .invalidField("subject", "must render to one non-empty line")
            }
        }
        // Checked on what will be sent, after rendering: one header line holds 998 octets.
        guard subject.utf8.count <= TemplateLimits.subject.maximumOutputBytes else {
            throw .invalidField("subject", "must be at most \(TemplateLimits.subject.maximumOutputBytes) bytes")
        }
        let key = try optionalString(object, "idempotency_key")
        guard key.map({ !$0.isEmpty && $0.utf8.count <= maximumKeyLength }) ?? true else {
            throw .invalidField("idempotency_key", "must be 1 to \(maximumKeyLength) bytes")
        }
        let (trackOpens, trackLinks) = try DeliveryOptionsJSON.tracking(in: object)
        return NewEmailJob(
            // Without a caller's key every call is a new message.
            idempotencyKey: key ?? "msg_" + UUID().uuidString.lowercased(), recipient: to, sender: from,
            subject: subject, html: html, text: text, stream: stream, tag: tag, metadata: metadata,
            trackOpens: trackOpens, trackLinks: trackLinks, headers: try headers(object["headers"]))
    }

    static let maximumHeaders = 50

    /// `headers` as `{"X-Name": "value"}` or Postmark's `[{"Name": ..., "Value": ...}]`.
    private static func headers(_ value: JSON?) throws(InputError) -> [MailHeader] {
        let pairs: [(String, JSON)]
        switch value {
        case nil, .null?:
            return []
        case .object(let object)?:
            pairs = object.members.map { ($0.key, $0.value) }
        case .array(let items)?:
            pairs = try items.map { (item) throws(InputError) in
                guard let entry = item.objectValue, let name = entry[ignoringCase: "name"]?.stringValue,
                    let value = entry[ignoringCase: "value"]
                else { throw .invalidField("headers", "must be an object of names to values, or [{\"Name\", \"Value\"}]") }
                return (name, value)
            }
        default:
            throw .invalidField("headers", "must be an object of names to values, or [{\"Name\", \"Value\"}]")
        }
        guard pairs.count <= maximumHeaders else { throw .invalidField("headers", "must hold at most \(maximumHeaders) headers") }
        return try pairs.map { (name, value) throws(InputError) in
            guard MailHeader.isValidName(name) else {
                throw .invalidField("headers", "\"\(name)\" is not a valid header name")
            }
            guard !MailHeader.reservedNames.contains(name.lowercased()) else {
                throw .invalidField("headers", "\(name) is set by Cortex from the message's own fields")
            }
            guard let text = value.stringValue, text.utf8.count <= 900, MailHeader.isOneLine(text) else { throw .invalidField("headers", "the value of \(name) must be one line of at most 900 bytes") }
            return MailHeader(name: name, value: text)
        }
    }

    private static func string(_ object: JSONObject, _ field: String) -> String? {
        object[field]?.stringValue
    }

    private static func optionalString(_ object: JSONObject, _ field: String) throws(InputError) -> String? {
        guard let value = object[field], !value.isNull else { return nil }
        guard let text = value.stringValue else { throw .invalidField(field, "must be a string") }
        return text
    }
}
