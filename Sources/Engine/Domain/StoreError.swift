/// A failure of a store call, classified so the caller knows whether retrying can help.
///
/// Each store turns its driver's errors into one of these in one function, so callers above
/// Engine never see GRDB or PostgresNIO types. Gateway maps `unavailable` to 503 (retry later),
/// `notFound` to 404, `conflict` to 409 and `invalid` to 422: the last two are refusals a retry
/// of the same call would meet again, so a client must not be told to retry them.
public struct StoreError: Error, Sendable, CustomStringConvertible {
    /// What kind of failure this is; switch over it to map every kind in one place.
    public enum Kind: Sendable, Hashable {
        /// The database cannot be opened or reached, or failed in a way a retry may not meet.
        case unavailable
        /// A row the caller named does not exist.
        case notFound
        /// The change collides with existing data: a unique key or a foreign key.
        case conflict
        /// The database refused the data itself: a CHECK or NOT NULL constraint, a bad value.
        case invalid
    }

    public let kind: Kind
    public let message: String

    private init(kind: Kind, message: String) {
        self.kind = kind
        self.message = message
    }

    /// The database cannot be opened or reached.
    public static func unavailable(_ message: String) -> StoreError {
        StoreError(kind: .unavailable, message: message)
    }

    /// A row the caller named does not exist.
    public static func notFound(_ message: String) -> StoreError {
        StoreError(kind: .notFound, message: message)
    }

    /// A unique or foreign-key constraint refused the change.
    public static func conflict(_ message: String) -> StoreError {
        StoreError(kind: .conflict, message: message)
    }

    /// A CHECK or NOT NULL constraint, or the column's type, refused the data.
    public static func invalid(_ message: String) -> StoreError {
        StoreError(kind: .invalid, message: message)
    }

    public var isNotFound: Bool { kind == .notFound }

    public var description: String { message }
}
