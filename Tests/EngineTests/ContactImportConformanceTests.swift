import CortexTestSupport
import Testing

@testable import Engine

/// `ContactImporter` on every store (ENGINE.md §1): a batch upserts by email in order, counts
/// created and updated rows, merges attributes and writes tag and consent activities as
/// `saveContact` / `addTags` do, once per real change; a taken `external_id` fails its row only.
@Suite struct ContactImportConformanceTests {
    static let now = Timestamp(seconds: 1_800_000_000)

    static func email(_ name: String) -> EmailAddress { EmailAddress("\(name)@example.com")! }

    static func types(_ store: any Store, _ name: String) async throws -> [String] {
        try await store.activities(ActivityQuery(email: email(name), limit: 100)).map(\.type).sorted()
    }

    @Test(arguments: StoreBackend.enabled)
    func createsAndUpdatesMergingAttributesWithTagAndConsentActivitiesOnce(backend: StoreBackend) async throws {
        try await backend.withStore { store in
            try await store.saveContact(
                ContactUpdate(
                    email: Self.email("ada"), firstName: "Ada", attributes: ["plan": .string("free"), "seats": .string("3")],
                    consent: .granted, consentSource: "checkout"),
                at: Self.now)
            let rows = [
                ContactImportRow(
                    line: 2, email: Self.email("ada"), lastName: "Lovelace", timezone: "Europe/Berlin", tags: ["VIP", "vip"],
                    consent: .granted, attributes: ["plan": .string("pro"), "seats": .null]),
                ContactImportRow(
                    line: 3, email: Self.email("bo"), firstName: "Bo", externalID: "u-7", tags: ["P2P"], consent: .granted,
                    attributes: ["city": .string("Paris")]),
            ]
            let first = try await store.importContacts(rows, source: "import", at: Self.now.adding(seconds: 60))
            #expect(first == ContactImportBatchOutcome(created: 1, updated: 1))

            let ada = try #require(try await store.contact(email: Self.email("ada")))
            #expect(ada.firstName == "Ada")  // not given: kept
            #expect(ada.lastName == "Lovelace")
            #expect(ada.timezone == "Europe/Berlin")
            #expect(StoredJSON.object(ada.attributes) == ["plan": .string("pro")])
            #expect(ada.tags == ["VIP"])
            // Consent unchanged: still the checkout's, and no second activity.
            #expect(ada.consent == Consent(status: .granted, at: Self.now, source: "checkout"))
            #expect(try await Self.types(store, "ada") == ["consent.granted", "tag.added"])

            let bo = try #require(try await store.contact(email: Self.email("bo")))
            #expect(bo.firstName == "Bo")
            #expect(bo.externalID == "u-7")
            #expect(StoredJSON.object(bo.attributes) == ["city": .string("Paris")])
            #expect(bo.consent == Consent(status: .granted, at: Self.now.adding(seconds: 60), source: "import"))
            let boActivities = try await store.activities(ActivityQuery(email: Self.email("bo"), limit: 100))
            #expect(boActivities.map(\.type).sorted() == ["consent.granted", "tag.added"])
            #expect(boActivities.allSatisfy { $0.source == "import" })
            #expect(boActivities.contains { $0.type == "tag.added" && StoredJSON.object($0.metadata) == ["tag": .string("P2P")] })
            #expect(boActivities.contains { $0.type == "consent.granted" && StoredJSON.object($0.metadata) == ["source": .string("import")] })

            // The same file again: every row updates, and no change is real, so no activity.
            let again = try await store.importContacts(rows, source: "import", at: Self.now.adding(seconds: 120))
            #expect(again == ContactImportBatchOutcome(created: 0, updated: 2))
            #expect(try await Self.types(store, "ada") == ["consent.granted", "tag.added"])
            #expect(try await Self.types(store, "bo") == ["consent.granted", "tag.added"])
        }
    }

    @Test(arguments: StoreBackend.enabled)
    func theSameEmailTwiceInABatchIsAppliedInOrderSoTheLaterRowWins(backend: StoreBackend) async throws {
        try await backend.withStore { store in
            let outcome = try await store.importContacts(
                [
                    ContactImportRow(
                        line: 2, email: Self.email("cy"), firstName: "C", tags: ["T1"], consent: .granted,
                        attributes: ["x": .string("1"), "y": .string("old")]),
                    ContactImportRow(
                        line: 3, email: Self.email("cy"), firstName: "Cy", tags: ["t1", "T2"], consent: .revoked,
                        attributes: ["y": .string("2")]),
                ], source: "import", at: Self.now)
            #expect(outcome == ContactImportBatchOutcome(created: 1, updated: 1))
            let cy = try #require(try await store.contact(email: Self.email("cy")))
            #expect(cy.firstName == "Cy")
            #expect(StoredJSON.object(cy.attributes) == ["x": .string("1"), "y": .string("2")])
            #expect(cy.tags == ["T1", "T2"])
            #expect(cy.consent.status == .revoked)
            #expect(try await Self.types(store, "cy") == ["consent.granted", "consent.revoked", "tag.added", "tag.added"])
        }
    }

    @Test(arguments: StoreBackend.enabled)
    func anExternalIDAnotherContactHoldsFailsItsRowOnly(backend: StoreBackend) async throws {
        try await backend.withStore { store in
            try await store.saveContact(ContactUpdate(email: Self.email("carl"), externalID: "u-1"), at: Self.now)
            let outcome = try await store.importContacts(
                [
                    // Carl holds u-1 here: this row is refused whole, its tag included.
                    ContactImportRow(line: 2, email: Self.email("dan"), externalID: "u-1", tags: ["X"]),
                    ContactImportRow(line: 3, email: Self.email("eve"), externalID: "u-2"),
                    // Dan is created before Carl is touched, so a store writing contacts in order
                    // must clear Carl's old id before Dan takes it.
                    ContactImportRow(line: 4, email: Self.email("dan"), firstName: "Dan"),
                    // Carl moves to u-3, freeing u-1 ...
                    ContactImportRow(line: 5, email: Self.email("carl"), externalID: "u-3"),
                    // ... so Dan may take it now, within the same transaction.
                    ContactImportRow(line: 6, email: Self.email("dan"), externalID: "u-1"),
                    // Eve took u-2 earlier in this batch.
                    ContactImportRow(line: 7, email: Self.email("fay"), externalID: "u-2"),
                ], source: "import", at: Self.now)
            #expect(outcome.created == 2)
            #expect(outcome.updated == 2)
            #expect(outcome.failures.map(\.line) == [2, 7])
            #expect(outcome.failures.allSatisfy { $0.column == "external_id" && $0.reason.contains("another contact") })
            #expect(try await store.contact(email: Self.email("carl"))?.externalID == "u-3")
            let dan = try #require(try await store.contact(email: Self.email("dan")))
            #expect(dan.externalID == "u-1")
            #expect(dan.firstName == "Dan")
            #expect(dan.tags.isEmpty)
            #expect(try await store.contact(email: Self.email("eve"))?.externalID == "u-2")
            #expect(try await store.contact(email: Self.email("fay")) == nil)

            // The same move the other way round: the taker is the older contact, so a database
            // updating contacts in storage order reaches it before the one giving the id up.
            try await store.saveContact(ContactUpdate(email: Self.email("gil")), at: Self.now)
            try await store.saveContact(ContactUpdate(email: Self.email("hal"), externalID: "u-9"), at: Self.now)
            let swap = try await store.importContacts(
                [
                    ContactImportRow(line: 2, email: Self.email("hal"), externalID: "u-10"),
                    ContactImportRow(line: 3, email: Self.email("gil"), externalID: "u-9"),
                ], source: "import", at: Self.now)
            #expect(swap == ContactImportBatchOutcome(created: 0, updated: 2))
            #expect(try await store.contact(email: Self.email("gil"))?.externalID == "u-9")
            #expect(try await store.contact(email: Self.email("hal"))?.externalID == "u-10")
        }
    }
}

/// Attributes compared by meaning, not by the order the store wrote the keys in.
enum StoredJSON {
    static func object(_ text: String) -> [String: JSON] {
        guard let object = (try? JSONParser.parse(Array(text.utf8)))?.objectValue else { return [:] }
        return Dictionary(object.members.map { ($0.key, $0.value) }, uniquingKeysWith: { $1 })
    }
}
