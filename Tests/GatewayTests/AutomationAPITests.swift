import CortexTestSupport
import Engine
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

@testable import Gateway

/// `/v1/automations` through HTTP: a canvas's graph saved and given back as sent, faults named
/// by node, and the status moves with their refusals.
@Suite struct AutomationAPITests {
    static func canvas(_ name: String) throws -> String {
        let url = ContractTests.contracts.appendingPathComponent("automations/\(name).json")
        return String(decoding: try Data(contentsOf: url), as: UTF8.self)
    }

    static func body(name: String = "Welcome", graph: String, extra: String = "") -> String {
        #"{"name": "\#(name)", "graph": \#(graph)\#(extra)}"#
    }

    @Test(arguments: StoreBackend.enabled)
    func aCanvasGraphIsSavedAndGivenBackAsSent(backend: StoreBackend) async throws {
        try await TestApp.with(backend) { app in
            try await app.test { client in
                let graph = try Self.canvas("welcome-p2p")
                let created = try await client.execute(
                    uri: "/v1/automations", method: .post, headers: app.bearer,
                    body: .init(Self.body(graph: graph, extra: #", "timezone": "Europe/Berlin""#)))
                #expect(created.status == .created)
                #expect(created.json["status"] == .string("draft") && created.json["version"] == .int(1))
                #expect(created.json["reentry"] == .string("once") && created.json["exit_when"] == .null)
                guard case .number(let id)? = created.json["id"] else { Issue.record("no id: \(created.json)"); return }

                let read = try await client.execute(uri: "/v1/automations/\(id)", method: .get, headers: app.bearer)
                #expect(read.status == .ok)
                // The layout comes back byte for byte: every UI field, in its order.
                #expect(read.json["graph"]?.serialized() == graph)
                #expect(read.json["timezone"] == .string("Europe/Berlin"))
                let listed = try await client.execute(uri: "/v1/automations", method: .get, headers: app.bearer)
                #expect(listed.json["data"]?.arrayValue?.count == 1)

                // A GET body edited and sent back: the read-only fields are ignored.
                var edited = try #require(read.json.objectValue)
                edited.members.removeAll { $0.key == "name" }
                edited.members.append((key: "name", value: .string("Welcome v2")))
                let put = try await client.execute(
                    uri: "/v1/automations/\(id)", method: .put, headers: app.bearer, body: .init(JSON.object(edited).serialized()))
                #expect(put.status == .ok)
                #expect(put.json["name"] == .string("Welcome v2") && put.json["version"] == .int(1))
            }
        }
    }

    @Test func anInvalidGraphIs422NamingTheNodeAndNothingIsSaved() async throws {
        let app = try await TestApp.make()
        try await app.test { client in
            let broken = try Self.canvas("welcome-p2p").replacingOccurrences(of: #""sourceHandle":"false""#, with: #""sourceHandle":"maybe""#)
            let response = try await client.execute(
                uri: "/v1/automations", method: .post, headers: app.bearer, body: .init(Self.body(graph: broken)))
            #expect(response.status == .unprocessableContent)
            #expect(response.errorCode == "invalid_graph")
            #expect(response.json["error"]?["node_id"] == .string("cond-1"))
            #expect(response.json["error"]?["message"]?.stringValue?.contains("unknown handle \"maybe\"") == true)

            let noTrigger = try await client.execute(
                uri: "/v1/automations", method: .post, headers: app.bearer, body: .init(Self.body(graph: #"{"nodes": [], "edges": []}"#)))
            #expect(noTrigger.errorCode == "invalid_graph" && noTrigger.json["error"]?["node_id"] == .null)

            for (body, field) in [
                (Self.body(graph: try Self.canvas("abandoned-cart"), extra: #", "timezone": "Mars/Olympus""#), "timezone"),
                (Self.body(graph: try Self.canvas("abandoned-cart"), extra: #", "reentry": "sometimes""#), "reentry"),
                (Self.body(graph: try Self.canvas("abandoned-cart"), extra: #", "triggers": []"#), "triggers"),
                (Self.body(graph: try Self.canvas("abandoned-cart"), extra: #", "exit_when": {"where": {}}"#), "exit_when"),
                (Self.body(name: "", graph: try Self.canvas("abandoned-cart")), "name"),
            ] {
                let refused = try await client.execute(uri: "/v1/automations", method: .post, headers: app.bearer, body: .init(body))
                #expect(refused.status == .badRequest, "\(field)")
                #expect(refused.errorCode == "invalid_field", "\(field)")
                #expect(refused.json["error"]?["message"]?.stringValue?.contains("\"\(field)\"") == true, "\(field)")
            }
            let listed = try await client.execute(uri: "/v1/automations", method: .get, headers: app.bearer)
            #expect(listed.json["data"]?.arrayValue?.isEmpty == true)
        }
    }

    @Test func statusMovesAndTheirRefusals() async throws {
        let app = try await TestApp.make()
        try await app.test { client in
            // A graph with nodes this release does not run is saved, but cannot be activated.
            let cart = try await client.execute(
                uri: "/v1/automations", method: .post, headers: app.bearer, body: .init(Self.body(graph: try Self.canvas("abandoned-cart"))))
            guard case .number(let cartID)? = cart.json["id"] else { Issue.record("no id: \(cart.json)"); return }
            let notRunnable = try await client.execute(uri: "/v1/automations/\(cartID)/activate", method: .post, headers: app.bearer)
            #expect(notRunnable.status == .conflict && notRunnable.errorCode == "not_runnable")

            let created = try await client.execute(
                uri: "/v1/automations", method: .post, headers: app.bearer, body: .init(Self.body(graph: try Self.canvas("welcome-p2p"))))
            guard case .number(let id)? = created.json["id"] else { Issue.record("no id: \(created.json)"); return }
            func move(_ action: String) async throws -> TestResponse {
                try await client.execute(uri: "/v1/automations/\(id)/\(action)", method: .post, headers: app.bearer)
            }
            let pauseDraft = try await move("pause")
            #expect(pauseDraft.status == .conflict && pauseDraft.errorCode == "invalid_transition")
            #expect(try await move("activate").json["status"] == .string("active"))
            #expect(try await move("activate").json["status"] == .string("active"))
            #expect(try await move("pause").json["status"] == .string("paused"))
            #expect(try await move("activate").json["status"] == .string("active"))
            #expect(try await move("archive").json["status"] == .string("archived"))
            #expect(try await move("activate").errorCode == "invalid_transition")
            let put = try await client.execute(
                uri: "/v1/automations/\(id)", method: .put, headers: app.bearer, body: .init(Self.body(graph: try Self.canvas("abandoned-cart"))))
            #expect(put.status == .conflict && put.errorCode == "automation_archived")
            let missing = try await client.execute(uri: "/v1/automations/999/activate", method: .post, headers: app.bearer)
            #expect(missing.status == .notFound)
        }
    }
}
