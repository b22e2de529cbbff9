import CortexTestSupport
import Engine
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

@testable import Gateway

/// A campaign end to end through the local Postmark API server: rendered per recipient at send
/// time on the broadcast stream with the RFC 8058 headers, and its one-click link unsubscribes
/// at once (the next campaign leaves the contact out); a scanner's GET unsubscribes nobody.
@Suite struct CampaignDeliveryTests {
    static let body = #"""
        {"name": "News", "subject": "News for {{contact.first_name}}", "from": "Shop <shop@example.com>",
         "html": "<p>Hi {{contact.first_name}}</p>", "text": "Hi {{contact.first_name}}, bye: {{unsubscribe_url}}",
         "filter": {"tag": "News"}}
        """#

    @Test(arguments: StoreBackend.enabled)
    func aCampaignIsRenderedPerRecipientAndItsLinkUnsubscribes(backend: StoreBackend) async throws {
        let fake = FakePostmark()
        let postmark = Application(router: fake.router(), configuration: .init(address: .hostname("127.0.0.1", port: 0)))
        try await postmark.test(.live) { postmarkClient in
            let port = try #require(postmarkClient.port)
            try await TestApp.with(backend, {
                $0.publicURL = "https://crm.example.com"
                $0.mailProvider = .postmark
                $0.postmarkServerToken = FakePostmark.token
                $0.postmarkAPIURL = "http://127.0.0.1:\(port)"
            }) { app in
                try await app.test { client in
                    for name in ["ada", "bob"] {
                        _ = try await client.execute(
                            uri: "/v1/contacts/\(name)@example.com", method: .put, headers: app.bearer,
                            body: .init(#"{"first_name": "\#(name.capitalized)", "consent": "granted"}"#))
                        _ = try await client.execute(
                            uri: "/v1/contacts/\(name)@example.com/tags", method: .post, headers: app.bearer, body: .init(#"{"tags": ["News"]}"#))
                    }
                    let id = try await Self.send(client, app)
                    #expect(try await app.dependencies.campaignWorker().runOnce()?.recipients == 2)
                    #expect(try await app.dependencies.sender().runOnce() == .sent(count: 2))

                    let messages = fake.requests.flatMap { $0.arrayValue ?? [] }
                    #expect(messages.count == 2)
                    let ada = try #require(messages.first { $0["To"]?.stringValue == "ada@example.com" })
                    #expect(ada["Subject"] == .string("News for Ada") && ada["MessageStream"] == .string("broadcast"))
                    // No {{unsubscribe_url}} in the HTML: a footer link is added.
                    #expect(ada["HtmlBody"]?.stringValue?.hasPrefix("<p>Hi Ada</p>") == true)
                    #expect(ada["HtmlBody"]?.stringValue?.contains("https://crm.example.com/u/") == true)
                    let headers = ada["Headers"]?.arrayValue ?? []
                    let value = { (name: String) in headers.first { $0["Name"] == .string(name) }?["Value"]?.stringValue }
                    #expect(value("List-Unsubscribe-Post") == "List-Unsubscribe=One-Click")
                    let link = try #require(value("List-Unsubscribe")?.dropFirst().dropLast()).description
                    #expect(link.hasPrefix("https://crm.example.com/u/"))
                    #expect(ada["TextBody"]?.stringValue == "Hi Ada, bye: \(link)")
                    let path = String(link.dropFirst("https://crm.example.com".count))

                    // A link scanner's GET shows a page and changes nothing.
                    let page = try await client.execute(uri: path, method: .get)
                    #expect(page.status == .ok && String(buffer: page.body).contains("<form method=\"post\""))
                    let before = try await client.execute(uri: "/v1/contacts/ada@example.com", method: .get, headers: app.bearer)
                    #expect(before.json["consent"]?["status"] == .string("granted"))

                    // The one-click POST, twice: 200 without a redirect, idempotent.
                    for _ in 0..<2 {
                        let done = try await client.execute(
                            uri: path, method: .post, headers: [.contentType: "application/x-www-form-urlencoded"],
                            body: .init("List-Unsubscribe=One-Click"))
                        #expect(done.status == .ok)
                    }
                    let after = try await client.execute(uri: "/v1/contacts/ada@example.com", method: .get, headers: app.bearer)
                    #expect(after.json["consent"]?["status"] == .string("revoked"))
                    let feed = try await app.store.activities(ActivityQuery(email: EmailAddress("ada@example.com")!))
                    let unsubscribed = feed.filter { $0.type == "email.unsubscribed" }
                    #expect(unsubscribed.count == 1)
                    #expect(unsubscribed.first.flatMap { try? JSONParser.parse(Array($0.metadata.utf8)) }?["campaign_id"] == .int(id))

                    // A forged or truncated token is a 404 page.
                    for bad in [path.dropLast(3).description, "/u/\(id).1.AAAA", "/u/nonsense"] {
                        #expect(try await client.execute(uri: bad, method: .post).status == .notFound, "\(bad)")
                    }

                    // Provider events about the campaign's messages count once per contact.
                    let ledger = try await app.store.emailJobs(EmailJobQuery(limit: 10))
                    let messageID = { (email: String) in ledger.first { $0.message.recipient.value == email }?.providerMessageID ?? "" }
                    for (record, email, time) in [
                        ("Delivery", "ada@example.com", "DeliveredAt"), ("Delivery", "bob@example.com", "DeliveredAt"),
                        ("Open", "ada@example.com", "ReceivedAt"), ("Open", "ada@example.com", "ReceivedAt"),
                        ("Click", "bob@example.com", "ReceivedAt"),
                    ] {
                        let body = Array(
                            #"{"RecordType":"\#(record)","Recipient":"\#(email)","MessageID":"\#(messageID(email))","\#(time)":"2026-11-26T12:00:0\#(Int.random(in: 0...9))Z"}"#.utf8)
                        let response = try await client.execute(
                            uri: "/webhooks/postmark", method: .post, headers: try app.providerHeaders("postmark", body: body),
                            body: ByteBuffer(bytes: body))
                        #expect(response.status == .accepted)
                    }
                    let stats = try await client.execute(uri: "/v1/campaigns/\(id)", method: .get, headers: app.bearer).json["stats"]
                    #expect(stats?["recipients"] == .int(2) && stats?["sent"] == .int(2) && stats?["delivered"] == .int(2))
                    #expect(stats?["opened"] == .int(1) && stats?["clicked"] == .int(1) && stats?["unsubscribed"] == .int(1))
                    #expect(stats?["bounced"] == .int(0) && stats?["complained"] == .int(0))
                    // The same opens and clicks over time, for the campaign page's chart.
                    let timeline = try await client.execute(uri: "/v1/campaigns/\(id)/timeline", method: .get, headers: app.bearer)
                    #expect(timeline.status == .ok && timeline.json["bucket"] == .string("hour"))
                    #expect(
                        timeline.json["data"]
                            == .array([.object(["at": .string("2026-11-26T12:00:00.000000Z"), "opened": .int(1), "clicked": .int(1)])]))
                    let badBucket = try await client.execute(uri: "/v1/campaigns/\(id)/timeline?bucket=week", method: .get, headers: app.bearer)
                    #expect(badBucket.status == .badRequest && badBucket.json["error"]?["code"] == .string("invalid_parameter"))
                    #expect(try await client.execute(uri: "/v1/campaigns/999/timeline", method: .get, headers: app.bearer).status == .notFound)

                    // The next campaign leaves Ada out.
                    _ = try await Self.send(client, app)
                    #expect(try await app.dependencies.campaignWorker().runOnce()?.recipients == 1)
                }
            }
        }
    }

    /// Creates and sends the campaign; answers its id.
    static func send(_ client: any TestClientProtocol, _ app: TestApp) async throws -> Int64 {
        let created = try await client.execute(uri: "/v1/campaigns", method: .post, headers: app.bearer, body: .init(body))
        let id = try #require(created.json["id"].flatMap { if case .number(let text) = $0 { Int64(text) } else { nil } })
        let sent = try await client.execute(uri: "/v1/campaigns/\(id)/send", method: .post, headers: app.bearer)
        #expect(sent.status == .ok)
        return id
    }
}
