import Foundation
import Testing

@testable import Engine
import CortexTestSupport

/// Every backend classifies what its database refuses the same way: a collision with stored
/// rows is a `conflict`, data the schema refuses is `invalid`, and only the rest (an outage, a
/// broken statement) is `unavailable`, the one kind a client is told to retry.
@Suite struct StoreErrorConformanceTests {
    static let time = Timestamp.at("2026-11-26T12:00:00Z")

    /// The kind of `StoreError` that `body` fails with; nil if it succeeds or throws another type.
    static func failure(_ body: () async throws -> Void) async -> StoreError.Kind? {
        do {
            try await body()
            return nil
        } catch {
            return (error as? StoreError)?.kind
        }
    }

    /// A store holding one delivery with one activity and one contact, and one API key.
    static func seeded(_ store: any Store) async throws -> any GroupCommittingStore {
        _ = try await store.ingest(delivery(id: "msg_1"), activities: [activity(email: "ada@example.com")])
        try await store.createAPIKey(name: "first", keyHash: "hash-1", hint: nil, at: time)
        return try #require(store as? any GroupCommittingStore)
    }

    @Test(arguments: StoreBackend.enabled)
    func aRepeatedUniqueKeyIsAConflict(backend: StoreBackend) async throws {
        try await backend.withStore { store in
            _ = try await Self.seeded(store)
            #expect(await Self.failure { try await store.createAPIKey(name: "again", keyHash: "hash-1", hint: nil, at: Self.time) } == .conflict)
            #expect(try await store.apiKeyExists(keyHash: "hash-1"))
        }
    }

    @Test(arguments: StoreBackend.enabled)
    func aMissingReferencedRowIsAConflict(backend: StoreBackend) async throws {
        try await backend.withStore { store in
            let raw = try await Self.seeded(store)
            #expect(await Self.failure { try await raw.execute(rawSQL: "UPDATE crm_activities SET contact_id = contact_id + 1000000") } == .conflict)
        }
    }

    @Test(arguments: StoreBackend.enabled)
    func aCheckOrNotNullViolationOrABadValueIsInvalid(backend: StoreBackend) async throws {
        try await backend.withStore { store in
            let raw = try await Self.seeded(store)
            #expect(await Self.failure { try await raw.execute(rawSQL: "UPDATE inbound_events SET verdict = 'bogus'") } == .invalid)
            #expect(await Self.failure { try await raw.execute(rawSQL: "UPDATE inbound_events SET source = NULL") } == .invalid)
            // Not an integer: SQLite's datatype mismatch, PostgreSQL's 22P02 (a data exception).
            #expect(await Self.failure { try await raw.execute(rawSQL: "UPDATE api_keys SET id = 'x'") } == .invalid)
            #expect(try await store.inboundEvents(InboundQuery()).map(\.verdict) == [.accepted])
        }
    }

    /// Not every refusal is the caller's: a statement the database cannot run at all (here, a
    /// missing table) is a server-side fault and stays `unavailable`.
    @Test(arguments: StoreBackend.enabled)
    func aFailureThatIsNotAConstraintStaysUnavailable(backend: StoreBackend) async throws {
        try await backend.withStore { store in
            let raw = try await Self.seeded(store)
            #expect(await Self.failure { try await raw.execute(rawSQL: "UPDATE no_such_table SET x = 1") } == .unavailable)
        }
    }
}
