import CortexTestSupport
import Foundation
import Testing

@testable import Engine

/// The automation engine end to end on every store, on the manual clock (no wall time): a P2P
/// purchase starts the welcome flow, which queues its mail through the ledger, waits, branches
/// on a condition and tags the contact; nothing runs twice.
@Suite struct AutomationRunConformanceTests {
    static let t0 = Timestamp(seconds: 1_800_000_000)
    static let ada = EmailAddress("ada@example.com")!

    /// The welcome fixture with its two-day delay made two seconds.
    static func welcome(reentry: String = "once") throws -> AutomationDefinition {
        let graph = String(decoding: try AutomationGraphTests.fixture("welcome-p2p"), as: UTF8.self)
            .replacingOccurrences(of: #""days":2"#, with: #""seconds":2"#)
        let body = #"{"name": "Welcome", "graph": \#(graph), "reentry": "\#(reentry)"}"#
        return try AutomationDefinition.parse(try #require(try JSONParser.parse(Array(body.utf8)).objectValue))
    }

    static func purchase(_ store: any Store, _ product: String, id: String, at time: Timestamp, dryRun: Bool = false) async throws {
        _ = try await store.ingest(
            InboundDelivery(source: "checkout", externalID: id, receivedAt: time, headers: [], body: []),
            activities: [
                NewActivity(
                    type: "checkout.completed", contactEmail: ada, occurredAt: time, metadata: #"{"product":"\#(product)"\#(dryRun ? #","dry_run":true"# : "")}"#,
                    firstName: "Ada")
            ],
            suppressions: [])
    }

    /// Saves `definition`, activates it and lets the watcher note where the feed stands.
    static func activated(_ definition: AutomationDefinition, in store: any Store, watcher: AutomationWatcher) async throws -> Int64 {
        let id = try await store.createAutomation(definition, at: t0)
        _ = try await store.setAutomationStatus(id: id, from: .draft, to: .active, at: t0)
        _ = try await watcher.runOnce()
        return id
    }

    static func workers(_ store: any Store, _ clock: ManualWallClock, webhooks: ScriptedWebhookCaller = ScriptedWebhookCaller())
        -> (AutomationWatcher, AutomationWalker)
    {
        (
            // No gathering pause: the tests move the clock only for the delays they mean.
            AutomationWatcher(store: store, clock: clock, logger: StoreBackend.quietLogger, pause: { _ in }),
            AutomationWalker(
                store: store, clock: clock, webhooks: webhooks, defaultFrom: "Shop <shop@example.com>", logger: StoreBackend.quietLogger)
        )
    }

    @Test(arguments: StoreBackend.enabled)
    func aPurchaseRunsTheWelcomeFlowOnceThroughTheLedger(backend: StoreBackend) async throws {
        try await backend.withStore { store in
            let clock = ManualWallClock(Self.t0)
            let (watcher, walker) = Self.workers(store, clock)
            let id = try await store.createAutomation(try Self.welcome(), at: Self.t0)
            _ = try await store.setAutomationStatus(id: id, from: .draft, to: .active, at: Self.t0)
            // The first pass only notes where the activity feed stands: history never triggers.
            try await Self.purchase(store, "P2P", id: "before", at: Self.t0)
            #expect(try await watcher.runOnce() == .stayed)

            try await Self.purchase(store, "Figma", id: "other-product", at: Self.t0)
            try await Self.purchase(store, "P2P", id: "evt_1", at: Self.t0)
            #expect(try await watcher.runOnce() == .moved(read: 2))
            let spawned = try await store.executions(ExecutionQuery(automationID: id))
            #expect(spawned.count == 1)
            let execution = try #require(spawned.first)
            #expect(execution.status == .running && execution.currentNodeID == "mail-1")

            // The walker queues the mail and stops at the delay.
            #expect(try await walker.runOnce() == 1)
            let mail = try #require(try await store.emailJobs(EmailJobQuery(email: Self.ada)).first)
            #expect(mail.message.subject == "Welcome to P2P, Ada!" && mail.message.sender == "Shop <shop@example.com>")
            #expect(mail.message.idempotencyKey == "automation:\(execution.id):mail-1")
            let waiting = try #require(try await store.execution(id: execution.id))
            #expect(waiting.status == .waiting && waiting.currentNodeID == "wait-1")
            #expect(waiting.wakeUpAt == Self.t0.adding(seconds: 2))
            #expect(try await store.nextExecutionDue() == Self.t0.adding(seconds: 2))
            // Not due yet: nothing is claimed.
            #expect(try await walker.runOnce() == 0)

            clock.advance(seconds: 2)
            #expect(try await walker.runOnce() == 1)
            let done = try #require(try await store.execution(id: execution.id))
            #expect(done.status == .completed && done.finishedAt == Self.t0.adding(seconds: 2))
            #expect(try await store.contact(email: Self.ada)?.tags == ["P2P only"])
            let messages = try await store.executionLogs(id: execution.id).map(\.message)
            #expect(
                messages == [
                    "Spawned execution \(execution.id) for ada@example.com",
                    "Queued email 'Welcome to P2P, Ada!' to ada@example.com",
                    "Pausing until \(RFC3339.format(Self.t0.adding(seconds: 2)))", "Delay over", "Condition 'Bought Canva?' is false",
                    "Added tag 'P2P only'",
                ])

            // The same activity again, and a second purchase: `once` lets Ada in once.
            try await Self.purchase(store, "P2P", id: "evt_2", at: clock.now())
            _ = try await watcher.runOnce()
            try await store.saveWatchCursor(AutomationWatcher.cursorName, 0)
            _ = try await watcher.runOnce()
            #expect(try await store.executions(ExecutionQuery(automationID: id)).count == 1)
            #expect(try await store.emailJobs(EmailJobQuery(email: Self.ada)).count == 1)
        }
    }

    @Test(arguments: StoreBackend.enabled)
    func theRunningWalkerFiresADelayWhenTheClockReachesIt(backend: StoreBackend) async throws {
        try await backend.withStore { store in
            let clock = ManualWallClock(Self.t0)
            let (watcher, walker) = Self.workers(store, clock)
            let id = try await Self.activated(try Self.welcome(reentry: "always"), in: store, watcher: watcher)
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await watcher.run() }
                group.addTask { try await walker.run() }
                try await Self.purchase(store, "P2P", id: "evt_1", at: Self.t0)
                // Woken by the ingest, the watcher spawns and the walker runs to the delay, then
                // sleeps on the clock until it is due.
                try await withDeadline(.seconds(10)) {
                    while clock.earliestDeadline != Self.t0.adding(seconds: 2) { await Task.yield() }
                }
                let execution = try #require(try await store.executions(ExecutionQuery(automationID: id)).first)
                #expect(execution.status == .waiting)
                clock.advance(seconds: 2)
                try await withDeadline(.seconds(10)) {
                    while try await store.execution(id: execution.id)?.status != .completed { await Task.yield() }
                }
                group.cancelAll()
            }
        }
    }

    @Test(arguments: StoreBackend.enabled)
    func pausingHoldsAndArchivingCancels(backend: StoreBackend) async throws {
        try await backend.withStore { store in
            let clock = ManualWallClock(Self.t0)
            let (watcher, walker) = Self.workers(store, clock)
            let id = try await Self.activated(try Self.welcome(), in: store, watcher: watcher)
            try await Self.purchase(store, "P2P", id: "evt_1", at: Self.t0)
            _ = try await watcher.runOnce()
            _ = try await store.setAutomationStatus(id: id, from: .active, to: .paused, at: Self.t0)
            #expect(try await walker.runOnce() == 0)
            #expect(try await store.nextExecutionDue() == nil)
            _ = try await store.setAutomationStatus(id: id, from: .paused, to: .archived, at: Self.t0)
            let execution = try #require(try await store.executions(ExecutionQuery(automationID: id)).first)
            #expect(execution.status == .cancelled)
            #expect(try await store.executionLogs(id: execution.id).last?.message == "Cancelled: the automation was archived")
            #expect(try await store.emailJobs(EmailJobQuery(email: Self.ada)).isEmpty)
        }
    }

    @Test(arguments: StoreBackend.enabled)
    func activatingSkipsWhatArrivedWhileNoneWasActiveAndAnActivityStartsOneExecution(backend: StoreBackend) async throws {
        try await backend.withStore { store in
            let clock = ManualWallClock(Self.t0)
            let (watcher, _) = Self.workers(store, clock)
            _ = try await watcher.runOnce()  // The cursor starts where the feed stands.
            let id = try await store.createAutomation(try Self.welcome(reentry: "always"), at: Self.t0)
            try await Self.purchase(store, "P2P", id: "while-draft", at: Self.t0)
            #expect(try await watcher.runOnce() == .noAutomations)  // Nothing read.
            _ = try await store.setAutomationStatus(id: id, from: .draft, to: .active, at: Self.t0)
            try await Self.purchase(store, "P2P", id: "after", at: Self.t0)
            _ = try await watcher.runOnce()
            let executions = try await store.executions(ExecutionQuery(automationID: id))
            #expect(executions.count == 1)
            // Matched again (a crash before the cursor was saved): still one execution.
            let before = try #require(executions.first).triggerActivityID - 1
            try await (store as? any GroupCommittingStore)?.execute(rawSQL: "UPDATE automation_watch SET last_activity_id = \(before)")
            _ = try await watcher.runOnce()
            #expect(try await store.executions(ExecutionQuery(automationID: id)).map(\.id) == executions.map(\.id))
        }
    }

    @Test(arguments: StoreBackend.enabled)
    func aDryRunLogsEveryStepSendsNothingAndChangesNoTag(backend: StoreBackend) async throws {
        try await backend.withStore { store in
            let clock = ManualWallClock(Self.t0)
            let (watcher, walker) = Self.workers(store, clock)
            let id = try await Self.activated(try Self.welcome(), in: store, watcher: watcher)
            try await Self.purchase(store, "P2P", id: "dry", at: Self.t0, dryRun: true)
            _ = try await watcher.runOnce()
            _ = try await walker.runOnce()
            clock.advance(seconds: 2)
            _ = try await walker.runOnce()
            let execution = try #require(try await store.executions(ExecutionQuery(automationID: id)).first)
            #expect(execution.dryRun && execution.status == .completed)
            let messages = try await store.executionLogs(id: execution.id).map(\.message)
            #expect(messages.contains("Spawned execution \(execution.id) for ada@example.com (dry run)"))
            #expect(messages.contains("Queued email 'Welcome to P2P, Ada!' to ada@example.com (dry run: not sent)"))
            #expect(messages.last == "Would add tag 'P2P only' (dry run)")
            #expect(try await store.contact(email: Self.ada)?.tags == [])

            // The sender records the mail as sent by dry-run without handing it to the provider.
            let transport = ScriptedTransport()
            _ = try await SenderWorkerTests.worker(store, transport, clock: clock).runOnce()
            #expect(transport.batches.isEmpty)
            let mail = try #require(try await store.emailJobs(EmailJobQuery(email: Self.ada)).first)
            #expect(mail.status == .sent && mail.provider == "dry-run" && mail.message.dryRun)

            // A dry run is not an entry: a real purchase still enters under `once`.
            try await Self.purchase(store, "P2P", id: "real", at: clock.now())
            _ = try await watcher.runOnce()
            #expect(try await store.executions(ExecutionQuery(automationID: id)).filter { !$0.dryRun }.count == 1)
        }
    }

    static func event(_ store: any Store, _ type: String, _ name: String, id: String, at time: Timestamp) async throws {
        _ = try await store.ingest(
            InboundDelivery(source: "checkout", externalID: id, receivedAt: time, headers: [], body: []),
            activities: [NewActivity(type: type, contactEmail: EmailAddress("\(name)@example.com")!, occurredAt: time, metadata: "{}")],
            suppressions: [])
    }

    /// Abandoned cart: a started checkout waits an hour for its completion (five minutes of
    /// lookback), tags the contact when it times out, and a refund ends the run.
    static let cart = #"""
        {"name": "Cart", "exit_when": {"event": "refund.created"}, "graph": {"nodes": [
          {"id": "start", "type": "trigger", "data": {"event": "checkout.started"}},
          {"id": "wait", "type": "wait_for_event", "data": {"event": "checkout.completed", "timeout_seconds": 3600, "lookback_seconds": 300}},
          {"id": "bought", "type": "exit", "data": {}},
          {"id": "tag", "type": "add_tag", "data": {"tag": "Abandoned"}}],
         "edges": [{"id": "a", "source": "start", "target": "wait"},
          {"id": "b", "source": "wait", "target": "bought", "sourceHandle": "event"},
          {"id": "c", "source": "wait", "target": "tag", "sourceHandle": "timeout"}]}}
        """#

    @Test(arguments: StoreBackend.enabled)
    func aWaitEndsWithItsEventItsLookbackOrItsTimeoutAndExitWhenEndsTheRun(backend: StoreBackend) async throws {
        try await backend.withStore { store in
            let clock = ManualWallClock(Self.t0)
            let (watcher, walker) = Self.workers(store, clock)
            let definition = try AutomationDefinition.parse(try #require(try JSONParser.parse(Array(Self.cart.utf8)).objectValue))
            let id = try await Self.activated(definition, in: store, watcher: watcher)
            // Bo completed a checkout a minute before starting one: the lookback finds it.
            try await Self.event(store, "checkout.completed", "bo", id: "bo-done", at: Self.t0)
            clock.advance(seconds: 60)
            for name in ["ada", "bo", "cy", "dee"] {
                try await Self.event(store, "checkout.started", name, id: "\(name)-start", at: clock.now())
            }
            _ = try await watcher.runOnce()
            _ = try await walker.runOnce()
            func execution(_ name: String) async throws -> Execution {
                try #require(try await store.executions(ExecutionQuery(automationID: id, email: EmailAddress("\(name)@example.com")!)).first)
            }
            #expect(try await execution("bo").status == .completed)
            #expect(try await store.executionLogs(id: try await execution("bo").id).map(\.message).contains("Event 'checkout.completed' had already arrived"))
            for name in ["ada", "cy", "dee"] { #expect(try await execution(name).status == .waiting) }

            // Ada completes: the watcher moves her on through `event`. Dee is refunded: exit_when.
            clock.advance(seconds: 60)
            try await Self.event(store, "checkout.completed", "ada", id: "ada-done", at: clock.now())
            try await Self.event(store, "refund.created", "dee", id: "dee-refund", at: clock.now())
            _ = try await watcher.runOnce()
            _ = try await walker.runOnce()
            #expect(try await execution("ada").status == .completed)
            #expect(try await store.executionLogs(id: try await execution("ada").id).map(\.message).suffix(2) == ["Event 'checkout.completed' arrived", "Exited"])
            #expect(try await execution("dee").status == .exited)

            // Cy never completes: an hour after the wait began, the timeout tags her.
            #expect(try await walker.runOnce() == 0)
            clock.advance(seconds: 3600)
            _ = try await walker.runOnce()
            #expect(try await execution("cy").status == .completed)
            #expect(try await store.contact(email: EmailAddress("cy@example.com")!)?.tags == ["Abandoned"])
            #expect(try await store.contact(email: EmailAddress("ada@example.com")!)?.tags == [])
        }
    }

    static let hook = #"""
        {"name": "Hook", "reentry": "always", "graph": {"nodes": [
          {"id": "t", "type": "trigger", "data": {"event": "checkout.completed"}},
          {"id": "hook", "type": "webhook", "data": {"url": "https://hooks.example.com/cortex", "secret": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}},
          {"id": "tag", "type": "add_tag", "data": {"tag": "Hooked"}}],
         "edges": [{"id": "a", "source": "t", "target": "hook"}, {"id": "b", "source": "hook", "target": "tag"}]}}
        """#

    @Test(arguments: StoreBackend.enabled)
    func aWebhookIsRetriedWithTheSameIDAndARefusalFailsTheExecution(backend: StoreBackend) async throws {
        try await backend.withStore { store in
            let clock = ManualWallClock(Self.t0)
            let webhooks = ScriptedWebhookCaller([
                .failed(reason: "HTTP 503", retryable: true), .delivered(status: 204), .failed(reason: "HTTP 410", retryable: false),
            ])
            let (watcher, walker) = Self.workers(store, clock, webhooks: webhooks)
            let id = try await store.createAutomation(
                try AutomationDefinition.parse(try #require(try JSONParser.parse(Array(Self.hook.utf8)).objectValue)), at: Self.t0)
            _ = try await store.setAutomationStatus(id: id, from: .draft, to: .active, at: Self.t0)
            _ = try await watcher.runOnce()
            try await Self.purchase(store, "P2P", id: "one", at: Self.t0)
            _ = try await watcher.runOnce()
            _ = try await walker.runOnce()
            let first = try #require(try await store.executions(ExecutionQuery(automationID: id)).first)
            #expect(first.status == .waiting && first.wakeUpAt == Self.t0.adding(seconds: 30))
            clock.advance(seconds: 30)
            _ = try await walker.runOnce()
            #expect(try await store.execution(id: first.id)?.status == .completed)
            #expect(try await store.contact(email: Self.ada)?.tags == ["Hooked"])
            #expect(webhooks.calls.map(\.id) == ["automation:\(first.id):hook", "automation:\(first.id):hook"])
            let body = try JSONParser.parse(try #require(webhooks.calls.first).body)
            #expect(body.objectValue?["contact"]?.objectValue?["email"] == .string("ada@example.com"))
            #expect(body.objectValue?["event"]?.objectValue?["product"] == .string("P2P"))
            #expect(try await store.executionLogs(id: first.id).map(\.message).contains("Called webhook https://hooks.example.com/cortex (HTTP 204)"))

            // A refusal that waiting cannot help fails the execution with the reason.
            try await Self.purchase(store, "P2P", id: "two", at: clock.now())
            _ = try await watcher.runOnce()
            _ = try await walker.runOnce()
            let second = try #require(try await store.executions(ExecutionQuery(automationID: id)).first)
            #expect(second.id != first.id && second.status == .failed)
            #expect(try await store.executionLogs(id: second.id).last?.message == "Webhook https://hooks.example.com/cortex failed after 1 attempt: HTTP 410")

            // A dry run never calls it.
            try await Self.purchase(store, "P2P", id: "three", at: clock.now(), dryRun: true)
            _ = try await watcher.runOnce()
            _ = try await walker.runOnce()
            #expect(webhooks.calls.count == 3)
        }
    }
}
