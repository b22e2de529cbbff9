import Engine
import Foundation

/// The JSON shapes of the API's resources, in one place.
enum ResourceJSON {
    static func activity(_ activity: Activity) -> JSON {
        .object([
            "id": .int(activity.id),
            "type": .string(activity.type),
            "contact_email": .string(activity.contactEmail.value),
            "occurred_at": .string(RFC3339.format(activity.occurredAt)),
            "received_at": .string(RFC3339.format(activity.receivedAt)),
            "source": .string(activity.source),
            "source_event_id": activity.sourceEventID.map(JSON.string) ?? .null,
            // Stored as JSON text written by Cortex itself, so it parses; numbers stay exact.
            "metadata": (try? JSONParser.parse(Array(activity.metadata.utf8))) ?? .object([:]),
        ])
    }

    static func contact(_ contact: Contact) -> JSON {
        .object([
            "email": .string(contact.email.value),
            "first_name": contact.firstName.map(JSON.string) ?? .null,
            "last_name": contact.lastName.map(JSON.string) ?? .null,
            "external_id": contact.externalID.map(JSON.string) ?? .null,
            "timezone": contact.timezone.map(JSON.string) ?? .null,
            // Stored as JSON text written by Cortex itself, so it parses.
            "attributes": (try? JSONParser.parse(Array(contact.attributes.utf8))) ?? .object([:]),
            "lifecycle": .string(contact.lifecycle),
            "tags": .array(contact.tags.map(JSON.string)),
            "consent": .object([
                "status": .string(contact.consent.status.rawValue),
                "at": contact.consent.at.map { .string(RFC3339.format($0)) } ?? .null,
                "source": contact.consent.source.map(JSON.string) ?? .null,
            ]),
            "suppressed": .bool(contact.suppression != nil),
            "suppression": contact.suppression.map { suppression in
                .object([
                    "reason": .string(suppression.reason),
                    "since": .string(RFC3339.format(suppression.since)),
                ])
            } ?? .null,
            "created_at": .string(RFC3339.format(contact.createdAt)),
            "last_activity_at": contact.lastActivityAt.map { .string(RFC3339.format($0)) } ?? .null,
        ])
    }

    static func suppressed(_ entry: SuppressedAddress) -> JSON {
        .object([
            "email": .string(entry.email.value),
            "reason": .string(entry.suppression.reason),
            "since": .string(RFC3339.format(entry.suppression.since)),
        ])
    }

    /// A stored API key: never the key nor its hash.
    static func apiKey(_ key: APIKey) -> JSON {
        .object([
            "id": .int(key.id),
            "name": .string(key.name),
            "hint": key.hint.map(JSON.string) ?? .null,
            "created_at": .string(RFC3339.format(key.createdAt)),
            "revoked_at": key.revokedAt.map { .string(RFC3339.format($0)) } ?? .null,
        ])
    }

    /// An archived delivery. The body is shown as text when it is UTF-8, else as base64; both are
    /// null once the body is pruned. `body_length` is the bytes received, more than shown when
    /// only a rejected body's prefix is kept (`body_truncated`).
    static func inbound(_ event: InboundEvent) -> JSON {
        let text = event.bodyPruned ? nil : String(validating: event.body, as: UTF8.self)
        return .object([
            "id": .int(event.id),
            "source": .string(event.source),
            "external_id": event.externalID.map(JSON.string) ?? .null,
            "received_at": .string(RFC3339.format(event.receivedAt)),
            "verdict": .string(event.verdict.rawValue),
            "reason": event.reason.map(JSON.string) ?? .null,
            "duplicate_of": event.duplicateOf.map { .int($0) } ?? .null,
            "headers": (try? JSONParser.parse(Array(event.headers.utf8))) ?? .object([:]),
            "body": text.map(JSON.string) ?? .null,
            "body_base64": text == nil && !event.bodyPruned ? .string(Data(event.body).base64EncodedString()) : .null,
            "body_length": .int(event.bodyLength),
            "body_truncated": .bool(event.bodyTruncated),
            "body_pruned": .bool(event.bodyPruned),
        ])
    }

    /// The archived headers (a JSON object) as a header list, for a replay.
    static func headerList(_ json: String) -> [(name: String, value: String)] {
        guard let object = (try? JSONParser.parse(Array(json.utf8)))?.objectValue else { return [] }
        return object.members.compactMap { member in member.value.stringValue.map { (name: member.key, value: $0) } }
    }

    /// A ledger row. `duplicate` is set on the answer to a send; content only on a single read.
    static func message(_ job: EmailJob, duplicate: Bool?, withContent: Bool = false) -> JSON {
        var members: [(key: String, value: JSON)] = [
            ("id", .int(job.id)),
            ("idempotency_key", .string(job.message.idempotencyKey)),
            ("status", .string(job.status.rawValue)),
            ("to", .string(job.message.recipient.value)),
            ("from", .string(job.message.sender)),
            ("subject", .string(job.message.subject)),
            ("stream", .string(job.message.stream.rawValue)),
            ("tag", job.message.tag.map(JSON.string) ?? .null),
            ("metadata", (try? JSONParser.parse(Array(job.message.metadata.utf8))) ?? .object([:])),
            ("attempts", .int(job.attempts)),
            ("next_attempt_at", .string(RFC3339.format(job.nextAttemptAt))),
            ("last_error", job.lastError.map(JSON.string) ?? .null),
            ("provider", job.provider.map(JSON.string) ?? .null),
            ("provider_message_id", job.providerMessageID.map(JSON.string) ?? .null),
            ("created_at", .string(RFC3339.format(job.createdAt))),
            ("sent_at", job.sentAt.map { .string(RFC3339.format($0)) } ?? .null),
        ]
        if let duplicate { members.append(("duplicate", .bool(duplicate))) }
        if withContent {
            members.append(("html", job.message.html.map(JSON.string) ?? .null))
            members.append(("text", job.message.text.map(JSON.string) ?? .null))
            members.append(("track_opens", job.message.trackOpens.map(JSON.bool) ?? .null))
            members.append(("track_links", job.message.trackLinks.map { .string($0.rawValue) } ?? .null))
            members.append(("headers", .object(JSONObject(job.message.headers.map { ($0.name, .string($0.value)) }))))
        }
        return .object(JSONObject(members))
    }
}
