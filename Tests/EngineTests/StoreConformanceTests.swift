import Foundation
import Testing

@testable import Engine
import CortexTestSupport

/// One suite for every store backend: the same calls, the same assertions.
@Suite struct StoreConformanceTests {
    @Test(arguments: StoreBackend.enabled)
    func migratesFromEmptyAndIsIdempotent(backend: StoreBackend) async throws {
        try await backend.withStore(migrated: false) { store in
        try await store.ping()
        await #expect(throws: StoreError.self) { _ = try await store.activities(ActivityQuery()) }
        try await store.migrate()
        try await store.migrate()
        #expect(try await store.activities(ActivityQuery()).isEmpty)
        }
    }

    @Test(arguments: StoreBackend.enabled)
    func concurrentMigrationsApplyEachStepOnce(backend: StoreBackend) async throws {
        try await backend.withStore(migrated: false) { store in
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<4 { group.addTask { try await store.migrate() } }
            try await group.waitForAll()
        }
        #expect(try await store.activities(ActivityQuery()).isEmpty)
        }
    }

    @Test(arguments: StoreBackend.enabled)
    func ingestWritesArchiveActivityAndContactTogether(backend: StoreBackend) async throws {
        try await backend.withStore { store in
        let outcome = try await store.ingest(
            delivery(id: "msg_1", body: #"{"type":"checkout.completed"}"#),
            activities: [activity(email: "ada@example.com", metadata: #"{"product":"P2P"}"#, firstName: "Ada")])
        #expect(outcome.duplicate == false)
        #expect(outcome.activityIDs.count == 1)

        let activities = try await store.activities(ActivityQuery())
        #expect(activities.count == 1)
        let written = try #require(activities.first)
        #expect(written.id == outcome.activityIDs[0])
        #expect(written.type == "checkout.completed")
        #expect(written.contactEmail == .of("ada@example.com"))
        #expect(written.occurredAt == .at("2026-11-26T11:00:00Z"))
        #expect(written.receivedAt == .at("2026-11-26T12:00:00Z"))
        #expect(written.source == "checkout")
        #expect(written.sourceEventID == "msg_1")
        #expect(parsedJSON(written.metadata) == .object(["product": .string("P2P")]))

        let contact = try #require(try await store.contact(email: .of("ada@example.com")))
        #expect(contact.firstName == "Ada")
        #expect(contact.createdAt == .at("2026-11-26T12:00:00Z"))
        #expect(contact.tags.isEmpty)
        #expect(contact.suppression == nil)

        let archive = try await store.inboundEvents(InboundQuery())
        #expect(archive.count == 1)
        #expect(archive.first?.verdict == .accepted)
        #expect(archive.first?.externalID == "msg_1")
        #expect(archive.first?.body == Array(#"{"type":"checkout.completed"}"#.utf8))
        #expect(parsedJSON(archive.first?.headers ?? "") == .object(["webhook-id": .string("msg_1")]))
        }
    }

    @Test(arguments: StoreBackend.enabled)
    func aRepeatedEventIDIsArchivedAsADuplicateAndWritesNothingElse(backend: StoreBackend) async throws {
        try await backend.withStore { store in
        let first = try await store.ingest(delivery(id: "msg_1"), activities: [activity(email: "ada@example.com")])
        let second = try await store.ingest(
            delivery(id: "msg_1", at: .at("2026-11-26T12:01:00Z")),
            activities: [activity(email: "other@example.com")],
            suppressions: [.suppress(.of("other@example.com"), reason: "hard_bounce", at: .at("2026-11-26T12:01:00Z"))])
        #expect(second == IngestOutcome(activityIDs: first.activityIDs, duplicate: true, inboundID: first.inboundID))
        #expect(try await store.activities(ActivityQuery()).count == 1)
        #expect(try await store.contact(email: .of("other@example.com")) == nil)
        #expect(try await store.suppressions(limit: 10).isEmpty)
        let archive = try await store.inboundEvents(InboundQuery())
        #expect(archive.map(\.verdict) == [.duplicate, .accepted])
        #expect(archive.first?.duplicateOf == first.inboundID)
        #expect(archive.first?.receivedAt == .at("2026-11-26T12:01:00Z"))
        }
    }

    @Test(arguments: StoreBackend.enabled)
    func dedupeIsPerSourceAndSkipsEventsWithoutID(backend: StoreBackend) async throws {
        try await backend.withStore { store in
        let a = try await store.ingest(delivery(source: "checkout", id: "1"), activities: [activity(email: "a@b.io")])
        let b = try await store.ingest(delivery(source: "api", id: "1"), activities: [activity(email: "a@b.io")])
        let c = try await store.ingest(delivery(source: "api", id: nil), activities: [activity(email: "a@b.io")])
        let d = try await store.ingest(delivery(source: "api", id: nil), activities: [activity(email: "a@b.io")])
        #expect([a, b, c, d].allSatisfy { !$0.duplicate })
        #expect(try await store.activities(ActivityQuery()).count == 4)
        }
    }

    @Test(arguments: StoreBackend.enabled)
    func aRejectedDeliveryIsArchivedButDoesNotHoldTheDedupeKey(backend: StoreBackend) async throws {
        try await backend.withStore { store in
        try await store.archiveRejected(delivery(id: "msg_9", body: "not json"), reason: "invalid_json: nope")
        let accepted = try await store.ingest(delivery(id: "msg_9"), activities: [activity(email: "a@b.io")])
        #expect(accepted.duplicate == false)
        let rejected = try await store.inboundEvents(InboundQuery(verdict: .rejected))
        #expect(rejected.map(\.reason) == ["invalid_json: nope"])
        #expect(try await store.inboundEvents(InboundQuery(verdict: .accepted)).count == 1)
        #expect(try await store.inboundEvents(InboundQuery(source: "stripe")).isEmpty)
        }
    }

    @Test(arguments: StoreBackend.enabled)
    func anEventNamingNoContactIsArchivedWithoutActivity(backend: StoreBackend) async throws {
        try await backend.withStore { store in
        let outcome = try await store.ingest(delivery(id: "msg_2"), activities: [])
        #expect(outcome.activityIDs.isEmpty && !outcome.duplicate)
        #expect(try await store.ingest(delivery(id: "msg_2"), activities: []).duplicate)
        #expect(try await store.inboundEvents(InboundQuery(verdict: .accepted)).count == 1)
        }
    }

    @Test(arguments: StoreBackend.enabled)
    func oneContactPerEmailAndNamesAreNeverBlanked(backend: StoreBackend) async throws {
        try await backend.withStore { store in
        _ = try await store.ingest(
            delivery(id: "1"), activities: [activity(email: "Ada@Example.com", firstName: "Ada", lastName: "Byron")])
        _ = try await store.ingest(delivery(id: "2", at: .at("2026-11-27T00:00:00Z")), activities: [activity(email: "ada@example.com")])
        _ = try await store.ingest(delivery(id: "3"), activities: [activity(email: "ada@example.com", lastName: "Lovelace")])
        let contact = try #require(try await store.contact(email: .of("ADA@example.com")))
        #expect(contact.firstName == "Ada")
        #expect(contact.lastName == "Lovelace")
        #expect(contact.createdAt == .at("2026-11-26T12:00:00Z"))
        #expect(try await store.activities(ActivityQuery(email: .of("ada@example.com"))).count == 3)
        }
    }

    @Test(arguments: StoreBackend.enabled)
    func listsActivitiesNewestFirstWithFiltersAndLimit(backend: StoreBackend) async throws {
        try await backend.withStore { store in
        _ = try await store.ingest(delivery(id: "1"), activities: [activity("checkout.started", email: "a@b.io", at: "2026-01-01T00:00:00Z")])
        _ = try await store.ingest(delivery(id: "2"), activities: [activity("checkout.completed", email: "a@b.io", at: "2026-01-03T00:00:00Z")])
        _ = try await store.ingest(delivery(id: "3"), activities: [activity("checkout.completed", email: "c@d.io", at: "2026-01-02T00:00:00Z")])

        let all = try await store.activities(ActivityQuery())
        #expect(all.map(\.sourceEventID) == ["2", "3", "1"])
        #expect(try await store.activities(ActivityQuery(email: .of("a@b.io"))).map(\.sourceEventID) == ["2", "1"])
        #expect(try await store.activities(ActivityQuery(type: "checkout.completed")).map(\.sourceEventID) == ["2", "3"])
        #expect(
            try await store.activities(ActivityQuery(email: .of("c@d.io"), type: "checkout.started")).isEmpty)
        #expect(try await store.activities(ActivityQuery(limit: 2)).map(\.sourceEventID) == ["2", "3"])
        }
    }

    @Test(arguments: StoreBackend.enabled)
    func anUnknownContactIsNil(backend: StoreBackend) async throws {
        try await backend.withStore { store async throws in
        #expect(try await store.contact(email: .of("nobody@example.com")) == nil)
        }
    }

    @Test(arguments: StoreBackend.enabled)
    func apiKeysAreFoundByHash(backend: StoreBackend) async throws {
        try await backend.withStore { store in
        #expect(try await store.apiKeyExists(keyHash: "abc") == false)
        try await store.createAPIKey(name: "shop", keyHash: "abc", hint: nil, at: .at("2026-11-26T00:00:00Z"))
        #expect(try await store.apiKeyExists(keyHash: "abc"))
        #expect(try await store.apiKeyExists(keyHash: "abd") == false)
        }
    }

    @Test(arguments: StoreBackend.enabled)
    func concurrentDeliveriesOfOneEventStoreItOnce(backend: StoreBackend) async throws {
        try await backend.withStore { store in
        let outcomes = try await withThrowingTaskGroup(of: IngestOutcome.self) { group in
            for index in 0..<16 {
                group.addTask {
                    try await store.ingest(delivery(id: "same"), activities: [activity(email: "racer\(index)@example.com")])
                }
                group.addTask {
                    try await store.ingest(delivery(id: "distinct-\(index)"), activities: [activity(email: "a@b.io")])
                }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(outcomes.filter { !$0.duplicate }.count == 17)
        #expect(outcomes.filter(\.duplicate).count == 15)
        #expect(try await store.activities(ActivityQuery(limit: 1000)).count == 17)
        }
    }

    @Test(arguments: StoreBackend.enabled)
    func insideOneGroupCommitTheSecondDeliveryOfAnEventIsItsDuplicate(backend: StoreBackend) async throws {
        try await backend.withStore { store in
        let batching = try #require(store as? any GroupCommittingStore)
        let results = await batching.ingestTogether([
            (delivery(id: "a"), [activity(email: "ada@example.com")]),
            (delivery(id: "b"), [activity(email: "bo@example.com")]),
            (delivery(id: "a"), [activity(email: "eve@example.com")]),
        ])
        let outcomes = try results.map { try $0.get() }
        #expect(outcomes.map(\.duplicate) == [false, false, true])
        #expect(outcomes[2].inboundID == outcomes[0].inboundID)
        #expect(outcomes[2].activityIDs == outcomes[0].activityIDs)
        #expect(try await store.activities(ActivityQuery()).count == 2)
        #expect(try await store.contact(email: .of("eve@example.com")) == nil)
        #expect(try await store.inboundEvents(InboundQuery()).map(\.verdict) == [.duplicate, .accepted, .accepted])
        }
    }

    /// A trigger refuses one delivery: the batch's transaction fails, and each delivery is
    /// retried alone, so only the refused one fails and nothing of it is stored.
    @Test(arguments: StoreBackend.enabled)
    func aRefusedDeliveryInABatchFailsAlone(backend: StoreBackend) async throws {
        try await backend.withStore { store in
        let batching = try #require(store as? any GroupCommittingStore)
        switch backend {
        case .sqlite:
            try await batching.execute(rawSQL: """
                CREATE TRIGGER refuse_bad BEFORE INSERT ON inbound_events WHEN NEW.external_id = 'bad'
                BEGIN SELECT RAISE(ABORT, 'refused by test trigger'); END
                """)
        case .postgres:
            try await batching.execute(rawSQL: """
                CREATE FUNCTION refuse_bad() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN IF NEW.external_id = 'bad' THEN RAISE EXCEPTION 'refused by test trigger'; END IF; RETURN NEW; END $$
                """)
            try await batching.execute(rawSQL: """
                CREATE TRIGGER refuse_bad BEFORE INSERT ON inbound_events FOR EACH ROW EXECUTE FUNCTION refuse_bad()
                """)
        }
        let results = await batching.ingestTogether([
            (delivery(id: "good-1"), [activity(email: "ada@example.com")]),
            (delivery(id: "bad"), [activity(email: "eve@example.com")]),
            (delivery(id: "good-2"), [activity(email: "bo@example.com")]),
        ])
        #expect((try? results[0].get())?.duplicate == false)
        #expect(throws: StoreError.self) { try results[1].get() }
        #expect((try? results[2].get())?.duplicate == false)
        #expect(try await store.activities(ActivityQuery()).count == 2)
        #expect(try await store.contact(email: .of("eve@example.com")) == nil)
        #expect(try await store.inboundEvents(InboundQuery()).compactMap(\.externalID).sorted() == ["good-1", "good-2"])
        }
    }

    /// One batch touching one contact several times leaves it as the deliveries would one after
    /// another: the last name given wins, a delivery without a name keeps the known one.
    @Test(arguments: StoreBackend.enabled)
    func aBatchUpdatingOneContactSeveralTimesKeepsTheLastNamesGiven(backend: StoreBackend) async throws {
        try await backend.withStore { store in
        let batching = try #require(store as? any GroupCommittingStore)
        _ = try await store.ingest(delivery(id: "before"), activities: [activity(email: "ada@example.com", lastName: "Byron")])
        let results = await batching.ingestTogether([
            (delivery(id: "1"), [activity(email: "ada@example.com", firstName: "Augusta")]),
            (delivery(id: "2"), [activity(email: "ada@example.com", firstName: "Ada")]),
            (delivery(id: "3"), [activity(email: "ada@example.com")]),
            (delivery(id: nil), [activity(email: "bo@example.com", firstName: "Bo")]),
            (delivery(id: "4"), [activity(email: "bo@example.com")]),
        ])
        let outcomes = try results.map { try $0.get() }
        #expect(outcomes.allSatisfy { !$0.duplicate && $0.activityIDs.count == 1 })
        #expect(Set(outcomes.map(\.inboundID)).count == 5)
        let ada = try #require(try await store.contact(email: .of("ada@example.com")))
        #expect(ada.firstName == "Ada")
        #expect(ada.lastName == "Byron")
        #expect(try await store.contact(email: .of("bo@example.com"))?.firstName == "Bo")
        #expect(try await store.activities(ActivityQuery(email: .of("ada@example.com"))).count == 4)
        }
    }
}
