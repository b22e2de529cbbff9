import Engine

/// `POST /webhooks/postmark`. Postmark does not sign its webhooks: it is authenticated with HTTP
/// basic auth. Routing is on `RecordType`; keys are looked up in any letter case (`MessageID`
/// and `MessageId` both occur). The dedupe key is `X-PM-Webhook-Trace-Id`, else one derived
/// from record type, message id, recipient and event time.
struct PostmarkSource: WebhookSource {
    let name = "postmark"

    /// How one record type becomes an activity.
    struct Mapping: Sendable {
        /// The activity type, decided from the record (SubscriptionChange depends on it).
        let type: @Sendable (JSONObject) -> String
        /// The key holding the recipient, and the one holding the event time.
        let recipientKey: String
        let timeKey: String
        /// Extra metadata for this record type.
        let metadata: @Sendable (JSONObject) -> [(key: String, value: JSON)]
        /// The suppression change the record causes, if any.
        let suppression: @Sendable (JSONObject, EmailAddress, Timestamp) -> SuppressionChange?
    }

    /// Bounce types that mean the address will never accept mail.
    static let hardBounceTypes: Set<String> = ["HardBounce", "BadEmailAddress", "ManuallyDeactivated"]

    static let mappings: [String: Mapping] = [
        "Delivery": Mapping(
            type: { _ in "email.delivered" }, recipientKey: "Recipient", timeKey: "DeliveredAt",
            metadata: { record in [("details", field(record, "Details"))] },
            suppression: { _, _, _ in nil }),
        "Bounce": Mapping(
            type: { _ in "email.bounced" }, recipientKey: "Email", timeKey: "BouncedAt",
            metadata: { record in
                [
                    ("bounce_type", field(record, "Type")), ("bounce_kind", .string(isHard(record) ? "hard" : "soft")),
                    ("type_code", field(record, "TypeCode")), ("description", field(record, "Description")),
                    ("details", field(record, "Details")), ("inactive", field(record, "Inactive")),
                ]
            },
            suppression: { record, email, time in isHard(record) ? .suppress(email, reason: "hard_bounce", at: time) : nil }),
        "SpamComplaint": Mapping(
            type: { _ in "email.complained" }, recipientKey: "Email", timeKey: "BouncedAt",
            metadata: { record in [("description", field(record, "Description")), ("details", field(record, "Details"))] },
            suppression: { _, email, time in .suppress(email, reason: "spam_complaint", at: time) }),
        "Open": Mapping(
            type: { _ in "email.opened" }, recipientKey: "Recipient", timeKey: "ReceivedAt",
            metadata: { record in clientMetadata(record) + [("first_open", field(record, "FirstOpen"))] },
            suppression: { _, _, _ in nil }),
        "Click": Mapping(
            type: { _ in "email.clicked" }, recipientKey: "Recipient", timeKey: "ReceivedAt",
            metadata: { record in
                clientMetadata(record) + [
                    ("link", field(record, "OriginalLink")), ("click_location", field(record, "ClickLocation")),
                ]
            },
            suppression: { _, _, _ in nil }),
        "SubscriptionChange": Mapping(
            type: { record in suppresses(record) ? "email.unsubscribed" : "email.resubscribed" },
            recipientKey: "Recipient", timeKey: "ChangedAt",
            metadata: { record in
                [
                    ("suppress_sending", field(record, "SuppressSending")),
                    ("suppression_reason", field(record, "SuppressionReason")), ("origin", field(record, "Origin")),
                ]
            },
            suppression: { record, email, time in
                guard suppresses(record) else { return .lift(email, at: time) }
                let reason =
                    switch record[ignoringCase: "SuppressionReason"]?.stringValue {
                    case "HardBounce": "hard_bounce"
                    case "SpamComplaint": "spam_complaint"
                    default: "unsubscribe"
                    }
                return .suppress(email, reason: reason, at: time)
            }),
    ]

    /// `nil` when `CORTEX_POSTMARK_WEBHOOK_USER` / `_PASSWORD` are unset.
    let credentials: BasicCredentials?

    func authenticate(_ request: InboundRequest) throws(WebhookAuthError) {
        guard let credentials else { throw .notConfigured("CORTEX_POSTMARK_WEBHOOK_USER and _PASSWORD") }
        try credentials.verify(authorization: request.header("authorization"))
    }

    func eventID(_ request: InboundRequest, payload: JSONObject?) -> String? {
        if let trace = request.header("x-pm-webhook-trace-id"), !trace.isEmpty { return trace }
        guard let payload else { return nil }
        // Inbound messages carry no RecordType; their MessageID alone identifies them.
        let recordType = payload[ignoringCase: "RecordType"]?.stringValue ?? "Inbound"
        let mapping = Self.mappings[recordType]
        let parts = [
            recordType, Self.text(payload[ignoringCase: "MessageID"]),
            Self.text(payload[ignoringCase: mapping?.recipientKey ?? "Recipient"]),
            Self.text(payload[ignoringCase: mapping?.timeKey ?? "ReceivedAt"]),
        ]
        return parts.joined(separator: "|")
    }

    func normalize(_ payload: JSONObject, _ request: InboundRequest) throws(InputError) -> Normalization {
        // Unknown record types (and inbound messages, which have none) are archived, not mapped.
        guard let recordType = payload[ignoringCase: "RecordType"]?.stringValue, let mapping = Self.mappings[recordType]
        else { return Normalization() }
        guard let raw = payload[ignoringCase: mapping.recipientKey]?.stringValue, let email = EmailAddress(raw) else {
            return Normalization()
        }
        let occurredAt = payload[ignoringCase: mapping.timeKey]?.stringValue.flatMap(RFC3339.parse) ?? request.receivedAt
        var metadata = JSONObject()
        metadata.members = [
            ("record_type", .string(recordType)),
            ("message_id", Self.field(payload, "MessageID")),
            ("message_stream", Self.field(payload, "MessageStream")),
            ("tag", Self.field(payload, "Tag")),
            ("metadata", payload[ignoringCase: "Metadata"].flatMap { $0.isNull ? nil : $0 } ?? .object([:])),
            ("postmark_id", Self.field(payload, "ID")),
            ("server_id", Self.field(payload, "ServerID")),
        ] + mapping.metadata(payload)
        return Normalization(
            activities: [
                NewActivity(
                    type: mapping.type(payload), contactEmail: email, occurredAt: occurredAt,
                    metadata: JSON.object(metadata).serialized(),
                    providerMessageID: payload[ignoringCase: "MessageID"]?.stringValue)
            ],
            suppressions: mapping.suppression(payload, email, occurredAt).map { [$0] } ?? [])
    }

    static func field(_ record: JSONObject, _ key: String) -> JSON {
        record[ignoringCase: key] ?? .null
    }

    static func isHard(_ record: JSONObject) -> Bool {
        record[ignoringCase: "Inactive"] == .bool(true)
            || hardBounceTypes.contains(record[ignoringCase: "Type"]?.stringValue ?? "")
    }

    static func suppresses(_ record: JSONObject) -> Bool {
        record[ignoringCase: "SuppressSending"] == .bool(true)
    }

    /// Open and click records name the reader's client, OS and platform.
    static func clientMetadata(_ record: JSONObject) -> [(key: String, value: JSON)] {
        [
            ("client", record[ignoringCase: "Client"]?.objectValue?[ignoringCase: "Name"] ?? .null),
            ("os", record[ignoringCase: "OS"]?.objectValue?[ignoringCase: "Name"] ?? .null),
            ("platform", field(record, "Platform")),
        ]
    }

    private static func text(_ value: JSON?) -> String {
        switch value {
        case .string(let text)?: text
        case .number(let text)?: text
        default: ""
        }
    }
}
