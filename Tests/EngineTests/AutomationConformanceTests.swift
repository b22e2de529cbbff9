import CortexTestSupport
import Foundation
import Testing

@testable import Engine

/// Automations and their versions on every store, with the same assertions.
@Suite struct AutomationConformanceTests {
    static let t0 = Timestamp(seconds: 1_800_000_000)

    static func definition(_ fixture: String = "welcome-p2p", name: String = "Welcome") throws -> AutomationDefinition {
        var body = try #require(try JSONParser.parse(try AutomationGraphTests.fixture(fixture)).objectValue)
        body = ["name": .string(name), "graph": .object(body), "reentry": .object(["after_seconds": .int(86_400)]),
                "exit_when": .object(["event": .string("refund.created")]), "timezone": .string("Europe/Berlin")]
        return try AutomationDefinition.parse(body)
    }

    /// An execution on `version`, as the watcher will spawn it: what makes the next edit a new version.
    static func startExecution(_ store: any Store, automation: Int64, version: Int, backend: StoreBackend) async throws {
        let raw = try #require(store as? any GroupCommittingStore)
        let time = backend == .sqlite ? "0" : "now()"
        try await raw.execute(
            rawSQL: """
                INSERT INTO automation_executions (automation_id, version, contact_id, contact_email, trigger_activity_id,
                    status, created_at, updated_at)
                VALUES (\(automation), \(version), 1, 'ada@example.com', 1, 'running', \(time), \(time))
                """)
    }

    @Test(arguments: StoreBackend.enabled)
    func anAutomationIsSavedAsADraftAndReadBackAsSent(backend: StoreBackend) async throws {
        try await backend.withStore { store in
            let definition = try Self.definition()
            let id = try await store.createAutomation(definition, at: Self.t0)
            let saved = try #require(try await store.automation(id: id))
            #expect(saved.status == .draft && saved.version == 1 && saved.name == "Welcome")
            #expect(saved.definition == definition)
            // Byte for byte: member order and number spelling survive the store.
            #expect(saved.definition.graph.serialized() == String(decoding: try AutomationGraphTests.fixture("welcome-p2p"), as: UTF8.self))
            #expect(saved.definition.reentry == .after(seconds: 86_400))
            #expect(saved.createdAt == Self.t0 && saved.updatedAt == Self.t0)
            let second = try await store.createAutomation(try Self.definition("abandoned-cart", name: "Cart"), at: Self.t0)
            #expect(try await store.automations().map(\.id) == [id, second])
            #expect(try await store.automation(id: second + 100) == nil)
        }
    }

    @Test(arguments: StoreBackend.enabled)
    func anEditMakesANewVersionOnlyOnceAnExecutionStartedOnTheCurrentOne(backend: StoreBackend) async throws {
        try await backend.withStore { store in
            let id = try await store.createAutomation(try Self.definition(), at: Self.t0)
            // Nobody ran version 1: the edit changes it in place.
            let cart = try Self.definition("abandoned-cart", name: "Renamed")
            let edited = try #require(try await store.updateAutomation(id: id, cart, at: Self.t0.adding(seconds: 1)))
            #expect(edited.version == 1 && edited.name == "Renamed" && edited.definition.graph == cart.graph)
            #expect(edited.updatedAt == Self.t0.adding(seconds: 1))

            // An execution started on version 1: the next edit is version 2, and 1 stays.
            try await Self.startExecution(store, automation: id, version: 1, backend: backend)
            let digest = try Self.definition("weekly-digest-loop", name: "Digest")
            let next = try #require(try await store.updateAutomation(id: id, digest, at: Self.t0.adding(seconds: 2)))
            #expect(next.version == 2 && next.definition.graph == digest.graph)
            #expect(try await store.automationGraph(id: id, version: 1) == cart.graph)
            #expect(try await store.automationGraph(id: id, version: 2) == digest.graph)
            // Version 2 has not run: editing it again stays on 2.
            #expect(try await store.updateAutomation(id: id, cart, at: Self.t0.adding(seconds: 3))?.version == 2)
            #expect(try await store.updateAutomation(id: id + 100, cart, at: Self.t0) == nil)
        }
    }

    @Test(arguments: StoreBackend.enabled)
    func statusMovesOnlyFromTheStatusExpectedAndAnArchivedAutomationNeverChanges(backend: StoreBackend) async throws {
        try await backend.withStore { store in
            let id = try await store.createAutomation(try Self.definition(), at: Self.t0)
            let active = try await store.setAutomationStatus(id: id, from: .draft, to: .active, at: Self.t0.adding(seconds: 5))
            #expect(active?.status == .active && active?.updatedAt == Self.t0.adding(seconds: 5))
            // Another request moved it first: the stale move is a conflict and changes nothing.
            let stale = try await #require(throws: StoreError.self) {
                try await store.setAutomationStatus(id: id, from: .draft, to: .paused, at: Self.t0)
            }
            #expect(stale.kind == .conflict)
            #expect(try await store.automation(id: id)?.status == .active)
            _ = try await store.setAutomationStatus(id: id, from: .active, to: .archived, at: Self.t0)
            let archived = try await #require(throws: StoreError.self) {
                try await store.updateAutomation(id: id, try Self.definition(), at: Self.t0)
            }
            #expect(archived.kind == .conflict)
            #expect(try await store.setAutomationStatus(id: id + 100, from: .draft, to: .active, at: Self.t0) == nil)
        }
    }

    @Test func statusRules() {
        #expect(AutomationStatus.draft.after(.activate) == .active)
        #expect(AutomationStatus.draft.after(.pause) == nil)
        #expect(AutomationStatus.active.after(.pause) == .paused)
        #expect(AutomationStatus.paused.after(.activate) == .active)
        #expect(AutomationStatus.paused.after(.archive) == .archived)
        #expect(AutomationDefinition.maximumNameBytes == 255)
        for action in AutomationAction.allCases { #expect(AutomationStatus.archived.after(action) == nil) }
    }
}
