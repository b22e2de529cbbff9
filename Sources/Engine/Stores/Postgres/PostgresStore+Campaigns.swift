import Logging
import PostgresNIO

extension PostgresStore {
    private typealias CampaignRow = (Int64, String, String, Int64?, Int64, Int64)
    private static let campaignColumns =
        "id, definition::text, status, cortex_us(scheduled_at), cortex_us(created_at), cortex_us(updated_at)"

    public func createCampaign(_ definition: CampaignDefinition, at time: Timestamp) async throws -> Int64 {
        let text = JSON.object(definition.json).serialized()
        let id = try await mapped { [self] in
            try await client.query(
                """
                INSERT INTO campaigns (definition, status, created_at, updated_at)
                VALUES (\(text)::json, 'draft', cortex_ts(\(time.microseconds)), cortex_ts(\(time.microseconds)))
                RETURNING id
                """, logger: logger
            ).decode(Int64.self).first { _ in true }
        }
        guard let id else { throw StoreError.unavailable("campaign insert returned no id") }
        return id
    }

    public func campaigns() async throws -> [Campaign] {
        try await mapped { [self] in
            try await Self.campaigns(client.query("SELECT \(unescaped: Self.campaignColumns) FROM campaigns ORDER BY id DESC", logger: logger))
        }
    }

    public func campaign(id: Int64) async throws -> Campaign? {
        try await mapped { [self] in
            try await Self.campaigns(
                client.query("SELECT \(unescaped: Self.campaignColumns) FROM campaigns WHERE id = \(id)", logger: logger)
            ).first
        }
    }

    public func updateCampaign(id: Int64, _ definition: CampaignDefinition, at time: Timestamp) async throws -> Campaign? {
        let text = JSON.object(definition.json).serialized()
        return try await mapped { [self] in
            try await client.withTransaction(logger: logger) { connection -> Campaign? in
                guard let current = try await Self.locked(connection, id: id, logger: logger) else { return nil }
                guard current.status.isEditable else { throw StoreError.conflict("campaign \(id) is \(current.status.rawValue)") }
                return try await Self.campaigns(
                    connection.query(
                        """
                        UPDATE campaigns SET definition = \(text)::json, updated_at = cortex_ts(\(time.microseconds))
                        WHERE id = \(id) RETURNING \(unescaped: Self.campaignColumns)
                        """, logger: logger)
                ).first
            }
        }
    }

    public func deleteCampaign(id: Int64) async throws -> Bool {
        try await mapped { [self] in
            try await client.withTransaction(logger: logger) { connection -> Bool in
                guard let current = try await Self.locked(connection, id: id, logger: logger) else { return false }
                guard current.status.isEditable else { throw StoreError.conflict("campaign \(id) is \(current.status.rawValue)") }
                try await connection.query("DELETE FROM campaigns WHERE id = \(id)", logger: logger)
                return true
            }
        }
    }

    /// The campaign, its row locked until the transaction ends.
    private static func locked(_ connection: PostgresConnection, id: Int64, logger: Logger) async throws -> Campaign? {
        try await campaigns(
            connection.query("SELECT \(unescaped: campaignColumns) FROM campaigns WHERE id = \(id) FOR UPDATE", logger: logger)
        ).first
    }

    private static func campaigns(_ rows: PostgresRowSequence) async throws -> [Campaign] {
        var campaigns: [Campaign] = []
        for try await row in rows.decode(CampaignRow.self) {
            campaigns.append(
                try StoredCampaign(
                    id: row.0, definition: row.1, status: row.2, scheduledAt: row.3, createdAt: row.4, updatedAt: row.5
                ).campaign())
        }
        return campaigns
    }
}
