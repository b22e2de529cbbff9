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
            "created_at": .string(RFC3339.format(contact.createdAt)),
            "tags": .array(contact.tags.map(JSON.string)),
            "suppressed": .bool(contact.suppression != nil),
            "suppression": contact.suppression.map { suppression in
                .object([
                    "reason": .string(suppression.reason),
                    "since": .string(RFC3339.format(suppression.since)),
                ])
            } ?? .null,
        ])
    }

    static func suppressed(_ entry: SuppressedAddress) -> JSON {
        .object([
            "email": .string(entry.email.value),
            "reason": .string(entry.suppression.reason),
            "since": .string(RFC3339.format(entry.suppression.since)),
        ])
    }

    /// An archived delivery. The body is shown as text when it is UTF-8, else as base64.
    static func inbound(_ event: InboundEvent) -> JSON {
        let text = String(validating: event.body, as: UTF8.self)
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
            "body_base64": text == nil ? .string(Data(event.body).base64EncodedString()) : .null,
        ])
    }

    /// The archived headers (a JSON object) as a header list, for a replay.
    static func headerList(_ json: String) -> [(name: String, value: String)] {
        guard let object = (try? JSONParser.parse(Array(json.utf8)))?.objectValue else { return [] }
        return object.members.compactMap { member in member.value.stringValue.map { (name: member.key, value: $0) } }
    }
}
