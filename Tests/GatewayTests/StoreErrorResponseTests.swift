import CortexTestSupport
import Engine
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

@testable import Gateway

/// A store failure is answered by what it is: only an unavailable database says "retry".
@Suite struct StoreErrorResponseTests {
    /// A route that throws each kind of `StoreError`, behind the real error middleware.
    @Test(arguments: [
        (StoreError.conflict("UNIQUE constraint failed"), 409, "conflict"),
        (StoreError.invalid("CHECK constraint failed"), 422, "invalid_data"),
        (StoreError.notFound("no such row"), 404, "not_found"),
        (StoreError.unavailable("disk I/O error"), 503, "database_unavailable"),
    ])
    func eachKindOfStoreErrorHasItsStatusAndCode(error: StoreError, status: Int, code: String) async throws {
        let router = Router()
        router.add(middleware: ErrorMiddleware(routes: RouteTable(), metrics: CortexMetrics()))
        router.get("/fails") { _, _ -> Response in throw error }
        try await Application(router: router).test(.router) { client in
            let response = try await client.execute(uri: "/fails", method: .get)
            #expect(response.status.code == status)
            #expect(response.errorCode == code)
            #expect(response.headers[.contentType] == "application/json; charset=utf-8")
        }
    }

    /// While the database is away every request fails: one log line per 10 s, carrying the
    /// count of 503s it stands for, not a line each.
    @Test func aRunOfDatabaseFailuresWritesOneLineAndTheNextCarriesTheCount() async throws {
        let recorder = LogRecorder()
        let clock = ManualWallClock(Timestamp(seconds: 1_800_000_000))
        let router = Router()
        router.add(middleware: ErrorMiddleware(routes: RouteTable(), metrics: CortexMetrics(), clock: clock))
        router.get("/fails") { _, _ -> Response in throw StoreError.unavailable("database or disk is full") }
        try await Application(router: router, logger: recorder.logger()).test(.router) { client in
            for _ in 0..<50 {
                #expect(try await client.execute(uri: "/fails", method: .get).status == .serviceUnavailable)
            }
            let first = recorder.lines("database failure")
            #expect(first.count == 1 && first.first?.metadata["suppressed"] == "0")
            #expect(first.first?.level == .error)
            clock.advance(seconds: ErrorMiddleware.databaseFailureLogSeconds - 1)
            _ = try await client.execute(uri: "/fails", method: .get)
            #expect(recorder.lines("database failure").count == 1)
            clock.advance(seconds: 1)
            _ = try await client.execute(uri: "/fails", method: .get)
            let lines = recorder.lines("database failure")
            #expect(lines.count == 2 && lines.last?.metadata["suppressed"] == "50")
        }
    }

    /// End to end through a real store: a unique index the second message breaks makes the
    /// store's own driver error, which must reach the client as 409 `conflict`, not 503.
    @Test(arguments: StoreBackend.enabled)
    func aUniqueViolationInTheStoreIsA409(backend: StoreBackend) async throws {
        try await TestApp.with(backend) { app in
            let raw = try #require(app.store as? any GroupCommittingStore)
            try await raw.execute(rawSQL: "CREATE UNIQUE INDEX test_one_per_subject ON email_jobs (subject)")
            try await app.test { client in
                func send(_ key: String) async throws -> TestResponse {
                    try await client.execute(
                        uri: "/v1/messages", method: .post, headers: app.bearer,
                        body: ByteBuffer(string: #"{"to":"a@b.io","from":"s@b.io","subject":"Same","text":"x","idempotency_key":"\#(key)"}"#))
                }
                #expect(try await send("first").status == .accepted)
                let second = try await send("second")
                #expect(second.status == .conflict)
                #expect(second.errorCode == "conflict")
            }
        }
    }
}
