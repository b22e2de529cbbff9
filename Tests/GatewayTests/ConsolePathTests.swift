import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

@testable import Gateway

/// The console's files under hostile paths (the probe's path tricks): only the embedded assets
/// are ever served, and HEAD answers like GET without the body.
@Suite struct ConsolePathTests {
    static let assetName = ConsoleAssets.assets.keys.sorted().first!

    /// Before, HEAD was a 405 everywhere: the router matches GET routes for GET only.
    @Test(arguments: ["/", "/console/\(ConsolePathTests.assetName)", "/healthz"])
    func headAnswersLikeGetWithoutTheBody(path: String) async throws {
        let app = try await TestApp.make()
        try await app.test { client in
            let get = try await client.execute(uri: path, method: .get)
            let head = try await client.execute(uri: path, method: .head)
            #expect(get.status == .ok)
            #expect(head.status == .ok)
            #expect(head.body.readableBytes == 0)
            #expect(head.headers[.contentLength] == String(get.body.readableBytes))
            #expect(head.headers[.contentType] == get.headers[.contentType])
            #expect(head.headers[.cacheControl] == get.headers[.cacheControl])
        }
    }

    @Test func headOfAnUnknownAssetIsA404AndHeadIsAllowed() async throws {
        let app = try await TestApp.make()
        try await app.test { client in
            #expect(try await client.execute(uri: "/console/core.000000000000.js", method: .head).status == .notFound)
            let post = try await client.execute(uri: "/console/\(Self.assetName)", method: .post)
            #expect(post.status == .methodNotAllowed)
            #expect(post.headers[.allow] == "GET, HEAD")
        }
    }

    /// A HEAD to `/v1` needs the key like a GET, and its refusal carries no body either.
    @Test func headOfAnAPIRouteNeedsTheKey() async throws {
        let app = try await TestApp.make()
        try await app.test { client in
            let refused = try await client.execute(uri: "/v1/activities", method: .head)
            #expect(refused.status == .unauthorized)
            let allowed = try await client.execute(uri: "/v1/activities", method: .head, headers: app.bearer)
            #expect(allowed.status == .ok)
            #expect(allowed.body.readableBytes == 0)
        }
    }

    @Test(arguments: [
        "/console/../Package.swift", "/console/%2e%2e/Package.swift", "/console/%2e%2e%2fPackage.swift",
        "/console/..%2fPackage.swift", "/console/%252e%252e%252fPackage.swift", "/console/..%5cPackage.swift",
        "/console/core.js", "/console/core.js%00", "/console/\(ConsolePathTests.assetName)%00", "/console/index.html",
        "/console/Assets/core.js", "/console/\(ConsolePathTests.assetName.uppercased())", "/console/%00", "/console/",
        "/console/" + String(repeating: "a", count: 5000) + ".js", "/Package.swift", "/.git/config",
    ])
    func aPathTrickIsAJSON404(path: String) async throws {
        let app = try await TestApp.make()
        try await app.test { client in
            let response = try await client.execute(uri: path, method: .get)
            #expect(response.status == .notFound)
            #expect(response.errorCode == "not_found")
        }
    }
}
