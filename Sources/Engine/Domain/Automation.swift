/// An automation (ENGINE.md §4): a graph that runs for each contact an activity starts it for.
public struct Automation: Sendable, Equatable {
    public var id: Int64
    public var name: String
    public var status: AutomationStatus
    /// The current version; every version's graph is kept, so running executions finish on
    /// the one they started on.
    public var version: Int
    public var definition: AutomationDefinition
    public var createdAt: Timestamp
    public var updatedAt: Timestamp

    public init(
        id: Int64, name: String, status: AutomationStatus, version: Int, definition: AutomationDefinition,
        createdAt: Timestamp, updatedAt: Timestamp
    ) {
        self.id = id
        self.name = name
        self.status = status
        self.version = version
        self.definition = definition
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }
}

public enum AutomationStatus: String, Sendable, CaseIterable {
    /// Saved, never started: nothing enters.
    case draft
    /// Contacts enter when its trigger matches.
    case active
    /// No new entries; running executions hold before their next step until activated again.
    case paused
    /// Finished with: running executions are cancelled, and it can no longer change.
    case archived

    /// The status an action moves to from this one, or `nil` when it may not: archived is final.
    public func after(_ action: AutomationAction) -> AutomationStatus? {
        switch (self, action) {
        case (.archived, _): nil
        case (_, .activate): .active
        case (.draft, .pause): nil
        case (_, .pause): .paused
        case (_, .archive): .archived
        }
    }
}

public enum AutomationAction: String, Sendable, CaseIterable {
    case activate, pause, archive
}

/// How often one contact may enter.
public enum Reentry: Sendable, Equatable {
    /// At most once ever (the default).
    case once
    case always
    /// Again only this many seconds after its last entry.
    case after(seconds: Int64)
}
