import GRDB

extension SQLiteStore {
    public func createCampaign(_ definition: CampaignDefinition, at time: Timestamp) async throws -> Int64 {
        try await write { db in
            try db.execute(
                sql: "INSERT INTO campaigns (definition, status, created_at, updated_at) VALUES (?, 'draft', ?, ?)",
                arguments: [JSON.object(definition.json).serialized(), time.microseconds, time.microseconds])
            return db.lastInsertedRowID
        }
    }

    public func campaigns() async throws -> [Campaign] {
        try await read { db in try Self.campaigns(db, where: "1 = 1", []) }
    }

    public func campaign(id: Int64) async throws -> Campaign? {
        try await read { db in try Self.campaigns(db, where: "id = ?", [id]).first }
    }

    public func updateCampaign(id: Int64, _ definition: CampaignDefinition, at time: Timestamp) async throws -> Campaign? {
        try await write { db in
            guard let current = try Self.campaigns(db, where: "id = ?", [id]).first else { return nil }
            guard current.status.isEditable else { throw StoreError.conflict("campaign \(id) is \(current.status.rawValue)") }
            try db.execute(
                sql: "UPDATE campaigns SET definition = ?, updated_at = ? WHERE id = ?",
                arguments: [JSON.object(definition.json).serialized(), time.microseconds, id])
            return try Self.campaigns(db, where: "id = ?", [id]).first
        }
    }

    public func deleteCampaign(id: Int64) async throws -> Bool {
        try await write { db in
            guard let current = try Self.campaigns(db, where: "id = ?", [id]).first else { return false }
            guard current.status.isEditable else { throw StoreError.conflict("campaign \(id) is \(current.status.rawValue)") }
            try db.execute(sql: "DELETE FROM campaigns WHERE id = ?", arguments: [id])
            return true
        }
    }

    private static func campaigns(_ db: Database, where condition: String, _ arguments: StatementArguments) throws -> [Campaign] {
        try Row.fetchAll(
            db, sql: "SELECT \(StoredCampaign.columns) FROM campaigns WHERE \(condition) ORDER BY id DESC", arguments: arguments
        ).map { row in
            try StoredCampaign(
                id: row["id"], definition: row["definition"], status: row["status"], scheduledAt: row["scheduled_at"],
                createdAt: row["created_at"], updatedAt: row["updated_at"]
            ).campaign()
        }
    }
}
