import Engine
import Foundation

/// A `PUT /v1/contacts/{email}` body and a tags body, validated. Each problem is a 400 naming
/// the field; a field left out leaves the contact's value as it is.
enum ContactRequest {
    static let maximumTextBytes = 1000
    static let maximumTags = 100

    static func parse(_ object: JSONObject, email: EmailAddress) throws(InputError) -> ContactUpdate {
        let known = ["first_name", "last_name", "external_id", "timezone", "attributes", "consent"]
        if let unknown = object.members.first(where: { !known.contains($0.key) }) {
            throw .invalidField(unknown.key, "is not a contact field; use " + known.joined(separator: ", "))
        }
        var update = ContactUpdate(email: email)
        update.firstName = try text(object, "first_name")
        update.lastName = try text(object, "last_name")
        update.externalID = try text(object, "external_id")
        if let timezone = try text(object, "timezone") {
            guard TimeZone(identifier: timezone) != nil else { throw .invalidField("timezone", "must be an IANA time zone name, e.g. Europe/Berlin") }
            update.timezone = timezone
        }
        if let value = object["attributes"], !value.isNull {
            guard let attributes = value.objectValue else { throw .invalidField("attributes", "must be a JSON object") }
            guard value.serialized().utf8.count <= 64 * 1024 else { throw .invalidField("attributes", "must be at most 64 KiB") }
            update.attributes = attributes
        }
        if let raw = try text(object, "consent") {
            guard let consent = ConsentStatus(rawValue: raw) else {
                throw .invalidField("consent", "must be one of " + ConsentStatus.allCases.map(\.rawValue).joined(separator: ", "))
            }
            update.consent = consent
            update.consentSource = "api"
        }
        return update
    }

    /// `{"tags": ["P2P", ...]}`: 1 to 100 non-empty tags of at most 255 bytes.
    static func tags(_ value: JSON?) throws(InputError) -> [String] {
        guard case .array(let items)? = value, !items.isEmpty, items.count <= maximumTags else {
            throw .invalidField("tags", "must be an array of 1 to \(maximumTags) tags")
        }
        return try items.map { (item) throws(InputError) -> String in
            guard let tag = item.stringValue?.trimmingASCIIWhitespace(), !tag.isEmpty, tag.utf8.count <= 255,
                MailHeader.isOneLine(tag)
            else { throw .invalidField("tags", "must hold non-empty one-line tags of at most 255 bytes") }
            return tag
        }
    }

    private static func text(_ object: JSONObject, _ field: String) throws(InputError) -> String? {
        guard let value = object[field], !value.isNull else { return nil }
        guard let text = value.stringValue, !text.isEmpty, text.utf8.count <= maximumTextBytes else {
            throw .invalidField(field, "must be a non-empty string of at most \(maximumTextBytes) bytes")
        }
        return text
    }
}
