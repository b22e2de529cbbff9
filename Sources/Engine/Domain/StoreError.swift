/// A failure of the database itself (not of the caller's input).
///
/// Gateway maps it to 503, so a client retries later instead of treating the event as refused.
public struct StoreError: Error, Sendable, CustomStringConvertible {
    private enum Code: Sendable {
        case unavailable
    }

    private let code: Code
    public let message: String

    private init(code: Code, message: String) {
        self.code = code
        self.message = message
    }

    /// The database cannot be opened or reached.
    public static func unavailable(_ message: String) -> StoreError {
        StoreError(code: .unavailable, message: message)
    }

    public var description: String { message }
}
