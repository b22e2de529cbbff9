import CortexTestSupport
import Testing

@testable import Engine

/// Contacts, tags, consent and erasure on every store, with the same assertions.
@Suite struct DirectoryConformanceTests {
    static let now = Timestamp(seconds: 1_800_000_000)
    static let ada = EmailAddress("ada@example.com")!

    static func types(_ store: any Store) async throws -> [String] {
        try await store.activities(ActivityQuery(email: ada, limit: 100)).map(\.type).sorted()
    }

    @Test(arguments: StoreBackend.enabled)
    func consentChangesWriteOneActivityEachAndAnOlderConsentNeverWins(backend: StoreBackend) async throws {
        try await backend.withStore { store in
            let day: Int64 = 86_400
            try await store.saveContact(ContactUpdate(email: Self.ada, consent: .granted, consentSource: "checkout", consentAt: Self.now), at: Self.now)
            // The same again, and an older revocation arriving late: neither changes anything.
            try await store.saveContact(ContactUpdate(email: Self.ada, consent: .granted, consentSource: "checkout"), at: Self.now)
            try await store.saveContact(
                ContactUpdate(email: Self.ada, consent: .revoked, consentSource: "checkout", consentAt: Self.now.adding(seconds: -day)),
                at: Self.now)
            var contact = try #require(try await store.contact(email: Self.ada))
            #expect(contact.consent == Consent(status: .granted, at: Self.now, source: "checkout"))
            #expect(try await Self.types(store) == ["consent.granted"])
            // A newer revocation wins and writes its activity.
            try await store.saveContact(
                ContactUpdate(email: Self.ada, consent: .revoked, consentSource: "api", consentAt: Self.now.adding(seconds: day)),
                at: Self.now)
            contact = try #require(try await store.contact(email: Self.ada))
            #expect(contact.consent.status == .revoked)
            #expect(try await Self.types(store) == ["consent.granted", "consent.revoked"])
        }
    }

    @Test(arguments: StoreBackend.enabled)
    func tagsAreOnePerFoldedKeyAndRemovalWritesItsActivity(backend: StoreBackend) async throws {
        try await backend.withStore { store in
            #expect(try await store.addTags(["P2P", " p2p ", "VIP", ""], to: Self.ada, at: Self.now) == ["P2P", "VIP"])
            #expect(try await store.contact(email: Self.ada)?.tags == ["P2P", "VIP"])
            #expect(try await store.removeTag("vip", from: Self.ada, at: Self.now))
            #expect(try await store.removeTag("vip", from: Self.ada, at: Self.now) == false)
            #expect(try await Self.types(store) == ["tag.added", "tag.added", "tag.removed"])
            let removed = try await store.activities(ActivityQuery(email: Self.ada, type: "tag.removed"))
            let metadata = try removed.first.map { try JSONParser.parse(Array($0.metadata.utf8)) }
            #expect(metadata == .object(["tag": .string("VIP")]))
        }
    }

    @Test(arguments: StoreBackend.enabled)
    func erasureRemovesTheContactAndItsDataButKeepsTheSuppression(backend: StoreBackend) async throws {
        try await backend.withStore { store in
            _ = try await store.ingest(
                InboundDelivery(source: "postmark", externalID: "b1", receivedAt: Self.now, headers: [], body: []),
                activities: [NewActivity(type: "email.bounced", contactEmail: Self.ada, occurredAt: Self.now, metadata: "{}")],
                suppressions: [.suppress(Self.ada, reason: "hard_bounce", at: Self.now)])
            _ = try await store.addTags(["VIP"], to: Self.ada, at: Self.now)
            let (job, _) = try await store.enqueueEmail(
                NewEmailJob(
                    idempotencyKey: "k1", recipient: Self.ada, sender: "shop@example.com", subject: "Private", html: "<p>secret</p>",
                    text: "secret", stream: .transactional, tag: nil, metadata: #"{"order":"42"}"#),
                at: Self.now)
            let other = EmailAddress("bo@example.com")!
            _ = try await store.addTags(["VIP"], to: other, at: Self.now)

            #expect(try await store.eraseContact(Self.ada))
            #expect(try await store.eraseContact(Self.ada) == false)
            #expect(try await store.contact(email: Self.ada) == nil)
            #expect(try await store.activities(ActivityQuery(email: Self.ada)).isEmpty)
            #expect(try await store.suppressions(limit: 10).map(\.email) == [Self.ada])
            let erased = try #require(try await store.emailJob(id: job.id))
            #expect(erased.message.subject == "" && erased.message.html == nil && erased.message.text == nil)
            #expect(erased.status == .cancelled)
            #expect(try await store.countContacts(matching: .tag("VIP"), at: Self.now) == 1)
            #expect(try await store.contact(email: other)?.tags == ["VIP"])
        }
    }
}
