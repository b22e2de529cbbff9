import CortexTestSupport
import ServiceLifecycle
import Synchronization
import Testing

@testable import Engine

/// A webhook receiver that holds each call until `release` says, counting the calls and those
/// cut by cancellation. Cut, it answers what AsyncHTTPClient's cancellation becomes in
/// `HTTPWebhookCaller`: a retryable failure.
final class HeldWebhookCaller: WebhookCaller {
    private let state = Mutex((calls: 0, cut: 0))
    /// When a held call may return (`HeldCall`).
    private let release: @Sendable () -> Bool

    init(release: @escaping @Sendable () -> Bool) {
        self.release = release
    }

    var calls: Int { state.withLock { $0.calls } }
    var cut: Int { state.withLock { $0.cut } }

    func call(_ call: WebhookCall) async -> WebhookResult {
        state.withLock { $0.calls += 1 }
        guard await HeldCall.wait(until: release) else {
            state.withLock { $0.cut += 1 }
            return .failed(reason: "cancelled", retryable: true)
        }
        return .delivered(status: 204)
    }
}

/// SIGTERM while the walker runs a pass: the pass finishes and commits, so no execution it
/// claimed waits out its lease after the restart.
@Suite struct AutomationWalkerShutdownTests {
    typealias Fixture = AutomationRunConformanceTests

    @Test(arguments: StoreBackend.enabled)
    func aShutdownLetsTheWalkersPassFinishAndCommitIt(backend: StoreBackend) async throws {
        try await backend.withStore { store in
            let clock = ManualWallClock(Fixture.t0)
            // The receiver answers 200 ms after the shutdown began: the call is in flight when
            // the signal comes and for a while after it.
            let shutdownSeen = FirstSight()
            let webhooks = HeldWebhookCaller {
                guard Task.isShuttingDownGracefully else { return false }
                return ContinuousClock.now - shutdownSeen.instant() >= .milliseconds(200)
            }
            let (watcher, _) = Fixture.workers(store, clock)
            let definition = try AutomationDefinition.parse(try #require(try JSONParser.parse(Array(Fixture.hook.utf8)).objectValue))
            let id = try await Fixture.activated(definition, in: store, watcher: watcher)
            try await Fixture.purchase(store, "P2P", id: "one", at: Fixture.t0)
            _ = try await watcher.runOnce()
            let walker = AutomationWalker(
                store: store, clock: clock, webhooks: webhooks, defaultFrom: "Shop <shop@example.com>", logger: StoreBackend.quietLogger)
            let group = ServiceGroup(services: [walker], logger: StoreBackend.quietLogger)
            let running = Task { try await group.run() }
            defer { running.cancel() }
            try await SenderShutdownTests.until { webhooks.calls == 1 }
            await group.triggerGracefulShutdown()
            try await withDeadline(.seconds(20)) { try await running.value }
            #expect(webhooks.cut == 0)
            let execution = try #require(try await store.executions(ExecutionQuery(automationID: id)).first)
            #expect(execution.status == .completed)
            #expect(try await store.contact(email: Fixture.ada)?.tags == ["Hooked"])
        }
    }
}
