import CortexTestSupport
import Engine
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

@testable import Gateway

/// `cursor` and `next_cursor` on `GET /v1/activities`, `/v1/messages` and `/v1/inbound`, as on
/// `/v1/executions`: following `next_cursor` gives every row once, in the listing's order, and
/// the last page says `null`; a cursor that is not one is a 400 that names it.
@Suite struct ListPagingAPITests {
    static let listings = ["/v1/activities", "/v1/messages", "/v1/inbound"]

    /// Five activities (occurrence out of id order), five archived deliveries, five messages.
    static func seed(_ store: any Store) async throws {
        for (index, minute) in [30, 10, 20, 20, 40].enumerated() {
            _ = try await store.ingest(
                delivery(id: "evt_\(index)"),
                activities: [activity(email: "ada@example.com", at: "2026-11-26T11:\(minute):00Z")])
            _ = try await store.enqueueEmail(
                NewEmailJob(
                    idempotencyKey: "m\(index)", recipient: .of("ada@example.com"), sender: "shop@example.com", subject: "Hi",
                    html: nil, text: "Hi"),
                at: TestApp.start)
        }
    }

    /// The ids of every page of `uri` with `limit`, following `next_cursor`, and the last answer.
    static func follow(_ client: any TestClientProtocol, _ uri: String, limit: Int, headers: HTTPFields) async throws -> [[JSON]] {
        var pages: [[JSON]] = []
        var cursor: String?
        repeat {
            let separator = uri.contains("?") ? "&" : "?"
            let response = try await client.execute(
                uri: "\(uri)\(separator)limit=\(limit)\(cursor.map { "&cursor=\($0)" } ?? "")", method: .get, headers: headers)
            #expect(response.status == .ok, "\(uri)")
            let page = try #require(response.json["data"]?.arrayValue).map { $0["id"] ?? .null }
            pages.append(page)
            switch response.json["next_cursor"] {
            case .string(let next)?:
                #expect(page.last == .number(next), "next_cursor is the page's last id")
                cursor = next
            case .null?: cursor = nil
            default: Issue.record("\(uri): no next_cursor member"); cursor = nil
            }
        } while cursor != nil && pages.count < 20
        return pages
    }

    @Test(arguments: StoreBackend.enabled)
    func followingNextCursorGivesEveryRowOnceInOrder(backend: StoreBackend) async throws {
        try await TestApp.with(backend) { app in
            try await Self.seed(app.store)
            try await app.test { client in
                for uri in Self.listings + ["/v1/activities?email=ada@example.com", "/v1/inbound?verdict=accepted", "/v1/messages?status=queued"] {
                    let whole = try await client.execute(uri: uri, method: .get, headers: app.bearer)
                    let all = try #require(whole.json["data"]?.arrayValue).map { $0["id"] ?? .null }
                    #expect(all.count == 5 && whole.json["next_cursor"] == .null, "\(uri)")
                    for (limit, sizes) in [(2, [2, 2, 1]), (5, [5]), (1, [1, 1, 1, 1, 1])] {
                        let pages = try await Self.follow(client, uri, limit: limit, headers: app.bearer)
                        #expect(pages.map(\.count) == sizes, "\(uri) limit \(limit): a full last page ends the paging")
                        #expect(pages.flatMap { $0 } == all, "\(uri) limit \(limit)")
                    }
                }
                // The feed's order is by occurrence: 11:40, 11:30, then the two at 11:20 newest id first.
                let feed = try await client.execute(uri: "/v1/activities", method: .get, headers: app.bearer)
                let times = try #require(feed.json["data"]?.arrayValue).compactMap { $0["occurred_at"]?.stringValue?.prefix(16) }
                #expect(times == ["2026-11-26T11:40", "2026-11-26T11:30", "2026-11-26T11:20", "2026-11-26T11:20", "2026-11-26T11:10"])
            }
        }
    }

    @Test(arguments: ["abc", "0", "-3", "", "1.5", "99999999999999999999", "%20"])
    func aCursorThatIsNotOneIs400AndNamesIt(cursor: String) async throws {
        let app = try await TestApp.make()
        try await Self.seed(app.store)
        try await app.test { client in
            for uri in Self.listings {
                let response = try await client.execute(uri: "\(uri)?cursor=\(cursor)", method: .get, headers: app.bearer)
                #expect(response.status == .badRequest, "\(uri)")
                #expect(response.errorCode == "invalid_parameter", "\(uri)")
                #expect(response.json["error"]?["message"]?.stringValue?.contains("cursor") == true, "\(uri)")
            }
        }
    }

    @Test(arguments: StoreBackend.enabled)
    func aCursorToAnErasedActivityIs400NotAnEmptyPage(backend: StoreBackend) async throws {
        try await TestApp.with(backend) { app in
            try await Self.seed(app.store)
            _ = try await app.store.ingest(delivery(id: "evt_bo"), activities: [activity(email: "bo@example.com", at: "2026-11-26T11:50:00Z")])
            try await app.test { client in
                let first = try await client.execute(uri: "/v1/activities?limit=1", method: .get, headers: app.bearer)
                let cursor = try #require(first.json["next_cursor"]?.stringValue)
                #expect(first.json["data"]?.arrayValue?.first?["contact_email"] == .string("bo@example.com"))
                #expect(try await app.store.eraseContact(.of("bo@example.com")))
                let gone = try await client.execute(uri: "/v1/activities?limit=1&cursor=\(cursor)", method: .get, headers: app.bearer)
                #expect(gone.status == .badRequest && gone.errorCode == "invalid_parameter")
                // Messages and deliveries page by id alone: a cursor need not name a row that still exists.
                let messages = try await client.execute(uri: "/v1/messages?cursor=1000", method: .get, headers: app.bearer)
                #expect(messages.status == .ok && messages.json["data"]?.arrayValue?.count == 5)
            }
        }
    }
}
