/// A failure of the database itself (not of the caller's input).
///
/// Gateway maps `unavailable` to 503, so a client retries later instead of treating the event as
/// refused, and `notFound` to 404.
public struct StoreError: Error, Sendable, CustomStringConvertible {
    private enum Code: Sendable {
        case unavailable
        case notFound
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

    /// A row the caller named does not exist.
    public static func notFound(_ message: String) -> StoreError {
        StoreError(code: .notFound, message: message)
    }

    public var isNotFound: Bool { code == .notFound }

    public var description: String { message }
}
