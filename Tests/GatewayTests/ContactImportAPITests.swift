import CortexTestSupport
import Engine
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing

@testable import Gateway

/// `POST /v1/contacts/import` (ENGINE.md §1) over HTTP on every store: CSV and NDJSON, per-line
/// failures with their lines, a header fault refused whole, the API key, the route's own body
/// limit, batches across a long body, and the cap on listed failures.
@Suite struct ContactImportAPITests {
    static func post(
        _ app: TestApp, _ client: any TestClientProtocol, _ body: String, contentType: String? = "text/csv",
        authorized: Bool = true
    ) async throws -> TestResponse {
        var headers: HTTPFields = authorized ? app.bearer : [:]
        if let contentType { headers[.contentType] = contentType }
        return try await client.execute(uri: "/v1/contacts/import", method: .post, headers: headers, body: ByteBuffer(string: body))
    }

    static func email(_ text: String) -> EmailAddress { EmailAddress(text)! }

    @Test(arguments: StoreBackend.enabled)
    func csvThenNDJSONImportWithPerLineFailures(backend: StoreBackend) async throws {
        try await TestApp.with(backend) { app in
            try await app.test { client in
                let csv = """
                    email,first_name,tags,consent,attributes.plan
                    ada@example.com,Ada,P2P;VIP,granted,pro
                    not-an-email,X,,,
                    bo@example.com,Bo,,,free
                    cy@example.com,Cy,,maybe,
                    """
                let first = try await Self.post(app, client, csv)
                #expect(first.status == .ok)
                #expect(first.json["created"] == .int(2))
                #expect(first.json["updated"] == .int(0))
                #expect(first.json["failed"] == .int(2))
                #expect(first.json["failures_truncated"] == .int(0))
                let failures = first.json["failures"]?.arrayValue ?? []
                #expect(failures.map { $0["line"] } == [.int(3), .int(5)])
                #expect(failures.map { $0["column"] } == [.string("email"), .string("consent")])

                let ndjson = """
                    {"email": "ada@example.com", "attributes": {"plan": null, "seats": 3}, "tags": ["vip", "Canva"]}
                    {"email": "dee@example.com", "external_id": 42}
                    {"email":
                    """
                let second = try await Self.post(app, client, ndjson, contentType: "application/x-ndjson")
                #expect(second.status == .ok)
                #expect(second.json["created"] == .int(1))
                #expect(second.json["updated"] == .int(1))
                #expect(second.json["failures"]?.arrayValue?.map { $0["line"] } == [.int(3)])

                let ada = try #require(try await app.store.contact(email: Self.email("ada@example.com")))
                #expect(ada.firstName == "Ada")
                #expect(ada.tags == ["Canva", "P2P", "VIP"])
                #expect(canonical(try JSONParser.parse(Array(ada.attributes.utf8))) == .object(["seats": .number("3")]))
                #expect(ada.consent.status == .granted)
                #expect(ada.consent.source == "import")
                #expect(try await app.store.contact(email: Self.email("dee@example.com"))?.externalID == "42")
                #expect(try await app.store.contact(email: Self.email("cy@example.com")) == nil)
                let feed = try await client.execute(uri: "/v1/activities?email=ada@example.com", method: .get, headers: app.bearer)
                let types = feed.json["data"]?.arrayValue?.compactMap { $0["type"]?.stringValue } ?? []
                #expect(types.sorted() == ["consent.granted", "tag.added", "tag.added", "tag.added"])
            }
        }
    }

    @Test(arguments: StoreBackend.enabled)
    func aHeaderFaultIs400NamingLineAndColumnAndWritesNothing(backend: StoreBackend) async throws {
        try await TestApp.with(backend) { app in
            try await app.test { client in
                let response = try await Self.post(app, client, "mail,first_name\nada@example.com,Ada\n")
                #expect(response.status == .badRequest)
                #expect(response.errorCode == "invalid_import")
                #expect(response.json["error"]?["line"] == .int(1))
                #expect(response.json["error"]?["column"] == .string("mail"))
                let empty = try await Self.post(app, client, "", contentType: nil)
                #expect(empty.errorCode == "invalid_import")
            }
            #expect(try await app.store.countContacts(matching: .everyone, at: TestApp.start) == 0)
        }
    }

    /// The import's path is a constant beside `/v1/contacts/{email}`: another method there is a
    /// 405 that offers POST alone, not the methods of the contact route it shadows.
    @Test func otherMethodsOnTheImportPathAre405OfferingPost() async throws {
        let app = try await TestApp.make()
        try await app.test { client in
            let response = try await client.execute(uri: "/v1/contacts/import", method: .get, headers: app.bearer)
            #expect(response.status == .methodNotAllowed)
            #expect(response.headers[.allow] == "POST")
            let contact = try await client.execute(uri: "/v1/contacts/ada@example.com", method: .post, headers: app.bearer)
            #expect(contact.headers[.allow] == "GET, HEAD, PUT, DELETE")
        }
    }

    @Test func withoutAKeyTheImportIs401AndWritesNothing() async throws {
        let app = try await TestApp.make()
        try await app.test { client in
            let response = try await Self.post(app, client, "email\nada@example.com\n", authorized: false)
            #expect(response.status == .unauthorized)
        }
        #expect(try await app.store.contact(email: Self.email("ada@example.com")) == nil)
    }

    /// Past the 1 MiB of other routes, under the import's own limit.
    @Test func theImportHasItsOwnBodyLimit() async throws {
        let app = try await TestApp.make()
        try await app.test { client in
            let pad = String(repeating: "p", count: 9_000)
            let rows = (0..<130).map { "user\($0)@example.com,\(pad)" }
            let body = "email,attributes.pad\n" + rows.joined(separator: "\n")
            #expect(body.utf8.count > BodyLimit.maximumBytes)
            let accepted = try await Self.post(app, client, body)
            #expect(accepted.status == .ok)
            #expect(accepted.json["created"] == .int(130))
        }
    }

    /// On a live server (the test client sets its own length): a declared length over the
    /// import's limit is 413 before a byte of body is sent, one at the limit is read; and a
    /// chunked body streams through in several batches.
    @Test func aLiveServerRefusesADeclaredOversizeImportAndStreamsAChunkedOne() async throws {
        try await LiveCortex.run([:]) { port in
            let connection = try await RawHTTPConnection.connect(port: port)
            defer { Task { await connection.close() } }
            try await connection.send(
                "POST /v1/contacts/import HTTP/1.1\r\nHost: test\r\nAuthorization: Bearer \(LiveCortex.apiKey)\r\n"
                    + "Content-Type: text/csv\r\nContent-Length: \(BodyLimit.importMaximumBytes + 1)\r\n\r\n")
            let refused = try await connection.response()
            #expect(refused.status == 413)
            #expect(LiveCortex.errorCode(refused) == "payload_too_large")

            let streaming = try await RawHTTPConnection.connect(port: port)
            defer { Task { await streaming.close() } }
            try await streaming.send(
                "POST /v1/contacts/import HTTP/1.1\r\nHost: test\r\nAuthorization: Bearer \(LiveCortex.apiKey)\r\n"
                    + "Transfer-Encoding: chunked\r\n\r\n")
            var lines = ["email,first_name"] + (0..<1_234).map { "live\($0)@example.com,Live \($0)" }
            lines[700] = "broken,"
            let text = lines.joined(separator: "\n")
            // Chunks that cut records in half, as a network does.
            var start = text.utf8.startIndex
            while start < text.utf8.endIndex {
                let end = text.utf8.index(start, offsetBy: 4_099, limitedBy: text.utf8.endIndex) ?? text.utf8.endIndex
                let chunk = String(text.utf8[start..<end])!
                try await streaming.send(String(chunk.utf8.count, radix: 16) + "\r\n" + chunk + "\r\n")
                start = end
            }
            try await streaming.send("0\r\n\r\n")
            let answer = try await streaming.response()
            #expect(answer.status == 200)
            let json = try JSONParser.parse(answer.body)
            #expect(json["created"] == .int(1_233))
            #expect(json["failures"]?.arrayValue?.map { $0["line"] } == [.int(701)])
        }
    }

    /// The documented outcome of a dropped connection: the batches committed before it stay, the
    /// rows read since are not written.
    @Test func aDroppedConnectionKeepsTheCommittedBatchesOnly() async throws {
        try await LiveCortex.run([:]) { port in
            let connection = try await RawHTTPConnection.connect(port: port)
            try await connection.send(
                "POST /v1/contacts/import HTTP/1.1\r\nHost: test\r\nAuthorization: Bearer \(LiveCortex.apiKey)\r\n"
                    + "Transfer-Encoding: chunked\r\n\r\n")
            func chunk(_ lines: [String]) -> String {
                let text = lines.joined(separator: "\n") + "\n"
                return String(text.utf8.count, radix: 16) + "\r\n" + text + "\r\n"
            }
            // More than a batch, so it commits at once; then fewer than a batch, which waits.
            try await connection.send(chunk(["email"] + (0..<650).map { "kept\($0)@example.com" }))
            try await connection.send(chunk((0..<100).map { "lost\($0)@example.com" }))

            @Sendable func get(_ path: String, _ body: String? = nil) async throws -> [UInt8] {
                let reader = try await RawHTTPConnection.connect(port: port)
                defer { Task { await reader.close() } }
                let head = "\(body == nil ? "GET" : "POST") \(path) HTTP/1.1\r\nHost: test\r\nAuthorization: Bearer \(LiveCortex.apiKey)\r\n"
                try await reader.send(head + "Content-Length: \(body?.utf8.count ?? 0)\r\n\r\n" + (body ?? ""))
                return try await reader.response().body
            }
            @Sendable func count() async throws -> JSON? {
                try JSONParser.parse(try await get("/v1/lists/preview", #"{"filter": {"everyone": true}}"#))["count"]
            }
            // The first batch commits while the connection is open...
            try await withDeadline(.seconds(20)) {
                while try await count() != .int(650) { await Task.yield() }
            }
            await connection.close()
            // ...and once the server has ended the request (a 400 client_disconnected in the
            // metrics), the rows read after it are not there.
            let ended = #"cortex_http_requests_total{method="POST",path="/v1/contacts/import",status="400"} 1"#
            try await withDeadline(.seconds(20)) {
                while !String(decoding: try await get("/metrics"), as: UTF8.self).contains(ended) { await Task.yield() }
            }
            #expect(try await count() == .int(650))
        }
    }

    /// More rows than a batch, and more failures than are listed: every row is counted, the
    /// failures list stops at its cap and says how many it left out.
    @Test func manyBatchesAndTheFailureCap() async throws {
        let app = try await TestApp.make()
        try await app.test { client in
            let good = (0..<(ContactImport.batchSize * 2 + 7)).map { "{\"email\": \"u\($0)@example.com\"}" }
            let bad = (0..<(ContactImport.maximumFailures + 5)).map { _ in "{\"email\": \"nope\"}" }
            let response = try await Self.post(app, client, (good + bad).joined(separator: "\n"), contentType: nil)
            #expect(response.json["created"] == .int(good.count))
            #expect(response.json["failed"] == .int(bad.count))
            #expect(response.json["failures"]?.arrayValue?.count == ContactImport.maximumFailures)
            #expect(response.json["failures"]?.arrayValue?.first?["line"] == .int(good.count + 1))
            #expect(response.json["failures_truncated"] == .int(5))
        }
        #expect(try await app.store.countContacts(matching: .everyone, at: TestApp.start) == ContactImport.batchSize * 2 + 7)
    }
}
