import CortexTestSupport
import Testing

@testable import Engine

/// The send ledger, on every backend.
@Suite struct EmailLedgerConformanceTests {
    static let t0 = Timestamp.at("2026-11-26T12:00:00Z")

    static func message(_ key: String, to: String = "ada@example.com") -> NewEmailJob {
        NewEmailJob(
            idempotencyKey: key, recipient: .of(to), sender: "shop@example.com", subject: "Hello", html: "<p>Hi</p>",
            text: "Hi", tag: "welcome", metadata: #"{"order":"42"}"#)
    }

    @Test(arguments: StoreBackend.enabled)
    func theSameKeyNeverMakesTwoRows(backend: StoreBackend) async throws {
        try await backend.withStore { store in
            let first = try await store.enqueueEmail(Self.message("k1"), at: Self.t0)
            let second = try await store.enqueueEmail(Self.message("k1", to: "other@example.com"), at: Self.t0.adding(seconds: 5))
            #expect(first.created && !second.created)
            #expect(second.job == first.job)
            #expect(first.job.status == .queued)
            // Metadata is compared by meaning: PostgreSQL's jsonb respaces it.
            var stored = first.job.message
            #expect(parsedJSON(stored.metadata) == .object(["order": .string("42")]))
            stored.metadata = Self.message("k1").metadata
            #expect(stored == Self.message("k1"))
            #expect(try await store.emailJobs(EmailJobQuery()).count == 1)
        }
    }

    @Test(arguments: StoreBackend.enabled)
    func aBatchIsQueuedTogetherInOrderAndAKeyTwiceInItMakesOneRow(backend: StoreBackend) async throws {
        try await backend.withStore { store in
            let known = try await store.enqueueEmail(Self.message("known"), at: Self.t0)
            let batch = ["b1", "known", "b2", "b1"].map { Self.message($0) }
            let queued = try await store.enqueueEmails(batch, at: Self.t0.adding(seconds: 1))
            #expect(queued.map(\.job.message.idempotencyKey) == ["b1", "known", "b2", "b1"])
            #expect(queued.map(\.created) == [true, false, true, false])
            #expect(queued[1].job == known.job && queued[3].job == queued[0].job)
            #expect(try await store.emailJobs(EmailJobQuery()).count == 3)
            #expect(try await store.enqueueEmails([], at: Self.t0).isEmpty)
        }
    }

    /// A batch stores each message as it was given: an empty body or tag stays empty and a
    /// missing one stays missing (PostgreSQL inserts a batch in one statement, whose arrays
    /// cannot carry a missing value).
    @Test(arguments: StoreBackend.enabled)
    func aBatchKeepsEmptyAndMissingFieldsApart(backend: StoreBackend) async throws {
        try await backend.withStore { store in
            var emptyHTML = Self.message("empty-html")
            emptyHTML.html = ""
            emptyHTML.tag = ""
            var noHTML = Self.message("no-html")
            noHTML.html = nil
            noHTML.tag = nil
            var noText = Self.message("no-text")
            noText.text = nil
            noText.stream = .broadcast
            let batch = [emptyHTML, noHTML, noText]
            let queued = try await store.enqueueEmails(batch, at: Self.t0)
            for (given, stored) in zip(batch, queued.map(\.job.message)) {
                var stored = stored
                stored.metadata = given.metadata  // jsonb respaces it; compared by meaning above.
                #expect(stored == given)
            }
            #expect(queued.map(\.created) == [true, true, true])
        }
    }

    @Test(arguments: StoreBackend.enabled)
    func claimsDueMessagesOnceAndRecordsEachResult(backend: StoreBackend) async throws {
        try await backend.withStore { store in
            let a = try await store.enqueueEmail(Self.message("a", to: "a@example.com"), at: Self.t0).job
            let b = try await store.enqueueEmail(Self.message("b", to: "b@example.com"), at: Self.t0).job
            let c = try await store.enqueueEmail(Self.message("c", to: "c@example.com"), at: Self.t0).job
            let claimed = try await store.claimEmailJobs(limit: 10, now: Self.t0, leaseSeconds: 60)
            #expect(claimed.map(\.id) == [a.id, b.id, c.id])
            #expect(claimed.allSatisfy { $0.status == .sending && $0.attempts == 1 })
            #expect(try await store.claimEmailJobs(limit: 10, now: Self.t0, leaseSeconds: 60).isEmpty)

            try await store.recordEmailOutcomes(
                [
                    (a.id, .sent(provider: "dry-run", messageID: "m-a", at: Self.t0.adding(seconds: 1))),
                    (b.id, .failed(reason: "406 inactive recipient", suppressRecipient: true)),
                    (c.id, .retry(reason: "429", retryAt: Self.t0.adding(seconds: 30))),
                ], at: Self.t0.adding(seconds: 1))
            let sent = try #require(try await store.emailJob(id: a.id))
            #expect(sent.status == .sent && sent.provider == "dry-run" && sent.providerMessageID == "m-a")
            #expect(sent.sentAt == Self.t0.adding(seconds: 1))
            #expect(try await store.emailJob(id: b.id)?.status == .failed)
            #expect(try await store.contact(email: .of("b@example.com")) == nil)
            #expect(try await store.suppressions(limit: 10).map(\.email) == [.of("b@example.com")])
            let retried = try #require(try await store.emailJob(id: c.id))
            #expect(retried.status == .queued && retried.lastError == "429")
            #expect(try await store.nextEmailDue() == Self.t0.adding(seconds: 30))
            #expect(try await store.claimEmailJobs(limit: 10, now: Self.t0.adding(seconds: 29), leaseSeconds: 60).isEmpty)
            let again = try await store.claimEmailJobs(limit: 10, now: Self.t0.adding(seconds: 30), leaseSeconds: 60)
            #expect(again.map(\.id) == [c.id])
            #expect(again.first?.attempts == 2)
        }
    }

    @Test(arguments: StoreBackend.enabled)
    func suppressedRecipientsAreNeverClaimed(backend: StoreBackend) async throws {
        try await backend.withStore { store in
            _ = try await store.ingest(
                delivery(id: "bounce"), activities: [],
                suppressions: [.suppress(.of("gone@example.com"), reason: "hard_bounce", at: Self.t0)])
            let job = try await store.enqueueEmail(Self.message("s", to: "gone@example.com"), at: Self.t0).job
            #expect(try await store.claimEmailJobs(limit: 10, now: Self.t0, leaseSeconds: 60).isEmpty)
            #expect(try await store.emailJob(id: job.id)?.status == .suppressed)
            #expect(try await store.emailJobs(EmailJobQuery(status: .suppressed)).map(\.id) == [job.id])
        }
    }

    @Test(arguments: StoreBackend.enabled)
    func aMessageLeftSendingByACrashIsClaimedAgainAfterItsLease(backend: StoreBackend) async throws {
        try await backend.withStore { store in
            let job = try await store.enqueueEmail(Self.message("crash"), at: Self.t0).job
            _ = try await store.claimEmailJobs(limit: 1, now: Self.t0, leaseSeconds: 120)
            #expect(try await store.claimEmailJobs(limit: 1, now: Self.t0.adding(seconds: 119), leaseSeconds: 120).isEmpty)
            #expect(try await store.nextEmailDue() == Self.t0.adding(seconds: 120))
            let recovered = try await store.claimEmailJobs(limit: 1, now: Self.t0.adding(seconds: 120), leaseSeconds: 120)
            #expect(recovered.map(\.id) == [job.id])
            #expect(recovered.first?.attempts == 2)
        }
    }

    @Test(arguments: StoreBackend.enabled)
    func aLeaseIsRenewedOnlyWhileTheClaimThatTookItStillHoldsIt(backend: StoreBackend) async throws {
        try await backend.withStore { store in
            let a = try await store.enqueueEmail(Self.message("a", to: "a@example.com"), at: Self.t0).job
            let b = try await store.enqueueEmail(Self.message("b", to: "b@example.com"), at: Self.t0).job
            _ = try await store.claimEmailJobs(limit: 2, now: Self.t0, leaseSeconds: 60)
            let held = Self.t0.adding(seconds: 60)
            // b's lease ran out and another sender claimed it: only a is still this claim's.
            let retaken = try await store.claimEmailJobs(limit: 2, now: Self.t0.adding(seconds: 61), leaseSeconds: 60)
            #expect(retaken.map(\.id) == [a.id, b.id])
            try await store.recordEmailOutcomes(
                [(b.id, .sent(provider: "p", messageID: "m-b", at: Self.t0.adding(seconds: 62)))], at: Self.t0.adding(seconds: 62))
            #expect(try await store.renewEmailLeases([a.id, b.id], heldUntil: held, until: Self.t0.adding(seconds: 200)).isEmpty)
            let current = Self.t0.adding(seconds: 121)
            #expect(try await store.renewEmailLeases([a.id, b.id], heldUntil: current, until: Self.t0.adding(seconds: 200)) == [a.id])
            #expect(try await store.nextEmailDue() == Self.t0.adding(seconds: 200))
            #expect(try await store.claimEmailJobs(limit: 2, now: Self.t0.adding(seconds: 199), leaseSeconds: 60).isEmpty)
            #expect(try await store.emailJob(id: b.id)?.status == .sent)
            #expect(try await store.renewEmailLeases([], heldUntil: current, until: current).isEmpty)
        }
    }

    @Test(arguments: StoreBackend.enabled)
    func concurrentSendersNeverClaimTheSameMessage(backend: StoreBackend) async throws {
        try await backend.withStore { store in
            var ids: Set<Int64> = []
            for index in 0..<60 {
                ids.insert(try await store.enqueueEmail(Self.message("c\(index)", to: "r\(index)@example.com"), at: Self.t0).job.id)
            }
            let claims = try await withThrowingTaskGroup(of: [Int64].self) { group in
                for _ in 0..<3 {
                    group.addTask {
                        var mine: [Int64] = []
                        while true {
                            let batch = try await store.claimEmailJobs(limit: 5, now: Self.t0, leaseSeconds: 60)
                            if batch.isEmpty { return mine }
                            mine += batch.map(\.id)
                        }
                    }
                }
                return try await group.reduce(into: [Int64]()) { $0 += $1 }
            }
            #expect(claims.count == ids.count)
            #expect(Set(claims) == ids)
        }
    }

    @Test(arguments: StoreBackend.enabled)
    func listsByRecipientAndStatusNewestFirst(backend: StoreBackend) async throws {
        try await backend.withStore { store in
            let one = try await store.enqueueEmail(Self.message("1", to: "x@example.com"), at: Self.t0).job
            let two = try await store.enqueueEmail(Self.message("2", to: "x@example.com"), at: Self.t0).job
            _ = try await store.enqueueEmail(Self.message("3", to: "y@example.com"), at: Self.t0)
            #expect(try await store.emailJobs(EmailJobQuery(email: .of("x@example.com"))).map(\.id) == [two.id, one.id])
            #expect(try await store.emailJobs(EmailJobQuery(status: .sent)).isEmpty)
            #expect(try await store.emailJobs(EmailJobQuery(limit: 1)).count == 1)
        }
    }
}
