import CortexTestSupport
import Engine
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

@testable import Gateway

/// `GET`/`POST /v1/keys` and `DELETE /v1/keys/{id}`: a key made over the API opens `/v1` and the
/// console until it is revoked, then neither; the key is shown once and never stored or logged.
@Suite struct APIKeyAPITests {
    static func bearer(_ key: String) -> HTTPFields { [.authorization: "Bearer \(key)"] }

    @Test(arguments: StoreBackend.enabled)
    func aCreatedKeyWorksUntilRevokedAndItsConsoleSessionEndsWithIt(backend: StoreBackend) async throws {
        let recorder = LogRecorder()
        try await TestApp.with(backend) { base in
            var configured = base
            configured.logger = recorder.logger()
            let app = configured
            try await app.test { client in
                let created = try await client.execute(
                    uri: "/v1/keys", method: .post, headers: app.bearer, body: ByteBuffer(string: #"{"name": "  Zapier  "}"#))
                #expect(created.status == .created)
                #expect(created.headers[.cacheControl] == "no-store")
                let key = try #require(created.json["key"]?.stringValue)
                let id = try #require(created.json["id"].flatMap { Int64($0.serialized()) })
                #expect(key.hasPrefix("ck_") && key.count == 46)
                #expect(created.json["name"] == .string("Zapier"), "trimmed")
                #expect(created.json["hint"] == .string(String(key.suffix(4))))
                #expect(created.json["created_at"] == .string(RFC3339.format(TestApp.start)))
                #expect(created.json["revoked_at"] == .null)

                // Listed without the key; the configured key is counted, not listed.
                let listed = try await client.execute(uri: "/v1/keys", method: .get, headers: app.bearer)
                #expect(listed.status == .ok && listed.json["configured_keys"] == .int(1))
                var expected = try #require(created.json.objectValue)
                expected.members.removeAll { $0.key == "key" }
                #expect(listed.json["data"] == .array([.object(expected)]))
                #expect(!String(buffer: listed.body).contains(key))

                // The new key opens /v1 and buys a console session.
                #expect(try await client.execute(uri: "/v1/activities", method: .get, headers: Self.bearer(key)).status == .ok)
                let signIn = try await client.execute(
                    uri: "/console/session", method: .post, body: ByteBuffer(string: #"{"api_key": "\#(key)"}"#))
                let cookieValue = try #require(signIn.headers[.setCookie]?.split(separator: ";").first.map(String.init))
                let cookie: HTTPFields = [.cookie: cookieValue]
                #expect(try await client.execute(uri: "/v1/keys", method: .get, headers: cookie).status == .ok)

                app.clock.advance(seconds: 90)
                let revoked = try await client.execute(uri: "/v1/keys/\(id)", method: .delete, headers: app.bearer)
                #expect(revoked.status == .ok)
                let revokedAt = RFC3339.format(TestApp.start.adding(seconds: 90))
                #expect(revoked.json["revoked_at"] == .string(revokedAt))
                #expect(revoked.json["key"] == nil)

                let refused = try await client.execute(uri: "/v1/activities", method: .get, headers: Self.bearer(key))
                #expect(refused.status == .unauthorized && refused.errorCode == "auth")
                let ended = try await client.execute(uri: "/v1/activities", method: .get, headers: cookie)
                #expect(ended.status == .unauthorized && ended.errorCode == "auth")
                #expect(try await client.execute(uri: "/v1/activities", method: .get, headers: app.bearer).status == .ok)

                // Revoking again answers the row as it was, first revocation time kept.
                app.clock.advance(seconds: 90)
                let again = try await client.execute(uri: "/v1/keys/\(id)", method: .delete, headers: app.bearer)
                #expect(again.status == .ok && again.json["revoked_at"] == .string(revokedAt))
                let after = try await client.execute(uri: "/v1/keys", method: .get, headers: app.bearer)
                #expect(after.json["data"]?.arrayValue?.first?["revoked_at"] == .string(revokedAt))
                #expect(!recorder.lines.contains { "\($0)".contains(key) }, "the key is never logged")
                // Only the key's hash is stored: the SQLite file and its log do not hold the key.
                if let sqlite = app.store as? SQLiteStore {
                    let bytes = [sqlite.path, sqlite.path + "-wal"].compactMap { FileManager.default.contents(atPath: $0) }
                        .reduce(Data(), +)
                    #expect(bytes.range(of: Data(APIKeyAuthenticator.hashHex(key).utf8)) != nil, "the search finds what is stored")
                    #expect(bytes.range(of: Data(key.utf8)) == nil)
                }
            }
        }
    }

    @Test(arguments: StoreBackend.enabled)
    func badNamesAre400AndWriteNothing(backend: StoreBackend) async throws {
        try await TestApp.with(backend) { app in
            try await app.test { client in
                let longest = String(repeating: "é", count: 100)
                for body in [
                    "{}", #"{"name": ""}"#, #"{"name": "   "}"#, #"{"name": 42}"#, #"{"name": null}"#,
                    #"{"name": "two\nlines"}"#, #"{"name": "a\rb"}"#, #"{"name": "tab\there"}"#, #"{"name": "line\u2028separator"}"#,
                    #"{"name": "\#(longest)x"}"#, #"{"name": "nul\u0000"}"#, "not json", "[]", "",
                ] {
                    let response = try await client.execute(uri: "/v1/keys", method: .post, headers: app.bearer, body: ByteBuffer(string: body))
                    #expect(response.status == .badRequest, "\(body)")
                    #expect(response.errorCode != nil, "\(body)")
                }
                #expect(try await app.store.apiKeys().isEmpty)
                let fits = try await client.execute(
                    uri: "/v1/keys", method: .post, headers: app.bearer, body: ByteBuffer(string: #"{"name": "\#(longest)"}"#))
                #expect(fits.status == .created && fits.json["name"] == .string(longest))
            }
        }
    }

    /// Like every other `{id}` route: an id that names no key, numeric or not, is not found.
    @Test func unknownIdsAre404() async throws {
        let app = try await TestApp.make()
        try await app.test { client in
            for (path, status) in [("999", HTTPResponse.Status.notFound), ("0", .notFound), ("abc", .notFound), ("1.5", .notFound)] {
                let response = try await client.execute(uri: "/v1/keys/\(path)", method: .delete, headers: app.bearer)
                #expect(response.status == status, "\(path)")
                #expect(response.errorCode == "not_found", "\(path)")
            }
            let listed = try await client.execute(uri: "/v1/keys", method: .get, headers: app.bearer)
            #expect(listed.json["data"] == .array([]))
        }
    }

    @Test func keysNamesAndTheCLITable() throws {
        let key = APIKeyIssuer.makeKey()
        #expect(key.hasPrefix("ck_") && key.count == 46 && key != APIKeyIssuer.makeKey())
        #expect(APIKeyIssuer.hint(of: key) == String(key.suffix(4)))
        #expect(throws: InputError.self) { try APIKeyIssuer.validName(" \n ") }
        #expect(try APIKeyIssuer.validName(" shop\n") == "shop")
        let table = KeysCommand.table([APIKey(id: 12, name: "shop", hint: "abcd", createdAt: TestApp.start)])
        #expect(table == ["ID  NAME  HINT   CREATED                      REVOKED", "12  shop  …abcd  2021-02-25T15:02:10.000000Z  -"])
    }
}
