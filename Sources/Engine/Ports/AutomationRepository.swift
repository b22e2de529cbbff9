/// Where automations and their versions live (ENGINE.md §4). Every version's graph is kept:
/// executions run on the version they started on, whatever is saved since.
public protocol AutomationRepository: Sendable {
    /// Saves a new automation as a draft at version 1; returns its id.
    func createAutomation(_ definition: AutomationDefinition, at time: Timestamp) async throws -> Int64

    /// Every automation, oldest first, archived ones included.
    func automations() async throws -> [Automation]

    func automation(id: Int64) async throws -> Automation?

    /// Replaces an automation's definition. When an execution has started on the current
    /// version, the change becomes a new version and the old one is kept for those executions;
    /// otherwise the current version is changed in place. `nil` when there is no such
    /// automation; throws ``StoreError`` `conflict` for an archived one.
    func updateAutomation(id: Int64, _ definition: AutomationDefinition, at time: Timestamp) async throws -> Automation?

    /// Moves an automation to `status` (the caller has checked the move is allowed from
    /// `expected`); `nil` when there is no such automation, throws ``StoreError`` `conflict`
    /// when its status is no longer `expected` (another request moved it meanwhile). Archiving
    /// cancels its running executions. Activating it while no other automation is active moves
    /// the watcher's cursor to the newest activity, since the watcher reads nothing while none
    /// is active and what arrived meanwhile must not start the new one.
    func setAutomationStatus(id: Int64, from expected: AutomationStatus, to status: AutomationStatus, at time: Timestamp)
        async throws -> Automation?

    /// The graph of one version, for executions that started on it.
    func automationGraph(id: Int64, version: Int) async throws -> JSON?
}
