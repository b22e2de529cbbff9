import CortexTestSupport
import Engine
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

@testable import Gateway

/// `/v1/campaigns` through HTTP: a campaign saved with its design kept verbatim, edited and
/// deleted while a draft, and clear 400s and 404s.
@Suite struct CampaignAPITests {
    static let valid = #"""
        {"name": "November news", "subject": "News for {{contact.first_name}}", "from": "Shop <shop@example.com>",
         "html": "<p>Hi {{contact.first_name}}</p><a href=\"{{unsubscribe_url}}\">Unsubscribe</a>",
         "design": {"body": {"rows": []}, "counters": {"u_row": 1}}, "list_id": 3}
        """#

    @Test(arguments: StoreBackend.enabled)
    func aCampaignIsSavedEditedAndDeletedWhileADraft(backend: StoreBackend) async throws {
        try await TestApp.with(backend) { app in
            try await app.test { client in
                let list = try await client.execute(
                    uri: "/v1/lists", method: .post, headers: app.bearer, body: .init(#"{"name": "VIP", "filter": {"tag": "VIP"}}"#))
                guard case .number(let listID)? = list.json["id"] else { Issue.record("no list: \(list.json)"); return }
                let body = Self.valid.replacingOccurrences(of: #""list_id": 3"#, with: #""list_id": \#(listID)"#)
                let created = try await client.execute(uri: "/v1/campaigns", method: .post, headers: app.bearer, body: .init(body))
                #expect(created.status == .created)
                #expect(created.json["status"] == .string("draft") && created.json["stream"] == .string("broadcast"))
                #expect(created.json["design"]?.serialized() == #"{"body":{"rows":[]},"counters":{"u_row":1}}"#)
                #expect(created.json["consent"] == .string("granted") && created.json["scheduled_at"] == .null)
                guard case .number(let id)? = created.json["id"] else { Issue.record("no id"); return }

                // A GET body edited and sent back: the read-only fields are ignored.
                let read = try await client.execute(uri: "/v1/campaigns/\(id)", method: .get, headers: app.bearer)
                var edited = try #require(read.json.objectValue)
                edited.members.removeAll { $0.key == "subject" }
                edited.members.append(("subject", .string("December news")))
                let put = try await client.execute(
                    uri: "/v1/campaigns/\(id)", method: .put, headers: app.bearer, body: .init(JSON.object(edited).serialized()))
                #expect(put.status == .ok && put.json["subject"] == .string("December news"))
                let listed = try await client.execute(uri: "/v1/campaigns", method: .get, headers: app.bearer)
                #expect(listed.json["data"]?.arrayValue?.map { $0["subject"] } == [.string("December news")])

                let deleted = try await client.execute(uri: "/v1/campaigns/\(id)", method: .delete, headers: app.bearer)
                #expect(deleted.status == .noContent)
                let gone = try await client.execute(uri: "/v1/campaigns/\(id)", method: .get, headers: app.bearer)
                #expect(gone.status == .notFound)
            }
        }
    }

    @Test func badBodiesAre400sAndNothingIsSaved() async throws {
        let app = try await TestApp.make()
        try await app.test { client in
            for (body, field) in [
                (Self.valid.replacingOccurrences(of: #""list_id": 3"#, with: #""list_id": 999"#), "list_id"),
                (Self.valid.replacingOccurrences(of: #""from": "Shop <shop@example.com>","#, with: ""), "from"),
                (#"{"name": "x"}"#, "subject"),
            ] {
                let response = try await client.execute(uri: "/v1/campaigns", method: .post, headers: app.bearer, body: .init(body))
                #expect(response.status == .badRequest, "\(body)")
                #expect(response.json["error"]?["message"]?.stringValue?.contains(field) == true, "\(response.json)")
            }
            let listed = try await client.execute(uri: "/v1/campaigns", method: .get, headers: app.bearer)
            #expect(listed.json["data"]?.arrayValue?.isEmpty == true)
            for method in [HTTPRequest.Method.get, .delete] {
                #expect(try await client.execute(uri: "/v1/campaigns/42", method: method, headers: app.bearer).status == .notFound)
            }
        }
    }

    @Test(arguments: StoreBackend.enabled)
    func sendingFansOutOnceAndASecondSendIs409(backend: StoreBackend) async throws {
        try await TestApp.with(backend, { $0.publicURL = "https://crm.example.com" }) { app in
            try await app.test { client in
                for name in ["ada", "bob"] {
                    let put = try await client.execute(
                        uri: "/v1/contacts/\(name)@example.com", method: .put, headers: app.bearer, body: .init(#"{"consent": "granted"}"#))
                    #expect(put.status == .ok)
                }
                let body = Self.valid.replacingOccurrences(of: #""list_id": 3"#, with: #""filter": {"everyone": true}"#)
                let created = try await client.execute(uri: "/v1/campaigns", method: .post, headers: app.bearer, body: .init(body))
                guard case .number(let id)? = created.json["id"] else { Issue.record("no id: \(created.json)"); return }
                let sent = try await client.execute(uri: "/v1/campaigns/\(id)/send", method: .post, headers: app.bearer)
                #expect(sent.status == .ok && sent.json["status"] == .string("scheduled"))
                let again = try await client.execute(uri: "/v1/campaigns/\(id)/send", method: .post, headers: app.bearer)
                #expect(again.status == .conflict && again.errorCode == "campaign_already_sent")
                // The worker (here one pass by hand) fans it out; the sender delivers it.
                #expect(try await app.dependencies.campaignWorker().runOnce()?.recipients == 2)
                let sending = try await client.execute(uri: "/v1/campaigns/\(id)", method: .get, headers: app.bearer)
                #expect(sending.json["status"] == .string("sending") && sending.json["stats"]?["recipients"] == .int(2))
                let edit = try await client.execute(uri: "/v1/campaigns/\(id)", method: .put, headers: app.bearer, body: .init(body))
                #expect(edit.status == .conflict && edit.errorCode == "campaign_not_editable")
                let late = try await client.execute(
                    uri: "/v1/campaigns/\(id)/send", method: .post, headers: app.bearer, body: .init(#"{"at": "yesterday"}"#))
                #expect(late.status == .badRequest)
            }
        }
    }

    @Test func aCampaignIsNotSentWithoutAPublicURLForItsUnsubscribeLinks() async throws {
        let app = try await TestApp.make()
        try await app.test { client in
            let body = Self.valid.replacingOccurrences(of: #""list_id": 3"#, with: #""filter": {"everyone": true}"#)
            let created = try await client.execute(uri: "/v1/campaigns", method: .post, headers: app.bearer, body: .init(body))
            guard case .number(let id)? = created.json["id"] else { Issue.record("no id"); return }
            let sent = try await client.execute(uri: "/v1/campaigns/\(id)/send", method: .post, headers: app.bearer)
            #expect(sent.status == .conflict && sent.errorCode == "public_url_required")
            let read = try await client.execute(uri: "/v1/campaigns/\(id)", method: .get, headers: app.bearer)
            #expect(read.json["status"] == .string("draft"))
        }
    }

    @Test(arguments: StoreBackend.enabled)
    func aTestSendIsRenderedMarkedAndNotPartOfTheCampaign(backend: StoreBackend) async throws {
        try await TestApp.with(backend, { $0.publicURL = "https://crm.example.com" }) { app in
            try await app.test { client in
                _ = try await client.execute(
                    uri: "/v1/contacts/ada@example.com", method: .put, headers: app.bearer, body: .init(#"{"first_name": "Ada"}"#))
                let body = Self.valid.replacingOccurrences(of: #""list_id": 3"#, with: #""filter": {"everyone": true}"#)
                let created = try await client.execute(uri: "/v1/campaigns", method: .post, headers: app.bearer, body: .init(body))
                guard case .number(let id)? = created.json["id"] else { Issue.record("no id"); return }
                let test = try await client.execute(
                    uri: "/v1/campaigns/\(id)/test", method: .post, headers: app.bearer,
                    body: .init(#"{"to": ["ada@example.com", "me@example.com"]}"#))
                #expect(test.status == .accepted)
                #expect(test.json["data"]?.arrayValue?.map { $0["subject"] } == [.string("[Test] News for Ada"), .string("[Test] News for Sample")])
                let ledger = try await app.store.emailJobs(EmailJobQuery(limit: 10))
                #expect(ledger.count == 2 && ledger.allSatisfy { $0.campaignID == nil && $0.message.html?.contains("/u/test") == true })
                let read = try await client.execute(uri: "/v1/campaigns/\(id)", method: .get, headers: app.bearer)
                #expect(read.json["status"] == .string("draft") && read.json["stats"]?["recipients"] == .int(0))
                for bad in [#"{"to": []}"#, #"{"to": ["nope"]}"#, #"{"to": "me@example.com"}"#] {
                    let refused = try await client.execute(uri: "/v1/campaigns/\(id)/test", method: .post, headers: app.bearer, body: .init(bad))
                    #expect(refused.status == .badRequest, "\(bad)")
                }
            }
        }
    }
}
