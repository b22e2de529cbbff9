/// The canonical Cortex event, as posted to `/webhooks/checkout` and `/v1/events`:
///
/// ```json
/// {"type": "checkout.completed", "timestamp": "2026-11-26T10:00:00Z",
///  "data": {"email": "ada@example.com", "first_name": "Ada", "product": "P2P"}}
/// ```
///
/// `data` (all of it) becomes the activity's metadata. The earlier flat shape
/// (`email`, `occurred_at` and `metadata` at the top level) is accepted too, so senders written
/// against either shape keep working.
public struct CanonicalEvent: Sendable, Equatable {
    public var type: String
    public var occurredAt: Timestamp?
    /// `nil` when the event names no contact.
    public var email: EmailAddress?
    public var firstName: String?
    public var lastName: String?
    public var metadata: JSONObject
    /// `/v1/events` only: the caller's dedupe key.
    public var idempotencyKey: String?

    static let maximumTypeLength = 200
    static let maximumKeyLength = 255

    /// Parses and validates a body; pure, so every rule is tested without HTTP or a database.
    public static func parse(_ body: [UInt8]) throws(InputError) -> CanonicalEvent {
        try parse(try InboundPayload.parseObject(body))
    }

    /// Validates an already parsed body (see ``InboundPayload/parseObject(_:)``).
    public static func parse(_ object: JSONObject) throws(InputError) -> CanonicalEvent {

        guard case .string(let rawType)? = object["type"] else { throw .missingType }
        let type = rawType.trimmingASCIIWhitespace()
        guard !type.isEmpty else { throw .missingType }
        guard type.utf8.count <= maximumTypeLength else {
            throw .invalidField("type", "is longer than \(maximumTypeLength) bytes")
        }

        let data = try dataObject(in: object)
        let occurredAt = try timestamp(in: object)
        let email = try emailAddress(data: data, root: object)

        var idempotencyKey: String?
        if let value = object["idempotency_key"], !value.isNull {
            guard let key = value.stringValue, !key.isEmpty, key.utf8.count <= maximumKeyLength else {
                throw .invalidField("idempotency_key", "must be a non-empty string of at most \(maximumKeyLength) bytes")
            }
            idempotencyKey = key
        }

        return CanonicalEvent(
            type: type,
            occurredAt: occurredAt,
            email: email,
            firstName: try name("first_name", in: data),
            lastName: try name("last_name", in: data),
            metadata: data,
            idempotencyKey: idempotencyKey
        )
    }

    private static func dataObject(in object: JSONObject) throws(InputError) -> JSONObject {
        for field in ["data", "metadata"] {
            guard let value = object[field], !value.isNull else { continue }
            guard let data = value.objectValue else { throw .invalidField(field, "must be a JSON object") }
            return data
        }
        return JSONObject()
    }

    private static func timestamp(in object: JSONObject) throws(InputError) -> Timestamp? {
        for field in ["timestamp", "occurred_at"] {
            guard let value = object[field], !value.isNull else { continue }
            guard let text = value.stringValue, let parsed = RFC3339.parse(text) else { throw .invalidTimestamp(field) }
            return parsed
        }
        return nil
    }

    private static func emailAddress(data: JSONObject, root: JSONObject) throws(InputError) -> EmailAddress? {
        for (field, value) in [("data.email", data["email"]), ("email", root["email"])] {
            guard let value, !value.isNull else { continue }
            guard let text = value.stringValue else { throw .invalidEmail(field) }
            // A form that sends an empty field names no contact; that is not a malformed address.
            if text.trimmingASCIIWhitespace().isEmpty { continue }
            guard let email = EmailAddress(text) else { throw .invalidEmail(field) }
            return email
        }
        return nil
    }

    private static func name(_ field: String, in data: JSONObject) throws(InputError) -> String? {
        guard let value = data[field], !value.isNull else { return nil }
        guard let text = value.stringValue else { throw .invalidField("data.\(field)", "must be a string") }
        let trimmed = text.trimmingASCIIWhitespace()
        return trimmed.isEmpty ? nil : trimmed
    }
}
