import Engine

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
}
