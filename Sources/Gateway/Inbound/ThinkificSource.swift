import Engine

/// `POST /webhooks/thinkific`. `X-Thinkific-Hmac-Sha256` is the hex HMAC-SHA256 of the raw body
/// keyed with the site's API key. The scheme signs no timestamp, so the envelope `id` (checked
/// only after the signature) is what stops replays.
struct ThinkificSource: WebhookSource {
    let name = "thinkific"

    /// Topic (`resource.action`) → activity type. Other topics are archived without activity.
    static let activityTypes: [String: String] = [
        "enrollment.created": "course.enrolled",
        "enrollment.completed": "course.completed",
        "lesson.completed": "lesson.completed",
        "order.created": "order.completed",
    ]

    /// `nil` when `CORTEX_THINKIFIC_SECRET` is unset.
    let hmac: HexHMAC?

    init(secret: String?) {
        hmac = secret.map(HexHMAC.init(secret:))
    }

    func authenticate(_ request: InboundRequest) throws(WebhookAuthError) {
        guard let hmac else { throw .notConfigured("CORTEX_THINKIFIC_SECRET") }
        guard let header = request.header("x-thinkific-hmac-sha256"), !header.isEmpty else {
            throw .missingHeader("X-Thinkific-Hmac-Sha256")
        }
        guard let given = HexHMAC.bytes(fromHex: header.trimmingASCIIWhitespace()),
            ConstantTime.equals(given, hmac.signature(request.body))
        else {
            throw WebhookAuthError(kind: .signature, message: "X-Thinkific-Hmac-Sha256 does not match the body")
        }
    }

    func eventID(_ request: InboundRequest, payload: JSONObject?) -> String? {
        switch payload?["id"] {
        case .string(let id)?: id
        case .number(let id)?: id
        default: nil
        }
    }

    func normalize(_ payload: JSONObject, _ request: InboundRequest) throws(InputError) -> Normalization {
        guard let resource = payload["resource"]?.stringValue, let action = payload["action"]?.stringValue else {
            throw InputError(code: "missing_type", message: "the event has no \"resource\" and \"action\"")
        }
        let topic = "\(resource).\(action)"
        guard let type = Self.activityTypes[topic] else { return Normalization() }
        guard let body = payload["payload"]?.objectValue else {
            throw .invalidField("payload", "must be a JSON object")
        }
        let user = body["user"]?.objectValue
        guard let rawEmail = user?["email"]?.stringValue ?? body["email"]?.stringValue,
            let email = EmailAddress(rawEmail)
        else { return Normalization() }
        let occurredAt = payload["created_at"]?.stringValue.flatMap(RFC3339.parse) ?? request.receivedAt
        var metadata = body
        metadata.members.append((key: "topic", value: .string(topic)))
        return Normalization(activities: [
            NewActivity(
                type: type, contactEmail: email, occurredAt: occurredAt, metadata: JSON.object(metadata).serialized(),
                firstName: user?["first_name"]?.stringValue.flatMap(Self.nonEmpty),
                lastName: user?["last_name"]?.stringValue.flatMap(Self.nonEmpty))
        ])
    }

    private static func nonEmpty(_ text: String) -> String? {
        let trimmed = text.trimmingASCIIWhitespace()
        return trimmed.isEmpty ? nil : trimmed
    }
}
