/// The rules both stores share for executions, free of I/O: who may enter again, what a move
/// writes, and the log rows the store itself writes.
public enum ExecutionRules {
    /// Whether a contact whose last entry (if any) was at `lastEntry` may enter now.
    public static func mayEnter(_ reentry: Reentry, lastEntry: Timestamp?, now: Timestamp) -> Bool {
        guard let lastEntry else { return true }
        switch reentry {
        case .once: return false
        case .always: return true
        case .after(let seconds): return now.microseconds - lastEntry.microseconds >= seconds * 1_000_000
        }
    }

    /// The columns a move sets: `nodeID` `nil` keeps the current node.
    struct MoveColumns {
        var status: ExecutionStatus
        var nodeID: String?
        var wakeUpAt: Timestamp?
        /// Only a move to the next node now keeps the lease: the walker goes straight on.
        var keepsLease: Bool
        var finishedAt: Timestamp?
        var error: String?
    }

    static func columns(of move: ExecutionMove, at time: Timestamp) -> MoveColumns {
        switch move {
        case .next(let node):
            MoveColumns(status: .running, nodeID: node, wakeUpAt: time, keepsLease: true, finishedAt: nil, error: nil)
        case .wait(let node, let until):
            MoveColumns(status: .waiting, nodeID: node, wakeUpAt: until, keepsLease: false, finishedAt: nil, error: nil)
        case .complete:
            MoveColumns(status: .completed, nodeID: nil, wakeUpAt: nil, keepsLease: false, finishedAt: time, error: nil)
        case .fail(let reason):
            MoveColumns(status: .failed, nodeID: nil, wakeUpAt: nil, keepsLease: false, finishedAt: time, error: reason)
        }
    }

    static func spawnedLog(_ id: Int64, _ spawn: ExecutionSpawn, at time: Timestamp) -> ExecutionLog {
        let dry = spawn.dryRun ? " (dry run)" : ""
        return ExecutionLog(
            at: time, nodeID: nil, action: "spawn", outcome: .ok,
            message: "Spawned execution \(id) for \(spawn.contactEmail.value)\(dry)",
            detail: .object(["trigger_activity_id": .int(spawn.triggerActivityID), "version": .int(spawn.version)]))
    }

    static func cancelledLog(at time: Timestamp) -> ExecutionLog {
        ExecutionLog(at: time, nodeID: nil, action: "cancel", outcome: .skipped, message: "Cancelled")
    }
}
