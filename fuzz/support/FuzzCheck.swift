import Engine

/// What every fuzz target shares: how a broken promise is reported, and the checks on values
/// Cortex stores or answers.
///
/// A broken promise calls `fatalError`, which libFuzzer sees as a crash: it saves the input under
/// `.build-fuzz/artifacts/` and `scripts/fuzz.sh` fails with that path. Targets only call code as
/// the server does; a check here states a promise the README or the code's own comments make.
public enum FuzzCheck {
    /// The fixed "now" of every target, so that a saved input replays exactly: the Standard
    /// Webhooks test vector's time (2021-02-25T15:02:10Z).
    public static let now = Timestamp(seconds: 1_614_265_330)

    public static func require(_ condition: Bool, _ promise: @autoclosure () -> String) {
        if !condition { fatalError("broken promise: \(promise())") }
    }

    /// Every time Cortex stores is answered as RFC 3339 with six fractional digits, and that text
    /// must read back as the same instant (a client sends it back as a filter's `since`).
    public static func requireRoundTrip(_ time: Timestamp, _ context: String) {
        let text = RFC3339.format(time)
        require(RFC3339.parse(text) == time, "\(context): \(time.microseconds) µs is answered as \(text), which does not read back")
    }

    /// Metadata is stored as JSON object text (SQLite `json`, PostgreSQL `jsonb`): it must be
    /// exactly that, and hold no U+0000 (PostgreSQL refuses it).
    public static func requireStorableObject(_ text: String, _ context: String) {
        let parsed: JSON
        do {
            parsed = try JSONParser.parse(Array(text.utf8))
        } catch {
            fatalError("broken promise: \(context) is not JSON (\(error)): \(text.prefix(200))")
        }
        require(parsed.objectValue != nil, "\(context) is not a JSON object")
        require(!parsed.containsNUL, "\(context) holds U+0000")
    }

    /// The input as text the way a server would see it in a header or a JSON string: invalid
    /// UTF-8 replaced by U+FFFD.
    public static func text(_ bytes: UnsafeBufferPointer<UInt8>) -> String {
        String(decoding: bytes, as: UTF8.self)
    }
}
