/// How the held fakes of a provider (`HeldTransport`, `HeldWebhookCaller`) hold a call: until
/// `release` says, asked every millisecond, for at most 30 s.
enum HeldCall {
    /// Answers `false` when the calling task was cancelled first: the call was cut.
    static func wait(until release: () -> Bool) async -> Bool {
        let bound = ContinuousClock.now + .seconds(30)
        while !release(), ContinuousClock.now < bound {
            if Task.isCancelled { return false }
            try? await Task.sleep(for: .milliseconds(1))
        }
        return true
    }
}
