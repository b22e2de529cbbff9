import CortexTestSupport
import Engine
import HTTPTypes
import Hummingbird
import Logging
import HummingbirdTesting
import Testing

@testable import Gateway

@Suite struct MessageAPITests {
    static let message = #"{"to":"Ada@Example.com","subject":"Welcome","html":"<p>Hi</p>","text":"Hi","tag":"welcome","metadata":{"order":"42"},"idempotency_key":"welcome-ada"}"#

    @Test(arguments: StoreBackend.enabled)
    func aMessageIsQueuedOnceSentByTheWorkerAndReadable(backend: StoreBackend) async throws {
        try await TestApp.with(backend, { $0.mailFrom = "Shop <shop@example.com>" }) { app in
            try await app.test { client in
                let first = try await client.execute(uri: "/v1/messages", method: .post, headers: app.bearer, body: .init(Self.message))
                #expect(first.status == .accepted)
                #expect(first.json["status"] == .string("queued"))
                #expect(first.json["to"] == .string("ada@example.com"))
                #expect(first.json["from"] == .string("Shop <shop@example.com>"))
                #expect(first.json["duplicate"] == .bool(false))
                let again = try await client.execute(uri: "/v1/messages", method: .post, headers: app.bearer, body: .init(Self.message))
                #expect(again.json["duplicate"] == .bool(true))
                #expect(again.json["id"] == first.json["id"])

                #expect(try await app.dependencies.sender().runOnce() == .sent(count: 1))
                #expect(try await app.dependencies.sender().runOnce() == .idle)

                guard case .number(let id)? = first.json["id"] else { Issue.record("no id"); return }
                let read = try await client.execute(uri: "/v1/messages/\(id)", method: .get, headers: app.bearer)
                #expect(read.json["status"] == .string("sent"))
                #expect(read.json["provider"] == .string("dry-run"))
                #expect(read.json["provider_message_id"]?.stringValue?.hasPrefix("dry-run-") == true)
                #expect(read.json["html"] == .string("<p>Hi</p>"))
                #expect(read.json["metadata"] == .object(["order": .string("42")]))
                #expect(read.json["track_opens"] == .null)
                #expect(read.json["headers"] == .object([:]))

                let tracked = try await client.execute(
                    uri: "/v1/messages", method: .post, headers: app.bearer,
                    body: .init(#"{"to":"bo@example.com","subject":"s","text":"t","track_opens":false,"track_links":"htmlandtext","headers":[{"Name":"X-Campaign","Value":"spring"},{"Name":"Reply-To","Value":"help@example.com"}]}"#))
                guard case .number(let trackedID)? = tracked.json["id"] else { Issue.record("no id"); return }
                let options = try await client.execute(uri: "/v1/messages/\(trackedID)", method: .get, headers: app.bearer)
                #expect(options.json["track_opens"] == .bool(false))
                #expect(options.json["track_links"] == .string("HtmlAndText"))
                #expect(options.json["headers"] == .object(["X-Campaign": .string("spring"), "Reply-To": .string("help@example.com")]))

                let listed = try await client.execute(uri: "/v1/messages?email=ada@example.com&status=sent", method: .get, headers: app.bearer)
                #expect(listed.json["data"]?.arrayValue?.count == 1)
                let none = try await client.execute(uri: "/v1/messages?status=failed", method: .get, headers: app.bearer)
                #expect(none.json["data"] == .array([]))
            }
        }
    }

    @Test func aSuppressedRecipientIsNeverSent() async throws {
        let app = try await TestApp.make { $0.mailFrom = "shop@example.com" }
        _ = try await app.store.ingest(
            InboundDelivery(source: "postmark", externalID: "b", receivedAt: TestApp.start, headers: [], body: []),
            activities: [], suppressions: [.suppress(EmailAddress("ada@example.com")!, reason: "hard_bounce", at: TestApp.start)])
        try await app.test { client in
            _ = try await client.execute(uri: "/v1/messages", method: .post, headers: app.bearer, body: .init(Self.message))
            #expect(try await app.dependencies.sender().runOnce() == .idle)
            let listed = try await client.execute(uri: "/v1/messages?status=suppressed", method: .get, headers: app.bearer)
            #expect(listed.json["data"]?.arrayValue?.count == 1)
        }
    }

    @Test(arguments: [
        (#"{"subject":"s","text":"t"}"#, "invalid_field", "to"),
        (#"{"to":"nope","subject":"s","text":"t"}"#, "invalid_field", "to"),
        (#"{"to":"a@b.io","subject":"s","text":"t","from":"not an address"}"#, "invalid_field", "from"),
        (#"{"to":"a@b.io","text":"t"}"#, "invalid_field", "subject"),
        (#"{"to":"a@b.io","subject":"two\nlines","text":"t"}"#, "invalid_field", "subject"),
        (#"{"to":"a@b.io","subject":"s"}"#, "empty_content", "html"),
        (#"{"to":"a@b.io","subject":"s","html":"","text":""}"#, "empty_content", "html"),
        (#"{"to":"a@b.io","subject":"s","text":"t","stream":"bulk"}"#, "invalid_field", "stream"),
        (#"{"to":"a@b.io","subject":"s","text":"t","metadata":{"n":1}}"#, "invalid_field", "metadata"),
        (#"{"to":"a@b.io","subject":"Hi {{nmae}}","text":"t","model":{"name":"Ada"}}"#, "unknown_placeholder", "nmae"),
        (#"{"to":"a@b.io","subject":"s","html":"<p>{{{missing}}}</p>","model":{}}"#, "unknown_placeholder", "missing"),
        (#"{"to":"a@b.io","subject":"s","text":"{{#open}}never closed","model":{"open":true}}"#, "invalid_template", "text"),
        (#"{"to":"a@b.io","subject":"{{line}}","text":"t","model":{"line":"a\nBcc: x@y.z"}}"#, "invalid_field", "subject"),
        (#"{"to":"a@b.io","subject":"s","text":"t","model":[1]}"#, "invalid_field", "model"),
        (#"{"to":"a@b.io","subject":"s","text":"t","idempotency_key":""}"#, "invalid_field", "idempotency_key"),
        (#"[1]"#, "invalid_json", "object"),
        (#"{"to":"a@b.io","subject":"s","text":"t","from":"Evil\r\nBcc: x@y.z <a@b.io>"}"#, "invalid_field", "from"),
        (#"{"to":"a@b.io","subject":"s","text":"t","track_opens":"yes"}"#, "invalid_field", "track_opens"),
        (#"{"to":"a@b.io","subject":"s","text":"t","track_links":"Always"}"#, "invalid_field", "track_links"),
        (#"{"to":"a@b.io","subject":"s","text":"t","headers":{"Bad Name":"v"}}"#, "invalid_field", "headers"),
        (#"{"to":"a@b.io","subject":"s","text":"t","headers":{"Bcc":"x@y.z"}}"#, "invalid_field", "headers"),
        (#"{"to":"a@b.io","subject":"s","text":"t","headers":{"X-A":"one\r\nBcc: x@y.z"}}"#, "invalid_field", "headers"),
        (#"{"to":"a@b.io","subject":"s","text":"t","headers":[{"Name":"X-A"}]}"#, "invalid_field", "headers"),
        (#"{"to":"a@b.io","subject":"s","text":"t","headers":"X-A: 1"}"#, "invalid_field", "headers"),
    ])
    func rejectsBadMessagesNamingTheField(body: String, code: String, field: String) async throws {
        let app = try await TestApp.make { $0.mailFrom = "shop@example.com" }
        try await app.test { client in
            let response = try await client.execute(uri: "/v1/messages", method: .post, headers: app.bearer, body: .init(body))
            #expect(response.status == .badRequest)
            #expect(response.errorCode == code)
            #expect(response.json["error"]?["message"]?.stringValue?.contains(field) == true)
        }
        #expect(try await app.store.emailJobs(EmailJobQuery()).isEmpty)
    }

    @Test func withoutADefaultSenderFromIsRequired() async throws {
        let app = try await TestApp.make()
        try await app.test { client in
            let response = try await client.execute(
                uri: "/v1/messages", method: .post, headers: app.bearer, body: .init(#"{"to":"a@b.io","subject":"s","text":"t"}"#))
            #expect(response.errorCode == "missing_from")
        }
    }

    @Test func aBatchAnswersOneResultPerMessage() async throws {
        let app = try await TestApp.make { $0.mailFrom = "shop@example.com" }
        let batch = #"[{"to":"a@b.io","subject":"s","text":"t"},{"to":"bad","subject":"s","text":"t"},{"to":"c@d.io","subject":"s","html":"<b>x</b>"}]"#
        try await app.test { client in
            let response = try await client.execute(uri: "/v1/messages/batch", method: .post, headers: app.bearer, body: .init(batch))
            #expect(response.status == .accepted)
            let results = try #require(response.json["data"]?.arrayValue)
            #expect(results.count == 3)
            #expect(results[0]["status"] == .string("queued"))
            #expect(results[1]["error"]?["code"] == .string("invalid_field"))
            #expect(results[2]["status"] == .string("queued"))
            let tooMany = "[" + Array(repeating: #"{"to":"a@b.io","subject":"s","text":"t"}"#, count: 501).joined(separator: ",") + "]"
            let refused = try await client.execute(uri: "/v1/messages/batch", method: .post, headers: app.bearer, body: .init(tooMany))
            #expect(refused.status == .badRequest)
            let empty = try await client.execute(uri: "/v1/messages/batch", method: .post, headers: app.bearer, body: .init("[]"))
            #expect(empty.status == .badRequest)
        }
        #expect(try await app.store.emailJobs(EmailJobQuery()).count == 2)
    }

    @Test func readingNeedsAKeyAndAnUnknownMessageIs404() async throws {
        let app = try await TestApp.make()
        try await app.test { client async throws in
            #expect(try await client.execute(uri: "/v1/messages", method: .get).status == .unauthorized)
            #expect(try await client.execute(uri: "/v1/messages/9", method: .get, headers: app.bearer).status == .notFound)
            #expect(try await client.execute(uri: "/v1/messages?status=lost", method: .get, headers: app.bearer).status == .badRequest)
        }
    }

    @Test func aPausedSenderIsReportedByReadyz() async throws {
        struct RefusingTransport: MailTransport {
            let name = "refusing"
            let maxBatchSize = 10
            func send(_ batch: [OutgoingEmail]) async throws(TransportError) -> [DeliveryResult] {
                throw TransportError(.misconfigured, "401 bad server token")
            }
        }
        let app = try await TestApp.make { $0.mailFrom = "shop@example.com" }
        try await app.test { client in
            #expect(try await client.execute(uri: "/readyz", method: .get).json["sender"] == .string("ok"))
            _ = try await client.execute(uri: "/v1/messages", method: .post, headers: app.bearer, body: .init(Self.message))
            let sender = SenderWorker(
                store: app.store, transport: RefusingTransport(), clock: app.clock, ratePerSecond: nil,
                logger: Logger(label: "test"), status: app.senderStatus)
            _ = try await sender.runOnce()
            let ready = try await client.execute(uri: "/readyz", method: .get)
            #expect(ready.status == .ok)
            #expect(ready.json["sender"] == .string("paused: 401 bad server token"))
        }
    }

    @Test(arguments: StoreBackend.enabled)
    func aPostmarkWebhookAboutASentMessageIsLinkedToItsLedgerRow(backend: StoreBackend) async throws {
        try await TestApp.with(backend, { $0.mailFrom = "shop@example.com" }) { app in
            try await app.test { client in
                let queued = try await client.execute(uri: "/v1/messages", method: .post, headers: app.bearer, body: .init(Self.message))
                _ = try await app.dependencies.sender().runOnce()
                guard case .number(let id)? = queued.json["id"] else { Issue.record("no id"); return }
                let sent = try await client.execute(uri: "/v1/messages/\(id)", method: .get, headers: app.bearer)
                let messageID = try #require(sent.json["provider_message_id"]?.stringValue)
                for (index, pmID) in [messageID, "not-ours"].enumerated() {
                    let body = Array(#"{"RecordType":"Delivery","Recipient":"ada@example.com","MessageID":"\#(pmID)","DeliveredAt":"2021-02-25T15:0\#(index):00Z"}"#.utf8)
                    let response = try await client.execute(
                        uri: "/webhooks/postmark", method: .post, headers: try app.providerHeaders("postmark", body: body),
                        body: ByteBuffer(bytes: body))
                    #expect(response.status == .accepted)
                }
                let activities = try await app.store.activities(ActivityQuery(email: EmailAddress("ada@example.com")!))
                let linked = activities.first { $0.metadata.contains(messageID) }.flatMap { try? JSONParser.parse(Array($0.metadata.utf8)) }
                #expect(linked?["email_job_id"] == .number(id))
                let unlinked = activities.first { $0.metadata.contains("not-ours") }.flatMap { try? JSONParser.parse(Array($0.metadata.utf8)) }
                #expect(unlinked != nil && unlinked?["email_job_id"] == nil)
            }
        }
    }

    @Test func placeholdersAreFilledFromTheModelAndHTMLIsEscapedOnlyInHTML() async throws {
        let app = try await TestApp.make { $0.mailFrom = "shop@example.com" }
        let body = #"""
            {"to":"ada@example.com","subject":"Welcome, {{first_name}} & co","text":"Hi {{first_name}}, {{#items}}{{name}} x{{qty}}; {{/items}}total {{total}}",
             "html":"<p>Hi {{first_name}} {{company}}</p>{{#vip}}<b>VIP</b>{{/vip}}",
             "model":{"first_name":"Ada","company":"<Analytical & Co>","total":49.5,"vip":true,"items":[{"name":"P2P","qty":1},{"name":"Canva","qty":2}]}}
            """#
        try await app.test { client in
            let response = try await client.execute(uri: "/v1/messages", method: .post, headers: app.bearer, body: .init(body))
            #expect(response.status == .accepted)
            guard case .number(let id)? = response.json["id"] else { Issue.record("no id: \(response.json)"); return }
            let read = try await client.execute(uri: "/v1/messages/\(id)", method: .get, headers: app.bearer)
            #expect(read.json["subject"] == .string("Welcome, Ada & co"))
            #expect(read.json["text"] == .string("Hi Ada, P2P x1; Canva x2; total 49.5"))
            #expect(read.json["html"] == .string("<p>Hi Ada &lt;Analytical &amp; Co&gt;</p><b>VIP</b>"))
        }
    }

    @Test func withPostmarkConfiguredTheSenderDeliversThroughItsAPI() async throws {
        let fake = FakePostmark()
        let postmark = Application(router: fake.router(), configuration: .init(address: .hostname("127.0.0.1", port: 0)))
        try await postmark.test(.live) { postmarkClient in
            let port = try #require(postmarkClient.port)
            let app = try await TestApp.make {
                $0.mailFrom = "shop@example.com"
                $0.mailProvider = .postmark
                $0.postmarkServerToken = FakePostmark.token
                $0.postmarkAPIURL = "http://127.0.0.1:\(port)"
            }
            try await app.test { client in
                var ids: [String: JSON] = [:]
                for to in ["ada@example.com", "inactive@example.com", "invalid@example.com"] {
                    let response = try await client.execute(
                        uri: "/v1/messages", method: .post, headers: app.bearer,
                        body: .init(#"{"to":"\#(to)","subject":"Hi","text":"Hello"}"#))
                    ids[to] = response.json["id"]
                }
                #expect(try await app.dependencies.sender().runOnce() == .sent(count: 3))
                func message(_ to: String) async throws -> JSON {
                    guard case .number(let id)? = ids[to] else { return .null }
                    return try await client.execute(uri: "/v1/messages/\(id)", method: .get, headers: app.bearer).json
                }
                let sent = try await message("ada@example.com")
                #expect(sent["status"] == .string("sent"))
                #expect(sent["provider"] == .string("postmark"))
                #expect(sent["provider_message_id"]?.stringValue?.isEmpty == false)
                #expect(try await message("inactive@example.com")["status"] == .string("failed"))
                #expect(try await message("invalid@example.com")["status"] == .string("failed"))
                let suppressions = try await client.execute(uri: "/v1/suppressions", method: .get, headers: app.bearer)
                #expect(suppressions.json["data"]?.arrayValue?.first?["email"] == .string("inactive@example.com"))
                #expect(suppressions.json["data"]?.arrayValue?.first?["reason"] == .string("inactive_recipient"))
            }
            #expect(fake.requests.count == 1)
        }
    }
}
