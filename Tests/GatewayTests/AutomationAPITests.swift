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

/// The welcome flow through HTTP, with the watcher and walker run by hand on the app's manual
/// clock: a signed checkout starts it, `/v1/executions` shows where it is and its log.
@Suite struct ExecutionAPITests {
    @Test(arguments: StoreBackend.enabled)
    func aCheckoutRunsTheWelcomeFlowAndItsLogReadsAsSteps(backend: StoreBackend) async throws {
        try await TestApp.with(backend) { app in
            let watcher = AutomationWatcher(store: app.store, clock: app.clock, logger: StoreBackend.quietLogger)
            let walker = AutomationWalker(
                store: app.store, clock: app.clock, webhooks: ScriptedWebhookCaller(), defaultFrom: "Shop <shop@example.com>",
                logger: StoreBackend.quietLogger)
            try await app.test { client in
                let graph = try AutomationAPITests.canvas("welcome-p2p").replacingOccurrences(of: #""days":2"#, with: #""seconds":2"#)
                let created = try await client.execute(
                    uri: "/v1/automations", method: .post, headers: app.bearer, body: .init(AutomationAPITests.body(graph: graph)))
                guard case .number(let automation)? = created.json["id"] else { Issue.record("no id: \(created.json)"); return }
                #expect(try await client.execute(uri: "/v1/automations/\(automation)/activate", method: .post, headers: app.bearer).status == .ok)
                _ = try await watcher.runOnce()

                let checkout = #"{"type":"checkout.completed","data":{"email":"ada@example.com","first_name":"Ada","product":"P2P"}}"#
                let ingested = try await client.execute(
                    uri: "/webhooks/checkout", method: .post, headers: try app.signed(checkout, id: "evt_1"), body: .init(checkout))
                #expect(ingested.status == .accepted)
                _ = try await watcher.runOnce()
                _ = try await walker.runOnce()

                let listed = try await client.execute(
                    uri: "/v1/executions?email=ada@example.com&automation_id=\(automation)", method: .get, headers: app.bearer)
                let first = try #require(listed.json["data"]?.arrayValue?.first)
                #expect(first["status"] == .string("waiting") && first["current_node_id"] == .string("wait-1"))
                let waitingStats = try await client.execute(uri: "/v1/automations/\(automation)", method: .get, headers: app.bearer)
                #expect(waitingStats.json["stats"]?["wait-1"] == .object(["entered": .int(1), "completed": .int(0), "waiting": .int(1), "failed": .int(0)]))
                guard case .number(let id)? = first["id"] else { Issue.record("no id"); return }

                app.clock.advance(seconds: 2)
                _ = try await walker.runOnce()
                let read = try await client.execute(uri: "/v1/executions/\(id)", method: .get, headers: app.bearer)
                #expect(read.json["status"] == .string("completed"))
                let messages = read.json["logs"]?.arrayValue?.compactMap { $0["message"]?.stringValue } ?? []
                #expect(messages.first == "Spawned execution \(id) for ada@example.com")
                #expect(messages.contains("Queued email 'Welcome to P2P, Ada!' to ada@example.com"))
                #expect(messages.last == "Added tag 'P2P only'")

                let stats = try await client.execute(uri: "/v1/automations/\(automation)", method: .get, headers: app.bearer).json["stats"]
                #expect(stats?["trigger-1"]?["entered"] == .int(1))
                #expect(stats?["mail-1"]?["completed"] == .int(1) && stats?["wait-1"]?["waiting"] == .int(0))
                #expect(stats?["tag-no"]?["entered"] == .int(1) && stats?["tag-yes"]?["entered"] == .int(0))

                let cancel = try await client.execute(uri: "/v1/executions/\(id)/cancel", method: .post, headers: app.bearer)
                #expect(cancel.status == .conflict && cancel.errorCode == "execution_finished")
                let contact = try await client.execute(uri: "/v1/contacts/ada@example.com", method: .get, headers: app.bearer)
                #expect(contact.json["tags"]?.arrayValue == [.string("P2P only")])
                let bad = try await client.execute(uri: "/v1/executions?status=sleeping", method: .get, headers: app.bearer)
                #expect(bad.status == .badRequest)
            }
        }
    }
}
