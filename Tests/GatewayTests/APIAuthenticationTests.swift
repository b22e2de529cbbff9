import CortexTestSupport
import Engine
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

@testable import Gateway

/// Every `/v1` route requires the bearer key, by construction: each route in
/// `contracts/openapi.json` is called without a key and with a wrong one, and the router's own
/// list of routes is held to the document, so a route added without an entry fails too.
@Suite struct APIAuthenticationTests {
    struct Route: Hashable, CustomStringConvertible {
        let method: String
        let path: String
        var description: String { "\(method) \(path)" }
    }

    /// Every `/v1` route the OpenAPI document describes.
    static func documentedAPIRoutes() throws -> Set<Route> {
        let paths = try #require(try ContractTests.load("openapi.json")["paths"]?.objectValue)
        return Set(
            paths.members.filter { RouteRegistrar.requiresAPIKey($0.key) }.flatMap { path in
                (path.value.objectValue?.members ?? []).map { Route(method: $0.key.uppercased(), path: path.key) }
            })
    }

    /// A request path for a pattern, each `{parameter}` filled with a value the route accepts.
    static func concrete(_ pattern: String) -> String {
        pattern.split(separator: "/", omittingEmptySubsequences: false).map { segment in
            guard segment.hasPrefix("{") else { return String(segment) }
            return segment == "{email}" ? "ada@example.com" : "1"
        }.joined(separator: "/")
    }

    /// Bodies that a caller with the key would get accepted, so a refusal is seen to write nothing.
    static let bodies: [String: String] = [
        "/v1/events": #"{"type":"signup","data":{"email":"bo@example.com"}}"#,
        "/v1/messages": #"{"to":"bo@example.com","from":"shop@example.com","subject":"Hi","text":"Hi"}"#,
        "/v1/messages/batch": #"[{"to":"bo@example.com","from":"shop@example.com","subject":"Hi","text":"Hi"}]"#,
    ]

    @Test(arguments: [nil, "Bearer wrong-key", "Bearer ", "Basic Y2s6eA=="])
    func everyDocumentedV1RouteRefusesAMissingOrWrongKeyAndChangesNothing(authorization: String?) async throws {
        let app = try await TestApp.make()
        // Rows the replay and delete routes would act on, were they reached.
        _ = try await app.store.ingest(
            delivery(id: "msg_1"), activities: [activity(email: "ada@example.com")],
            suppressions: [.suppress(.of("ada@example.com"), reason: "hard_bounce", at: TestApp.start)])
        let routes = try Self.documentedAPIRoutes()
        #expect(routes.count >= 11)
        var headers: HTTPFields = [.contentType: "application/json"]
        if let authorization { headers[.authorization] = authorization }
        let sent = headers
        try await app.test { client in
            for route in routes {
                let response = try await client.execute(
                    uri: Self.concrete(route.path), method: HTTPRequest.Method(route.method)!, headers: sent,
                    body: ByteBuffer(string: Self.bodies[route.path] ?? ""))
                #expect(response.status == .unauthorized, "\(route)")
                #expect(response.errorCode == "auth", "\(route)")
            }
            // The same client with the key is let through, so the refusals above are the key's.
            let control = try await client.execute(uri: "/v1/activities", method: .get, headers: app.bearer)
            #expect(control.status == .ok)
        }
        #expect(try await app.counts() == (1, 1))
        #expect(try await app.store.suppressions(limit: 10).count == 1)
        #expect(try await app.store.emailJobs(EmailJobQuery(limit: 100)).isEmpty)
    }

    @Test func theRouterServesExactlyTheDocumentedV1RoutesAndRecordsEveryRoute() async throws {
        let app = try await TestApp.make()
        let built = buildRoutes(app.dependencies)
        let recorded = Set(built.table.entries.map { Route(method: $0.method.rawValue, path: $0.path) })
        let served = Set(built.router.routes.map { Route(method: $0.method.rawValue, path: "\($0.path)") })
        // Every GET route also answers HEAD (RouteRegistrar.add adds its twin, unrecorded).
        let heads = recorded.filter { $0.method == "GET" }.map { Route(method: "HEAD", path: $0.path) }
        #expect(served == recorded.union(heads), "a route reached the router without RouteRegistrar")
        #expect(Set(recorded.filter { RouteRegistrar.requiresAPIKey($0.path) }) == (try Self.documentedAPIRoutes()))
    }

    /// Unknown `/v1` paths and methods answer as before, key or not: 404 and 405, never 401.
    @Test(arguments: [nil, "Bearer wrong-key"])
    func unknownV1PathsAndMethodsAre404And405WithoutAKey(authorization: String?) async throws {
        let app = try await TestApp.make()
        var headers: HTTPFields = [:]
        if let authorization { headers[.authorization] = authorization }
        let sent = headers
        try await app.test { client in
            let unknown = try await client.execute(uri: "/v1/nowhere", method: .get, headers: sent)
            #expect(unknown.status == .notFound)
            #expect(unknown.errorCode == "not_found")
            let wrongMethod = try await client.execute(uri: "/v1/messages/1", method: .delete, headers: sent)
            #expect(wrongMethod.status == .methodNotAllowed)
            #expect(wrongMethod.headers[.allow] == "GET, HEAD")
        }
    }

    @Test func healthAndMetricsNeedNoKey() async throws {
        let app = try await TestApp.make()
        try await app.test { client in
            for uri in ["/healthz", "/readyz", "/metrics"] {
                let response = try await client.execute(uri: uri, method: .get)
                #expect(response.status == .ok, "\(uri)")
            }
        }
    }

    @Test func onlyPathsUnderV1NeedTheKey() {
        for path in ["/v1/events", "/v1", "v1/x", "//v1/x", "/V1/x"] { #expect(RouteRegistrar.requiresAPIKey(path), "\(path)") }
        for path in ["/webhooks/checkout", "/healthz", "/readyz", "/metrics", "/v10/x", "/x/v1"] {
            #expect(!RouteRegistrar.requiresAPIKey(path), "\(path)")
        }
    }
}
