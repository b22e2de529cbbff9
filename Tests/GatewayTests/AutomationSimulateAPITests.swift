import CortexTestSupport
import Engine
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

@testable import Gateway

/// `POST /v1/automations/{id}/simulate` through HTTP: the log a real run would write, with its
/// virtual offsets, and clear 400s for bodies it cannot run.
@Suite struct AutomationSimulateAPITests {
    @Test(arguments: StoreBackend.enabled)
    func aSimulationAnswersTheRunsLogInVirtualMilliseconds(backend: StoreBackend) async throws {
        try await TestApp.with(backend, { $0.mailFrom = "Shop <shop@example.com>" }) { app in
            try await app.test { client in
                let graph = try AutomationAPITests.canvas("welcome-p2p")
                let created = try await client.execute(
                    uri: "/v1/automations", method: .post, headers: app.bearer, body: .init(AutomationAPITests.body(graph: graph)))
                guard case .number(let id)? = created.json["id"] else { Issue.record("no id: \(created.json)"); return }
                // A draft simulates too: that is how a graph is tried before it is activated.
                let body = #"""
                    {"event": {"type": "checkout.completed", "data": {"email": "ada@example.com", "product": "P2P"}},
                     "contact": {"first_name": "Ada", "tags": ["VIP"]},
                     "then": [{"after_seconds": 3600, "event": {"type": "checkout.completed", "data": {"email": "ada@example.com", "product": "Canva"}}}]}
                    """#
                let response = try await client.execute(
                    uri: "/v1/automations/\(id)/simulate", method: .post, headers: app.bearer, body: .init(body))
                #expect(response.status == .ok)
                let json = response.json
                #expect(json["status"] == .string("completed") && json["dry_run"] == .bool(false))
                #expect(json["duration_ms"] == .int(2 * 86_400_000))
                let logs = json["logs"]?.arrayValue ?? []
                #expect(logs.map { $0["message"]?.stringValue ?? "" }.suffix(2) == ["Condition 'Bought Canva?' is true", "Added tag 'Bundle buyer'"])
                #expect(logs.map { $0["offset_ms"] } == [.int(0), .int(0), .int(0)] + Array(repeating: .int(2 * 86_400_000), count: 3))
                #expect(logs.first?["outcome"] == .string("ok") && logs[1]["node_id"] == .string("mail-1"))
                #expect(json["emails"]?.arrayValue?.first?["subject"] == .string("Welcome to P2P, Ada!"))
                // Nothing was written: no contact, no execution.
                let contact = try await client.execute(uri: "/v1/contacts/ada@example.com", method: .get, headers: app.bearer)
                #expect(contact.status == .notFound)
                let executions = try await client.execute(uri: "/v1/executions?automation_id=\(id)", method: .get, headers: app.bearer)
                #expect(executions.json["data"]?.arrayValue?.isEmpty == true)
            }
        }
    }

    @Test func bodiesItCannotRunAre400sNamingTheField() async throws {
        let app = try await TestApp.make()
        try await app.test { client in
            let created = try await client.execute(
                uri: "/v1/automations", method: .post, headers: app.bearer,
                body: .init(AutomationAPITests.body(graph: try AutomationAPITests.canvas("welcome-p2p"))))
            guard case .number(let id)? = created.json["id"] else { Issue.record("no id: \(created.json)"); return }
            let purchase = #"{"type": "checkout.completed", "data": {"email": "ada@example.com"}}"#
            for (body, field) in [
                (#"{}"#, "event"),
                (#"{"event": {"type": "checkout.completed"}}"#, "event"),
                (#"{"event": {"data": {"email": "ada@example.com"}}}"#, "event"),
                (#"{"event": \#(purchase), "contact": {"email": "bob@example.com"}}"#, "contact.email"),
                (#"{"event": \#(purchase), "contact": {"timezone": "Mars/Olympus"}}"#, "timezone"),
                (#"{"event": \#(purchase), "then": [{"after_seconds": -1, "event": \#(purchase)}]}"#, "then[0]"),
                (#"{"event": \#(purchase), "then": [{"after_seconds": 5, "event": {"type": ""}}]}"#, "then[0].event"),
                (#"{"event": \#(purchase), "later": []}"#, "later"),
            ] {
                let response = try await client.execute(uri: "/v1/automations/\(id)/simulate", method: .post, headers: app.bearer, body: .init(body))
                #expect(response.status == .badRequest, "\(body)")
                #expect(response.json["error"]?["message"]?.stringValue?.contains(field) == true, "\(body): \(response.json)")
            }
            let missing = try await client.execute(
                uri: "/v1/automations/999/simulate", method: .post, headers: app.bearer, body: .init(#"{"event": \#(purchase)}"#))
            #expect(missing.status == .notFound)
        }
    }
}
