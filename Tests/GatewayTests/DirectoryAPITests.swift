import CortexTestSupport
import Engine
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

@testable import Gateway

/// The directory and smart lists through HTTP, as the README's example runs them.
@Suite struct DirectoryAPITests {
    static let boughtP2PNotCanva =
        #"{"all": [{"activity": {"type": "checkout.completed", "where": {"product": "P2P"}}}, {"not": {"activity": {"type": "checkout.completed", "where": {"product": "Canva"}}}}]}"#

    static func checkout(_ app: TestApp, _ client: any TestClientProtocol, email: String, product: String, id: String) async throws {
        let body = #"{"type":"checkout.completed","data":{"email":"\#(email)","product":"\#(product)"}}"#
        let response = try await client.execute(uri: "/webhooks/checkout", method: .post, headers: try app.signed(body, id: id), body: .init(body))
        #expect(response.status == .accepted)
    }

    @Test(arguments: StoreBackend.enabled)
    func boughtP2PButNotCanvaEndToEnd(backend: StoreBackend) async throws {
        try await TestApp.with(backend) { app in
            try await app.test { client in
                try await Self.checkout(app, client, email: "ada@example.com", product: "P2P", id: "e1")
                try await Self.checkout(app, client, email: "bo@example.com", product: "P2P", id: "e2")
                try await Self.checkout(app, client, email: "bo@example.com", product: "Canva", id: "e3")

                let created = try await client.execute(
                    uri: "/v1/lists", method: .post, headers: app.bearer,
                    body: .init(#"{"name": "Bought P2P, not Canva", "filter": \#(Self.boughtP2PNotCanva)}"#))
                #expect(created.status == .created)
                #expect(created.json["count"] == .int(1))
                guard case .number(let id)? = created.json["id"] else { Issue.record("no id: \(created.json)"); return }

                let members = try await client.execute(uri: "/v1/lists/\(id)/members", method: .get, headers: app.bearer)
                #expect(members.json["data"]?.arrayValue?.compactMap { $0["email"]?.stringValue } == ["ada@example.com"])
                #expect(members.json["data"]?.arrayValue?.first?["lifecycle"] == .string("customer"))
                #expect(members.json["next_cursor"] == .null)

                // Resolved in real time: Ada buys Canva and leaves the list at once.
                try await Self.checkout(app, client, email: "ada@example.com", product: "Canva", id: "e4")
                let again = try await client.execute(uri: "/v1/lists/\(id)", method: .get, headers: app.bearer)
                #expect(again.json["count"] == .int(0))

                let preview = try await client.execute(
                    uri: "/v1/lists/preview", method: .post, headers: app.bearer,
                    body: .init(#"{"filter": {"activity": {"type": "checkout.completed", "where": {"product": "Canva"}}}}"#))
                #expect(preview.json["count"] == .int(2))
                #expect(preview.json["sample"]?.arrayValue?.count == 2)

                let filter = #"{"tag":"VIP"}"#.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""
                _ = try await client.execute(
                    uri: "/v1/contacts/bo@example.com/tags", method: .post, headers: app.bearer, body: .init(#"{"tags": ["VIP"]}"#))
                let listed = try await client.execute(uri: "/v1/contacts?filter=\(filter)", method: .get, headers: app.bearer)
                #expect(listed.json["data"]?.arrayValue?.compactMap { $0["email"]?.stringValue } == ["bo@example.com"])
                let searched = try await client.execute(uri: "/v1/contacts?q=ADA", method: .get, headers: app.bearer)
                #expect(searched.json["data"]?.arrayValue?.compactMap { $0["email"]?.stringValue } == ["ada@example.com"])
            }
        }
    }

    @Test func contactsAreSavedWithMergedAttributesTagsAndConsentActivities() async throws {
        let app = try await TestApp.make()
        try await app.test { client in
            let saved = try await client.execute(
                uri: "/v1/contacts/Ada@Example.com", method: .put, headers: app.bearer,
                body: .init(#"{"first_name": "Ada", "timezone": "Europe/Berlin", "attributes": {"plan": "pro", "seats": 3}, "consent": "granted"}"#))
            #expect(saved.status == .ok)
            #expect(saved.json["email"] == .string("ada@example.com"))
            #expect(saved.json["consent"]?["status"] == .string("granted"))
            #expect(saved.json["lifecycle"] == .string("lead"))
            let merged = try await client.execute(
                uri: "/v1/contacts/ada@example.com", method: .put, headers: app.bearer,
                body: .init(#"{"attributes": {"plan": null, "city": "Berlin"}}"#))
            #expect(canonical(merged.json["attributes"] ?? .null) == canonical(.object(["seats": .number("3"), "city": .string("Berlin")])))
            #expect(merged.json["first_name"] == .string("Ada"))

            let tagged = try await client.execute(
                uri: "/v1/contacts/ada@example.com/tags", method: .post, headers: app.bearer, body: .init(#"{"tags": ["P2P", "p2p", "VIP"]}"#))
            #expect(tagged.json["added"] == .array([.string("P2P"), .string("VIP")]))
            let again = try await client.execute(
                uri: "/v1/contacts/ada@example.com/tags", method: .post, headers: app.bearer, body: .init(#"{"tags": ["vip"]}"#))
            #expect(again.json["added"] == .array([]))
            #expect(try await client.execute(uri: "/v1/contacts/ada@example.com/tags/vip", method: .delete, headers: app.bearer).status == .noContent)
            #expect(try await client.execute(uri: "/v1/contacts/ada@example.com/tags/vip", method: .delete, headers: app.bearer).status == .notFound)

            let feed = try await client.execute(uri: "/v1/activities?email=ada@example.com", method: .get, headers: app.bearer)
            let types = feed.json["data"]?.arrayValue?.compactMap { $0["type"]?.stringValue } ?? []
            #expect(types.sorted() == ["consent.granted", "tag.added", "tag.added", "tag.removed"])
        }
    }

    @Test(arguments: [
        (#"{"to": 1}"#, "/v1/contacts/a@b.io", HTTPResponse.Status.badRequest, "invalid_field"),
        (#"{"timezone": "Mars/Olympus"}"#, "/v1/contacts/a@b.io", .badRequest, "invalid_field"),
        (#"{"consent": "maybe"}"#, "/v1/contacts/a@b.io", .badRequest, "invalid_field"),
        (#"{"attributes": [1]}"#, "/v1/contacts/a@b.io", .badRequest, "invalid_field"),
    ])
    func badContactsAreRefusedAndWriteNothing(body: String, uri: String, status: HTTPResponse.Status, code: String) async throws {
        let app = try await TestApp.make()
        try await app.test { client in
            let response = try await client.execute(uri: uri, method: .put, headers: app.bearer, body: .init(body))
            #expect(response.status == status)
            #expect(response.errorCode == code)
        }
        #expect(try await app.store.contact(email: EmailAddress("a@b.io")!) == nil)
    }

    @Test func invalidFiltersAre422NamingThePathAndListsInUseCannotBeDeleted() async throws {
        let app = try await TestApp.make()
        try await app.test { client in
            let bad = try await client.execute(
                uri: "/v1/lists", method: .post, headers: app.bearer,
                body: .init(#"{"name": "x", "filter": {"all": [{"tag": "a"}, {"field": "plan", "op": "eq", "value": 1}]}}"#))
            #expect(bad.status == .unprocessableContent)
            #expect(bad.errorCode == "invalid_filter")
            #expect(bad.json["error"]?["message"]?.stringValue?.hasPrefix("/all/1/field") == true)
            let missing = try await client.execute(
                uri: "/v1/lists", method: .post, headers: app.bearer, body: .init(#"{"name": "x", "filter": {"list": 99}}"#))
            #expect(missing.errorCode == "invalid_filter")

            let base = try await client.execute(
                uri: "/v1/lists", method: .post, headers: app.bearer, body: .init(#"{"name": "VIP", "filter": {"tag": "VIP"}}"#))
            guard case .number(let baseID)? = base.json["id"] else { Issue.record("no id"); return }
            let user = try await client.execute(
                uri: "/v1/lists", method: .post, headers: app.bearer, body: .init(#"{"name": "uses VIP", "filter": {"list": \#(baseID)}}"#))
            guard case .number(let userID)? = user.json["id"] else { Issue.record("no id"); return }
            let cycle = try await client.execute(
                uri: "/v1/lists/\(baseID)", method: .put, headers: app.bearer, body: .init(#"{"name": "VIP", "filter": {"list": \#(userID)}}"#))
            #expect(cycle.errorCode == "invalid_filter")
            let inUse = try await client.execute(uri: "/v1/lists/\(baseID)", method: .delete, headers: app.bearer)
            #expect(inUse.status == .conflict)
            #expect(inUse.errorCode == "list_in_use")
            #expect(try await client.execute(uri: "/v1/lists/\(userID)", method: .delete, headers: app.bearer).status == .noContent)
            #expect(try await client.execute(uri: "/v1/lists/\(baseID)", method: .delete, headers: app.bearer).status == .noContent)
            #expect(try await client.execute(uri: "/v1/lists/\(baseID)", method: .get, headers: app.bearer).status == .notFound)
        }
        #expect(try await app.store.smartLists().isEmpty)
    }

    /// The checkout form's opt-in box: `marketing_opt_in` in the event sets consent, once, and a
    /// redelivery of an older opt-in never overrides a newer opt-out.
    @Test(arguments: StoreBackend.enabled)
    func marketingOptInInAnEventSetsConsent(backend: StoreBackend) async throws {
        try await TestApp.with(backend) { app in
            try await app.test { client in
                let optIn = #"{"type":"checkout.completed","timestamp":"2021-02-20T10:00:00Z","data":{"email":"ada@example.com","marketing_opt_in":true}}"#
                let optOut = #"{"type":"checkout.completed","timestamp":"2021-02-21T10:00:00Z","data":{"email":"ada@example.com","marketing_opt_in":false}}"#
                for (body, id) in [(optIn, "c1"), (optOut, "c2"), (optIn, "c1")] {
                    let response = try await client.execute(uri: "/webhooks/checkout", method: .post, headers: try app.signed(body, id: id), body: .init(body))
                    #expect(response.status == .accepted)
                }
                let contact = try await client.execute(uri: "/v1/contacts/ada@example.com", method: .get, headers: app.bearer)
                #expect(contact.json["consent"]?["status"] == .string("revoked"))
                #expect(contact.json["consent"]?["source"] == .string("checkout"))
                #expect(contact.json["consent"]?["at"] == .string("2021-02-21T10:00:00.000000Z"))
                let consents = try await client.execute(uri: "/v1/activities?email=ada@example.com", method: .get, headers: app.bearer)
                let types = consents.json["data"]?.arrayValue?.compactMap { $0["type"]?.stringValue }.filter { $0.hasPrefix("consent.") }
                #expect(types?.sorted() == ["consent.granted", "consent.revoked"])
                #expect(try await client.execute(uri: "/v1/contacts/ada@example.com", method: .delete, headers: app.bearer).status == .noContent)
                #expect(try await client.execute(uri: "/v1/contacts/ada@example.com", method: .get, headers: app.bearer).status == .notFound)
            }
        }
    }
}
