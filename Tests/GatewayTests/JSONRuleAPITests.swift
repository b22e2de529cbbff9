import CortexTestSupport
import Engine
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

@testable import Gateway

/// The one rule for every JSON document Cortex takes, on both stores: an object that repeats a
/// key, anywhere in the document, is a 400 `duplicate_key` and changes nothing; a number of more
/// than 400 digits written out is a 400 `invalid_json`. (A signed webhook's refusal is archived
/// as rejected, see InboundHardeningTests.)
@Suite struct JSONRuleAPITests {
    static let graph =
        #"{"nodes":[{"id":"t","type":"trigger","position":{"x":0,"y":0},"data":{"event":"x.never"}},"#
        + #"{"id":"tag","type":"add_tag","position":{"x":0,"y":1},"data":{"tag":"A"}}],"edges":[{"id":"e","source":"t","target":"tag"}]}"#
    static let campaign =
        #"{"name":"C","subject":"Hi","from":"shop@example.com","html":"<p>{{unsubscribe_url}}</p>","filter":{"tag":"A"}}"#

    /// Every body the API takes, each with a repeated key at the top or nested.
    static let repeatedKeyBodies: [(method: HTTPRequest.Method, path: String, body: String)] = [
        (.post, "/v1/events", #"{"type":"a","type":"b","email":"dup@example.com"}"#),
        (.post, "/v1/events", #"{"type":"a","data":{"email":"dup@example.com","n":1,"n":2}}"#),
        (.put, "/v1/contacts/ada@example.com", #"{"first_name":"A","first_name":"B"}"#),
        (.put, "/v1/contacts/ada@example.com", #"{"attributes":{"plan":"free","plan":"gold"}}"#),
        (.put, "/v1/contacts/ada@example.com", #"{"attributes":{"deep":[{"a":1,"a":2}]}}"#),
        (.put, "/v1/contacts/new@example.com", #"{"attributes":{"plan":"free","plan":"gold"}}"#),
        (.post, "/v1/contacts/ada@example.com/tags", #"{"tags":["A"],"tags":["B"]}"#),
        (.post, "/v1/lists", #"{"name":"L","filter":{"tag":"A","tag":"B"}}"#),
        (.put, "/v1/lists/1", #"{"name":"L","filter":{"field":"email","op":"eq","op":"neq","value":"x"}}"#),
        (.post, "/v1/lists/preview", #"{"filter":{"all":[{"tag":"A","tag":"B"}]}}"#),
        (.post, "/v1/automations", #"{"name":"A","graph":"# + graph.replacingOccurrences(of: #"{"tag":"A"}"#, with: #"{"tag":"A","tag":"B"}"#) + "}"),
        (.put, "/v1/automations/1", #"{"name":"A","name":"B","graph":"# + graph + "}"),
        (.post, "/v1/automations/1/simulate", #"{"event":{"type":"x.never","data":{"email":"a@b.io","email":"c@b.io"}}}"#),
        (.post, "/v1/campaigns", String(campaign.dropLast()) + #","subject":"Other"}"#),
        (.put, "/v1/campaigns/1", #"{"name":"C","design":{"body":{"rows":[],"rows":[1]}}}"#),
        (.post, "/v1/campaigns/1/test", #"{"to":["a@b.io"],"to":["c@b.io"]}"#),
        (.post, "/v1/messages", #"{"to":"a@b.io","from":"s@b.io","subject":"s","text":"{{x}}","model":{"x":1,"x":2}}"#),
        (.post, "/v1/messages/batch", #"[{"to":"a@b.io","to":"c@b.io","from":"s@b.io","subject":"s","text":"t"}]"#),
        (.post, "/v1/keys", #"{"name":"A","name":"B"}"#),
    ]

    /// What the refused requests could have changed, read through the API.
    static func state(_ client: any TestClientProtocol, _ app: TestApp) async throws -> [String] {
        var state: [String] = []
        for path in [
            "/v1/contacts/ada@example.com", "/v1/contacts?limit=1000", "/v1/lists/1", "/v1/automations/1", "/v1/campaigns/1",
            "/v1/keys", "/v1/activities?limit=1000", "/v1/messages?limit=1000", "/v1/executions?limit=1000",
        ] {
            let json = try await client.execute(uri: path, method: .get, headers: app.bearer).json
            // Live figures that reading alone may move.
            let kept = json.objectValue.map { JSON.object(JSONObject($0.members.filter { !["count", "stats"].contains($0.key) })) }
            state.append(path + " " + canonical(kept ?? json).serialized())
        }
        return state
    }

    @Test(arguments: StoreBackend.enabled)
    func everyBodyWithARepeatedKeyIs400AndChangesNothing(backend: StoreBackend) async throws {
        // A public URL, so a campaign's test send reads its body (without one it is a 409 first).
        try await TestApp.with(backend, { $0.publicURL = "https://crm.example.com" }) { app in
            try await app.test { client in
                for (path, body, status) in [
                    ("/v1/contacts/ada@example.com", #"{"first_name":"Ada","attributes":{"plan":"pro"}}"#, HTTPResponse.Status.ok),
                    ("/v1/lists", #"{"name":"L","filter":{"tag":"A"}}"#, .created),
                    ("/v1/automations", #"{"name":"A","graph":"# + Self.graph + "}", .created),
                    ("/v1/campaigns", Self.campaign, .created),
                ] {
                    let method: HTTPRequest.Method = path.hasPrefix("/v1/contacts") ? .put : .post
                    let made = try await client.execute(uri: path, method: method, headers: app.bearer, body: .init(body))
                    #expect(made.status == status, "\(path): \(made.json)")
                }
                let before = try await Self.state(client, app)
                let inbound = try await app.counts().inbound
                for (method, path, body) in Self.repeatedKeyBodies {
                    let response = try await client.execute(uri: path, method: method, headers: app.bearer, body: .init(body))
                    #expect(response.status == .badRequest, "\(method) \(path) \(body): \(response.json)")
                    #expect(response.errorCode == "duplicate_key", "\(method) \(path) \(body): \(response.json)")
                }
                let signIn = try await client.execute(
                    uri: "/console/session", method: .post, body: .init(#"{"api_key":"x","api_key":"\#(TestApp.apiKey)"}"#))
                #expect(signIn.errorCode == "duplicate_key")
                #expect(signIn.headers[.setCookie] == nil)
                #expect(try await Self.state(client, app) == before)
                // The two refused events were authenticated: archived as rejected, nothing more.
                #expect(try await app.counts().inbound == inbound + 2)
            }
        }
    }

    /// The `filter` query parameter follows the same rule as a body (it answered
    /// `invalid_parameter` before, unlike the same filter in `POST /v1/lists/preview`).
    @Test func aFilterQueryWithARepeatedKeyIsADuplicateKey() async throws {
        let app = try await TestApp.make()
        try await app.test { client in
            let query = #"{"tag":"A","tag":"B"}"#.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!
            let response = try await client.execute(uri: "/v1/contacts?filter=\(query)", method: .get, headers: app.bearer)
            #expect(response.status == .badRequest)
            #expect(response.errorCode == "duplicate_key")
            let malformed = try await client.execute(uri: "/v1/contacts?filter=%7B", method: .get, headers: app.bearer)
            #expect(malformed.errorCode == "invalid_parameter")
        }
    }

    /// PostgreSQL refused `1e200000` (422 `invalid_data`) where SQLite stored it (202), and spelled
    /// `1e400` out as 401 digits; now both refuse a number past 400 digits before any store sees it.
    @Test(arguments: StoreBackend.enabled)
    func aNumberPast400DigitsIsRefusedAlikeOnBothStores(backend: StoreBackend) async throws {
        try await TestApp.with(backend) { app in
            try await app.test { client in
                for number in ["1e400", "1e-400", "1e200000", "1e-200000", String(repeating: "9", count: 401)] {
                    let event = try await client.execute(
                        uri: "/v1/events", method: .post, headers: app.bearer,
                        body: .init(#"{"type":"n","data":{"email":"n@example.com","n":\#(number)}}"#))
                    #expect(event.status == .badRequest, "\(number.prefix(20)): \(event.json)")
                    #expect(event.errorCode == "invalid_json")
                    let contact = try await client.execute(
                        uri: "/v1/contacts/n@example.com", method: .put, headers: app.bearer, body: .init(#"{"attributes":{"n":\#(number)}}"#))
                    #expect(contact.errorCode == "invalid_json", "\(number.prefix(20)): \(contact.json)")
                }
                #expect(try await app.counts().activities == 0)
                #expect(try await app.store.contact(email: EmailAddress("n@example.com")!) == nil)
                let kept = try await client.execute(
                    uri: "/v1/events", method: .post, headers: app.bearer,
                    body: .init(#"{"type":"n","data":{"email":"n@example.com","max":1e308,"id":\#(String(repeating: "7", count: 100))}}"#))
                #expect(kept.status == .accepted)
            }
        }
    }
}
