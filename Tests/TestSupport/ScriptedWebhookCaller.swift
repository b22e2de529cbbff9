import Engine
import Synchronization

/// A webhook caller whose answers a test scripts (delivered when the script runs out), recording
/// every call; the HTTP caller itself is tested against a local server in AdaptersTests.
public final class ScriptedWebhookCaller: WebhookCaller {
    private let script = Mutex<[WebhookResult]>([])
    private let log = Mutex<[WebhookCall]>([])

    public init(_ answers: [WebhookResult] = []) {
        script.withLock { $0 = answers }
    }

    public var calls: [WebhookCall] { log.withLock { $0 } }

    public func call(_ call: WebhookCall) async -> WebhookResult {
        log.withLock { $0.append(call) }
        return script.withLock { $0.isEmpty ? .delivered(status: 200) : $0.removeFirst() }
    }
}
