import CortexTestSupport
import Foundation
import Testing

@testable import Engine

/// `simulate` on every store: the walker's steps on a virtual clock, conditions and waits
/// answered by the store's own filter SQL against the contact's data plus what the run did,
/// and nothing written (not even a sequence value the watcher would wait for).
@Suite struct AutomationSimulationConformanceTests {
    static let t0 = AutomationRunConformanceTests.t0
    static let ada = AutomationRunConformanceTests.ada

    static func graph(_ fixture: String) throws -> AutomationGraph {
        try AutomationGraphParser.parse(try JSONParser.parse(try AutomationGraphTests.fixture(fixture)))
    }

    static func event(_ type: String, _ data: String) throws -> CanonicalEvent {
        try CanonicalEvent.parse(Array(#"{"type": "\#(type)", "data": \#(data)}"#.utf8))
    }

    static func simulate(
        _ store: any Store, _ input: SimulationInput, at time: Timestamp = t0
    ) async throws -> SimulationResult {
        try await AutomationSimulation(store: store, defaultFrom: "Shop <shop@example.com>").run(input, at: time)
    }

    static func messages(_ result: SimulationResult) -> [String] { result.logs.map(\.message) }

    /// What simulating must leave as it was.
    static func footprint(_ store: any Store) async throws -> [String] {
        let contact = try await store.contact(email: ada)
        return [
            "\(try await store.latestActivityID())", "\(contact?.tags ?? [])", "\(contact?.firstName ?? "-")",
            "\(try await store.executions(ExecutionQuery()).count)", "\(try await store.emailJobs(EmailJobQuery(email: ada)).count)",
        ]
    }

    @Test(arguments: StoreBackend.enabled)
    func theWelcomeFlowRunsTwoDaysInOneAnswerAndWritesNothing(backend: StoreBackend) async throws {
        try await backend.withStore { store in
            // Ada bought Canva before: the condition two days later is true.
            try await AutomationRunConformanceTests.purchase(store, "Canva", id: "canva", at: Self.t0.adding(seconds: -86_400))
            let before = try await Self.footprint(store)
            let input = SimulationInput(
                graph: try Self.graph("welcome-p2p"), event: try Self.event("checkout.completed", #"{"email": "ada@example.com", "first_name": "Ada", "product": "P2P"}"#),
                contact: ContactUpdate(email: Self.ada))
            let result = try await Self.simulate(store, input)
            #expect(result.status == .completed)
            #expect(
                Self.messages(result) == [
                    "Spawned a simulated execution for ada@example.com", "Queued email 'Welcome to P2P, Ada!' to ada@example.com",
                    "Pausing until 2027-01-17T08:00:00.000000Z", "Delay over", "Condition 'Bought Canva?' is true", "Added tag 'Bundle buyer'",
                ])
            #expect(result.logs.map(\.at) == [Self.t0, Self.t0, Self.t0] + Array(repeating: Self.t0.adding(seconds: 2 * 86_400), count: 3))
            #expect(result.endedAt == Self.t0.adding(seconds: 2 * 86_400))
            #expect(result.emails.map(\.subject) == ["Welcome to P2P, Ada!"])
            #expect(try await Self.footprint(store) == before)
        }
    }

    @Test(arguments: StoreBackend.enabled)
    func eventsThatArriveLaterAndTagsTheRunAddedAreSeenByLaterSteps(backend: StoreBackend) async throws {
        try await backend.withStore { store in
            let graph = try Self.graph("welcome-p2p")
            let purchase = try Self.event("checkout.completed", #"{"email": "ada@example.com", "product": "P2P"}"#)
            // A new contact: without Canva the condition is false ...
            var input = SimulationInput(graph: graph, event: purchase, contact: ContactUpdate(email: Self.ada, firstName: "Ada"))
            #expect(Self.messages(try await Self.simulate(store, input)).suffix(2) == ["Condition 'Bought Canva?' is false", "Added tag 'P2P only'"])
            // ... and true when a Canva purchase arrives during the delay.
            input.then = [LaterEvent(afterSeconds: 86_400, event: try Self.event("checkout.completed", #"{"email": "ada@example.com", "product": "Canva"}"#))]
            let result = try await Self.simulate(store, input)
            #expect(Self.messages(result).suffix(2) == ["Condition 'Bought Canva?' is true", "Added tag 'Bundle buyer'"])
            #expect(result.unusedEvents == 0)
            #expect(try await store.contact(email: Self.ada) == nil)

            // A tag the run added is there for the condition after it.
            let tagged = try JSONParser.parse(
                Array(
                    #"""
                    {"nodes": [{"id": "t", "type": "trigger", "data": {"event": "signup"}},
                               {"id": "tag", "type": "add_tag", "data": {"tag": "Member"}},
                               {"id": "c", "type": "condition", "data": {"label": "member", "filter": {"tag": "member"}}},
                               {"id": "yes", "type": "exit", "data": {}}, {"id": "no", "type": "exit", "data": {}}],
                     "edges": [{"id": "1", "source": "t", "target": "tag"}, {"id": "2", "source": "tag", "target": "c"},
                               {"id": "3", "source": "c", "target": "yes", "sourceHandle": "true"},
                               {"id": "4", "source": "c", "target": "no", "sourceHandle": "false"}]}
                    """#.utf8))
            let signup = SimulationInput(
                graph: try AutomationGraphParser.parse(tagged), event: try Self.event("signup", #"{"email": "ada@example.com"}"#),
                contact: ContactUpdate(email: Self.ada))
            let run = try await Self.simulate(store, signup)
            #expect(Self.messages(run).suffix(3) == ["Added tag 'Member'", "Condition 'member' is true", "Exited"])
            #expect(run.logs.last?.nodeID == "yes")
        }
    }

    @Test(arguments: StoreBackend.enabled)
    func anEventTheTriggerDoesNotTakeStartsNothing(backend: StoreBackend) async throws {
        try await backend.withStore { store in
            let graph = try Self.graph("welcome-p2p")
            for (event, reason) in [
                (try Self.event("checkout.completed", #"{"email": "ada@example.com", "product": "Figma"}"#), "The event does not match the trigger's 'where'"),
                (try Self.event("checkout.started", #"{"email": "ada@example.com", "product": "P2P"}"#), "The event is 'checkout.started'; the trigger starts on 'checkout.completed'"),
            ] {
                let result = try await Self.simulate(store, SimulationInput(graph: graph, event: event, contact: ContactUpdate(email: Self.ada)))
                #expect(result.status == .notTriggered)
                #expect(Self.messages(result) == [reason])
            }
            // Re-entry `once`: a contact who entered before does not enter again.
            let clock = ManualWallClock(Self.t0)
            let (watcher, walker) = AutomationRunConformanceTests.workers(store, clock)
            let id = try await AutomationRunConformanceTests.activated(try AutomationRunConformanceTests.welcome(), in: store, watcher: watcher)
            try await AutomationRunConformanceTests.purchase(store, "P2P", id: "evt", at: Self.t0)
            _ = try await watcher.runOnce()
            _ = try await walker.runOnce()
            let execution = try #require(try await store.executions(ExecutionQuery(automationID: id)).first)
            let again = SimulationInput(
                graph: try Self.graph("welcome-p2p"), automationID: id, reentry: .once,
                event: try Self.event("checkout.completed", #"{"email": "ada@example.com", "product": "P2P"}"#), contact: ContactUpdate(email: Self.ada))
            let refused = try await Self.simulate(store, again, at: Self.t0.adding(seconds: 60))
            #expect(refused.status == .notTriggered)
            #expect(Self.messages(refused).first?.contains("(execution \(execution.id)); re-entry does not allow another") == true)
        }
    }

    @Test(arguments: StoreBackend.enabled)
    func theAbandonedCartWaitsTimesOutOrEndsAndNeverCallsItsWebhook(backend: StoreBackend) async throws {
        try await backend.withStore { store in
            let started = try Self.event("checkout.started", #"{"email": "ada@example.com"}"#)
            let completed = try Self.event("checkout.completed", #"{"email": "ada@example.com"}"#)
            var input = SimulationInput(graph: try Self.graph("abandoned-cart"), event: started, contact: ContactUpdate(email: Self.ada))
            // The audience wants consent granted: Ada has none yet ...
            #expect(Self.messages(try await Self.simulate(store, input)) == ["ada@example.com is not in the trigger's audience"])
            // ... the request's contact fields stand in for hers.
            input.contact.consent = .granted
            let timedOut = try await Self.simulate(store, input)
            #expect(timedOut.status == .completed)
            #expect(
                Self.messages(timedOut).dropFirst() == [
                    "Waiting for 'checkout.completed' until 2027-01-15T09:00:00.000000Z", "Timed out waiting for 'checkout.completed'",
                    "Queued email 'You left something behind' to ada@example.com",
                    "Would call webhook https://hooks.example.com/cortex/cart (simulation: not called)",
                ])
            #expect(timedOut.endedAt == Self.t0.adding(seconds: 3600))

            input.then = [LaterEvent(afterSeconds: 600, event: completed), LaterEvent(afterSeconds: 7200, event: completed)]
            let bought = try await Self.simulate(store, input)
            #expect(Self.messages(bought).suffix(2) == ["Event 'checkout.completed' arrived", "Exited"])
            #expect(bought.logs.last?.at == Self.t0.adding(seconds: 600))
            #expect(bought.unusedEvents == 1 && bought.emails.isEmpty)

            // The lookback: a purchase received 100 s before the wait began counts.
            try await store.saveContact(ContactUpdate(email: Self.ada, consent: .granted), at: Self.t0)
            _ = try await store.ingest(
                InboundDelivery(source: "checkout", externalID: "early", receivedAt: Self.t0.adding(seconds: -100), headers: [], body: []),
                activities: [NewActivity(type: "checkout.completed", contactEmail: Self.ada, occurredAt: Self.t0.adding(seconds: -100), metadata: "{}")],
                suppressions: [])
            input.then = []
            input.contact.consent = nil
            #expect(Self.messages(try await Self.simulate(store, input)).suffix(2) == ["Event 'checkout.completed' had already arrived", "Exited"])
        }
    }

    @Test(arguments: StoreBackend.enabled)
    func exitWhenEndsTheRunAndALoopStopsAtTheHorizon(backend: StoreBackend) async throws {
        try await backend.withStore { store in
            let exitWhen = try #require(
                try AutomationStepParser.eventMatch(
                    try #require(try JSONParser.parse(Array(#"{"event": "refund.created"}"#.utf8)).objectValue), nodeID: "exit_when"))
            var input = SimulationInput(
                graph: try Self.graph("welcome-p2p"), exitWhen: exitWhen,
                event: try Self.event("checkout.completed", #"{"email": "ada@example.com", "product": "P2P"}"#), contact: ContactUpdate(email: Self.ada),
                then: [LaterEvent(afterSeconds: 3600, event: try Self.event("refund.created", #"{"email": "ada@example.com"}"#))])
            let exited = try await Self.simulate(store, input)
            #expect(exited.status == .exited)
            #expect(Self.messages(exited).last == "Exited: 'refund.created' arrived")
            #expect(exited.endedAt == Self.t0.adding(seconds: 3600))

            // The weekly digest loops every Monday until the horizon.
            input = SimulationInput(
                graph: try Self.graph("weekly-digest-loop"), event: try Self.event("tag.added", #"{"email": "ada@example.com", "tag": "Weekly digest"}"#),
                contact: ContactUpdate(email: Self.ada), tags: ["Weekly digest"])
            let loop = try await Self.simulate(store, input)
            #expect(loop.status == .waiting && loop.currentNodeID == "morning")
            #expect(loop.emails.count >= 52 && loop.emails.count <= 58)
            let wakeUp = try #require(loop.wakeUpAt)
            #expect(wakeUp.microseconds > Self.t0.adding(seconds: AutomationSimulation.horizonSeconds).microseconds)
        }
    }

    /// On PostgreSQL a rolled-back insert would still take a sequence value, and the watcher
    /// waits 30 s for every gap in activity ids: the sandbox must take none.
    @Test(arguments: StoreBackend.enabled)
    func theNextActivityAfterASimulationTakesTheNextID(backend: StoreBackend) async throws {
        try await backend.withStore { store in
            try await AutomationRunConformanceTests.purchase(store, "Canva", id: "first", at: Self.t0)
            let first = try await store.latestActivityID()
            let input = SimulationInput(
                graph: try Self.graph("welcome-p2p"), event: try Self.event("checkout.completed", #"{"email": "ada@example.com", "product": "P2P"}"#),
                contact: ContactUpdate(email: Self.ada),
                then: [LaterEvent(afterSeconds: 60, event: try Self.event("checkout.completed", #"{"email": "ada@example.com", "product": "Canva"}"#))])
            #expect(try await Self.simulate(store, input).status == .completed)
            try await AutomationRunConformanceTests.purchase(store, "Canva", id: "second", at: Self.t0)
            #expect(try await store.latestActivityID() == first + 1)
        }
    }
}
