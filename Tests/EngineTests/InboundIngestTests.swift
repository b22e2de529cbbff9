import CortexTestSupport
import Testing

@testable import Engine

/// The inbound use cases on every store: accept or archive as rejected, consent from events,
/// replay, each answered as a domain result.
@Suite struct InboundIngestTests {
    static let now = Timestamp(seconds: 1_800_000_000)
    static let ada = EmailAddress("ada@example.com")!

    static func delivery(_ id: String, body: String = "{}") -> InboundDelivery {
        InboundDelivery(source: "checkout", externalID: id, receivedAt: now, headers: [], body: Array(body.utf8))
    }

    static func checkout(optIn: Bool?) -> Normalization {
        let metadata = optIn.map { #"{"marketing_opt_in":\#($0)}"# } ?? "{}"
        return Normalization(activities: [
            NewActivity(type: "checkout.completed", contactEmail: ada, occurredAt: now, metadata: metadata)
        ])
    }

    @Test(arguments: StoreBackend.enabled)
    func acceptsCommitsAndRejectsArchive(backend: StoreBackend) async throws {
        try await backend.withStore { store in
            let ingest = InboundIngest(store: store, clock: ManualWallClock(Self.now))
            guard case .accepted(let outcome) = try await ingest.accept(Self.delivery("e1"), .success(Self.checkout(optIn: true))) else {
                Issue.record("not accepted")
                return
            }
            #expect(outcome.duplicate == false && outcome.activityIDs.count == 1)
            #expect(try await store.contact(email: Self.ada)?.consent.status == .granted)
            guard case .accepted(let repeated) = try await ingest.accept(Self.delivery("e1"), .success(Self.checkout(optIn: true)))
            else {
                Issue.record("not accepted")
                return
            }
            #expect(repeated.duplicate && repeated.activityIDs == outcome.activityIDs)
            let refusal = InputError.missingType
            #expect(try await ingest.accept(Self.delivery("e2"), .failure(refusal)) == .rejected(refusal))
            let rejected = try await store.inboundEvents(InboundQuery(verdict: .rejected))
            #expect(rejected.map(\.reason) == [refusal.description])
            let activities = try await store.activities(ActivityQuery(email: Self.ada))
            #expect(activities.map(\.type).sorted() == ["checkout.completed", "consent.granted"])

            // Replay: still invalid records why; once valid it is accepted in place.
            let row = try #require(rejected.first)
            #expect(row.replayRefusal == nil)
            #expect(try await ingest.replay(row, .failure(refusal)) == .stillInvalid(refusal))
            guard case .replayed(let replayed) = try await ingest.replay(row, .success(Self.checkout(optIn: nil))) else {
                Issue.record("not replayed")
                return
            }
            #expect(replayed.duplicate == false && replayed.activityIDs.count == 1)
            let duplicateRow = try #require(try await store.inboundEvents(InboundQuery(verdict: .duplicate)).first)
            #expect(duplicateRow.replayRefusal == .duplicate(original: try #require(outcome.inboundID)))
        }
    }
}
