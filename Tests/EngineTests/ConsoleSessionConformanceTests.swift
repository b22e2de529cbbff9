import CortexTestSupport
import Testing

@testable import Engine

/// Console sessions on every store: found by their token's hash until they end, gone when
/// signed out, and never found by another token.
@Suite struct ConsoleSessionConformanceTests {
    static let t0 = Timestamp.at("2026-11-29T12:00:00Z")

    @Test(arguments: StoreBackend.enabled)
    func aSessionIsFoundUntilItEndsOrIsSignedOut(backend: StoreBackend) async throws {
        try await backend.withStore { store in
            let session = ConsoleSession(keyHash: "k1", csrfToken: "csrf-1", expiresAt: Self.t0.adding(seconds: 3600))
            try await store.createConsoleSession(tokenHash: "t1", session, at: Self.t0)
            try await store.createConsoleSession(
                tokenHash: "t2", ConsoleSession(keyHash: "k2", csrfToken: "csrf-2", expiresAt: Self.t0.adding(seconds: 7200)), at: Self.t0)

            #expect(try await store.consoleSession(tokenHash: "t1", now: Self.t0) == session)
            #expect(try await store.consoleSession(tokenHash: "t1", now: Self.t0.adding(seconds: 3599))?.csrfToken == "csrf-1")
            #expect(try await store.consoleSession(tokenHash: "t1", now: Self.t0.adding(seconds: 3600)) == nil)
            #expect(try await store.consoleSession(tokenHash: "t3", now: Self.t0) == nil)

            try await store.deleteConsoleSession(tokenHash: "t2")
            #expect(try await store.consoleSession(tokenHash: "t2", now: Self.t0) == nil)
            try await store.deleteConsoleSession(tokenHash: "t2")

            // A later sign-in clears the ended session away; the token cannot come back.
            try await store.createConsoleSession(
                tokenHash: "t4", ConsoleSession(keyHash: "k1", csrfToken: "csrf-4", expiresAt: Self.t0.adding(seconds: 90_000)),
                at: Self.t0.adding(seconds: 4000))
            #expect(try await store.consoleSession(tokenHash: "t1", now: Self.t0) == nil)
            #expect(try await store.consoleSession(tokenHash: "t4", now: Self.t0.adding(seconds: 4000))?.keyHash == "k1")
        }
    }
}
