import GRDB

extension SQLiteStore {
    /// What a failed database call becomes: the one place SQLite's result codes are classified.
    ///
    /// A constraint the caller's data broke is not a database outage: retrying the same call
    /// meets the same refusal, so it must not be answered like one (503). A unique, primary-key
    /// or foreign-key violation is a `conflict`; a CHECK or NOT NULL violation, or a value of the
    /// wrong type, is `invalid`. Everything else (busy, locked, I/O, a full disk, a corrupt file)
    /// stays `unavailable`. A `StoreError` thrown inside a transaction passes through unchanged.
    static func storeError(_ error: any Error, _ operation: String) -> any Error {
        if error is StoreError || error is CancellationError { return error }
        guard let error = error as? DatabaseError else {
            return StoreError.unavailable("SQLite \(operation) failed: \(error)")
        }
        // SQLite's own words ("UNIQUE constraint failed: api_keys.key_hash"): unlike the
        // error's description, they never include the statement or its arguments.
        let refusal = "SQLite: " + (error.message ?? "constraint failed")
        switch error.extendedResultCode {
        case .SQLITE_CONSTRAINT_UNIQUE, .SQLITE_CONSTRAINT_PRIMARYKEY, .SQLITE_CONSTRAINT_FOREIGNKEY:
            return StoreError.conflict(refusal)
        case .SQLITE_CONSTRAINT_CHECK, .SQLITE_CONSTRAINT_NOTNULL, .SQLITE_CONSTRAINT_DATATYPE, .SQLITE_MISMATCH:
            return StoreError.invalid(refusal)
        default:
            return StoreError.unavailable("SQLite \(operation) failed: \(error)")
        }
    }
}
