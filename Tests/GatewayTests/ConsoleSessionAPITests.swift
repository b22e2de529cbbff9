import Engine
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

@testable import Gateway

/// The console's sign-in (ENGINE.md §6): an API key buys a session cookie (HttpOnly,
/// SameSite=Strict, Secure over https); the `/v1` API takes the cookie in place of the key, its
/// writes only with the session's CSRF token; sessions end at sign-out and after 12 hours.
@Suite struct ConsoleSessionAPITests {
    static let eventBody = #"{"type": "checkout.completed", "data": {"email": "ada@example.com", "product": "P2P"}}"#

    /// Signs in; answers the `Cookie` header to send and the CSRF token.
    static func signIn(_ client: any TestClientProtocol) async throws -> (cookie: HTTPFields, csrf: String) {
        let response = try await client.execute(
            uri: "/console/session", method: .post, body: ByteBuffer(string: #"{"api_key": "\#(TestApp.apiKey)"}"#))
        #expect(response.status == .ok)
        let setCookie = try #require(response.headers[.setCookie])
        let token = try #require(setCookie.split(separator: ";").first.map(String.init))
        return ([.cookie: token], try #require(response.json["csrf_token"]?.stringValue))
    }

    @Test func aKeyBuysAStrictHttpOnlyCookieAndAWrongOneDoesNot() async throws {
        let app = try await TestApp.make()
        try await app.test { client in
            let wrong = try await client.execute(
                uri: "/console/session", method: .post, body: ByteBuffer(string: #"{"api_key": "not-a-key"}"#))
            #expect(wrong.status == .unauthorized && wrong.errorCode == "auth" && wrong.headers[.setCookie] == nil)
            let empty = try await client.execute(uri: "/console/session", method: .post, body: ByteBuffer(string: "{}"))
            #expect(empty.status == .badRequest)

            let response = try await client.execute(
                uri: "/console/session", method: .post, body: ByteBuffer(string: #"{"api_key": "\#(TestApp.apiKey)"}"#))
            let cookie = try #require(response.headers[.setCookie])
            #expect(cookie.hasPrefix("cortex_session=") && cookie.contains("; HttpOnly") && cookie.contains("; SameSite=Strict"))
            #expect(cookie.contains("; Path=/") && !cookie.contains("Secure"), "http:// (or no public URL): not Secure")
            #expect(response.json["csrf_token"]?.stringValue?.count == 43)
        }
        let https = try await TestApp.make { $0.publicURL = "https://crm.example.com" }
        try await https.test { client in
            let response = try await client.execute(
                uri: "/console/session", method: .post, body: ByteBuffer(string: #"{"api_key": "\#(TestApp.apiKey)"}"#))
            #expect(response.headers[.setCookie]?.hasSuffix("; Secure") == true)
        }
    }

    @Test func theCookieReadsAndWritesOnlyWithItsCSRFToken() async throws {
        let app = try await TestApp.make()
        try await app.test { client in
            let (cookie, csrf) = try await Self.signIn(client)
            #expect(try await client.execute(uri: "/v1/activities", method: .get, headers: cookie).status == .ok)
            #expect(try await client.execute(uri: "/console/session", method: .get, headers: cookie).json["csrf_token"]?.stringValue == csrf)

            // A write with the cookie alone (what another site's form would send) changes nothing.
            for token in [nil, "", String(csrf.dropLast()) + "x"] {
                var headers = cookie
                if let token { headers[APIKeyAuthenticator.csrfHeader] = token }
                let refused = try await client.execute(
                    uri: "/v1/events", method: .post, headers: headers, body: ByteBuffer(string: Self.eventBody))
                #expect(refused.status == .forbidden && refused.errorCode == "csrf")
            }
            #expect(try await app.counts().activities == 0)

            var headers = cookie
            headers[APIKeyAuthenticator.csrfHeader] = csrf
            let accepted = try await client.execute(uri: "/v1/events", method: .post, headers: headers, body: ByteBuffer(string: Self.eventBody))
            #expect(accepted.status == .accepted)
            #expect(try await app.counts().activities == 1)

            // Neither cookie nor key; a cookie that is not a session.
            #expect(try await client.execute(uri: "/v1/activities", method: .get).errorCode == "auth")
            let forged = try await client.execute(uri: "/v1/activities", method: .get, headers: [.cookie: "cortex_session=forged"])
            #expect(forged.status == .unauthorized)
            #expect(try await client.execute(uri: "/console/session", method: .get).status == .unauthorized)
        }
    }

    @Test func aSessionEndsAtSignOutAndAfterTwelveHours() async throws {
        let app = try await TestApp.make()
        try await app.test { client in
            let (cookie, csrf) = try await Self.signIn(client)
            #expect(try await client.execute(uri: "/console/session", method: .delete, headers: cookie).status == .forbidden)
            var headers = cookie
            headers[APIKeyAuthenticator.csrfHeader] = csrf
            let out = try await client.execute(uri: "/console/session", method: .delete, headers: headers)
            #expect(out.status == .noContent && out.headers[.setCookie]?.contains("Max-Age=0") == true)
            #expect(try await client.execute(uri: "/v1/activities", method: .get, headers: cookie).status == .unauthorized)

            let (later, _) = try await Self.signIn(client)
            app.clock.advance(seconds: 12 * 3600 - 1)
            #expect(try await client.execute(uri: "/v1/activities", method: .get, headers: later).status == .ok)
            app.clock.advance(seconds: 1)
            #expect(try await client.execute(uri: "/v1/activities", method: .get, headers: later).status == .unauthorized)
        }
    }

    @Test func thePageAndItsFilesComeWithAStrictPolicyAndHashedNames() async throws {
        let app = try await TestApp.make()
        try await app.test { client in
            let page = try await client.execute(uri: "/", method: .get)
            #expect(page.status == .ok && page.headers[.contentType]?.hasPrefix("text/html") == true)
            let policy = try #require(page.headers[HTTPField.Name("Content-Security-Policy")!])
            #expect(policy.contains("default-src 'self'") && policy.contains("script-src 'self';") && !policy.contains("unsafe"))
            #expect(page.headers[HTTPField.Name("X-Content-Type-Options")!] == "nosniff")
            let html = String(buffer: page.body)
            #expect(!html.contains("<script>"), "no inline script")
            let names = html.matches(of: /\/console\/([a-z]+\.[0-9a-f]{12}\.(?:js|css))/).map { String($0.1) }
            #expect(names.count == 11)
            for name in names {
                let file = try await client.execute(uri: "/console/\(name)", method: .get)
                #expect(file.status == .ok && file.headers[.cacheControl]?.contains("immutable") == true)
                #expect(file.body.readableBytes > 100)
            }
            #expect(try await client.execute(uri: "/console/core.js", method: .get).status == .notFound)
        }
    }
}
