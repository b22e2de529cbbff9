import Foundation
import PostgresNIO

/// The common delivery (one activity, no suppression) in one round trip: archive row, contact
/// upsert and activity in one statement. Prepared once per connection, so the server parses and
/// plans it once instead of on every event. No row back means the event id is already taken.
struct IngestNewDelivery: PostgresPreparedStatement {
    static let sql = """
        WITH inbound AS (
            INSERT INTO inbound_events (source, external_id, received_at, headers, body, verdict)
            VALUES ($1, $2, cortex_ts($3), $4::jsonb, $5, 'accepted')
            ON CONFLICT (source, external_id) WHERE verdict = 'accepted' AND external_id IS NOT NULL
            DO NOTHING
            RETURNING id
        ), contact AS (
            INSERT INTO contacts (email, first_name, last_name, created_at, updated_at)
            SELECT $6, $7, $8, cortex_ts($3), cortex_ts($3)
            WHERE EXISTS (SELECT 1 FROM inbound)
            ON CONFLICT (email) DO UPDATE SET
                first_name = COALESCE(excluded.first_name, contacts.first_name),
                last_name = COALESCE(excluded.last_name, contacts.last_name),
                updated_at = excluded.updated_at
            RETURNING id
        ), activity AS (
            INSERT INTO crm_activities (type, contact_id, contact_email, occurred_at, received_at,
                source, source_event_id, inbound_event_id, metadata)
            SELECT $9, contact.id, $6, cortex_ts($10), cortex_ts($3), $1, $2, inbound.id, $11::jsonb
            FROM inbound, contact
            RETURNING id, inbound_event_id
        )
        SELECT inbound_event_id, id FROM activity
        """

    // Explicit, so a first execution with a NULL (no name, no event id) prepares the same types.
    static let bindingDataTypes: [PostgresDataType] = [
        .text, .text, .int8, .text, .bytea, .text, .text, .text, .text, .int8, .text,
    ]

    typealias Row = (Int64, Int64)

    let delivery: InboundDelivery
    let headers: String
    let activity: NewActivity

    func makeBindings() throws -> PostgresBindings {
        var bindings = PostgresBindings(capacity: 11)
        bindings.append(delivery.source)
        bindings.append(delivery.externalID)
        bindings.append(delivery.receivedAt.microseconds)
        bindings.append(headers)
        bindings.append(ByteBuffer(bytes: delivery.body))
        bindings.append(activity.contactEmail.value)
        bindings.append(activity.firstName)
        bindings.append(activity.lastName)
        bindings.append(activity.type)
        bindings.append(activity.occurredAt.microseconds)
        bindings.append(activity.metadata)
        return bindings
    }

    func decodeRow(_ row: PostgresRow) throws -> Row {
        try row.decode(Row.self)
    }
}
