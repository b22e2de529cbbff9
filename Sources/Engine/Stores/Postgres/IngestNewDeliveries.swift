import Foundation
import PostgresNIO

/// A whole batch of common deliveries (one activity each, no suppression, distinct event ids) in
/// one round trip: the columns go as arrays, `unnest` turns them back into rows, and one statement
/// inserts the archive rows, upserts each contact once and inserts the activities. A delivery
/// whose event id is already taken inserts nothing and is absent from the answer.
///
/// Contacts are grouped by address first, because one statement may not upsert a row twice; the
/// result is what the deliveries would have left one after another: the last name given wins,
/// and a delivery without a name keeps the one known. Rows are written in key order (event ids,
/// addresses), so concurrent batches that share keys take their locks in the same order and
/// wait for each other instead of deadlocking.
struct IngestNewDeliveries: PostgresPreparedStatement {
    static let sql = """
        WITH input AS (
            SELECT * FROM unnest($1::text[], $2::text[], $3::int8[], $4::text[], $5::bytea[], $6::text[],
                                 $7::text[], $8::bool[], $9::text[], $10::bool[], $11::text[], $12::int8[], $13::text[], $14::text[])
                WITH ORDINALITY AS t(source, external_id, received_us, headers, body, email, first_name, has_first_name,
                                     last_name, has_last_name, type, occurred_us, metadata, provider_message_id, ord)
        ), inbound AS (
            INSERT INTO inbound_events (source, external_id, received_at, headers, body, verdict)
            SELECT source, external_id, cortex_ts(received_us), headers::jsonb, body, 'accepted' FROM input
            ORDER BY source, external_id
            ON CONFLICT (source, external_id) WHERE verdict = 'accepted' AND external_id IS NOT NULL
            DO NOTHING
            RETURNING id, source, external_id
        ), accepted AS (
            SELECT input.*, inbound.id AS inbound_id FROM input JOIN inbound USING (source, external_id)
        ), contact AS (
            INSERT INTO contacts (email, first_name, last_name, created_at, updated_at)
            SELECT email,
                   (array_agg(first_name ORDER BY ord DESC) FILTER (WHERE has_first_name))[1],
                   (array_agg(last_name ORDER BY ord DESC) FILTER (WHERE has_last_name))[1],
                   cortex_ts(min(received_us)), cortex_ts(max(received_us))
            FROM accepted GROUP BY email ORDER BY email
            ON CONFLICT (email) DO UPDATE SET
                first_name = COALESCE(excluded.first_name, contacts.first_name),
                last_name = COALESCE(excluded.last_name, contacts.last_name),
                updated_at = excluded.updated_at
            RETURNING id, email
        ), activity AS (
            INSERT INTO crm_activities (type, contact_id, contact_email, occurred_at, received_at,
                source, source_event_id, inbound_event_id, metadata)
            SELECT accepted.type, contact.id, accepted.email, cortex_ts(accepted.occurred_us),
                   cortex_ts(accepted.received_us), accepted.source, accepted.external_id, accepted.inbound_id,
                   accepted.metadata::jsonb || COALESCE((SELECT jsonb_build_object('email_job_id', j.id) FROM email_jobs j
                       WHERE j.provider_message_id = NULLIF(accepted.provider_message_id, '') ORDER BY j.id LIMIT 1), '{}'::jsonb)
            FROM accepted JOIN contact USING (email) ORDER BY accepted.ord
            RETURNING id, inbound_event_id, source, source_event_id
        )
        SELECT inbound_event_id, id, source, source_event_id FROM activity
        """

    typealias Row = (inboundID: Int64, activityID: Int64, source: String, externalID: String)

    /// Each delivery with its event id and its one activity.
    let deliveries: [(pending: PendingIngest, externalID: String, activity: NewActivity)]

    func makeBindings() throws -> PostgresBindings {
        var bindings = PostgresBindings(capacity: 14)
        bindings.append(deliveries.map(\.pending.delivery.source))
        bindings.append(deliveries.map(\.externalID))
        bindings.append(deliveries.map(\.pending.delivery.receivedAt.microseconds))
        bindings.append(deliveries.map(\.pending.headers))
        bindings.append(deliveries.map { ByteBuffer(bytes: $0.pending.delivery.body) })
        bindings.append(deliveries.map(\.activity.contactEmail.value))
        // Arrays of optionals cannot be bound: a flag beside each name says whether it is set.
        bindings.append(deliveries.map { $0.activity.firstName ?? "" })
        bindings.append(deliveries.map { $0.activity.firstName != nil })
        bindings.append(deliveries.map { $0.activity.lastName ?? "" })
        bindings.append(deliveries.map { $0.activity.lastName != nil })
        bindings.append(deliveries.map(\.activity.type))
        bindings.append(deliveries.map(\.activity.occurredAt.microseconds))
        bindings.append(deliveries.map(\.activity.metadata))
        // The provider's id of a message Cortex sent links the activity to its ledger row
        // (`email_job_id` in the metadata); "" for none.
        bindings.append(deliveries.map { $0.activity.providerMessageID ?? "" })
        return bindings
    }

    func decodeRow(_ row: PostgresRow) throws -> Row {
        let (inboundID, activityID, source, externalID) = try row.decode((Int64, Int64, String, String).self)
        return (inboundID, activityID, source, externalID)
    }
}

extension PendingIngest {
    /// Whether this is the common kind of delivery the one-statement paths write: one activity,
    /// no suppression change.
    var isCommon: Bool { activities.count == 1 && suppressions.isEmpty }
}
