import Engine
import Hummingbird

/// Automations (ENGINE.md §4): create, list, read and replace them (a replacement after an
/// execution started becomes a new version), and move them between draft, active, paused and
/// archived; simulate one on a virtual clock.
struct AutomationRoutes {
    let store: any AutomationRepository
    let simulation: AutomationSimulation
    let clock: any WallClock

    func register(on routes: RouteRegistrar) {
        routes.add(.post, "/v1/automations") { request, _ in
            let definition = try AutomationDefinition.parse(try await body(request))
            let id = try await store.createAutomation(definition, at: clock.now())
            return JSONResponse.make(.created, try await json(try await found(id)))
        }
        routes.add(.get, "/v1/automations") { _, _ in
            var data: [JSON] = []
            for automation in try await store.automations() { data.append(try await json(automation)) }
            return JSONResponse.make(.ok, .object(["data": .array(data)]))
        }
        routes.add(.get, "/v1/automations/{id}") { _, context in
            JSONResponse.make(.ok, try await json(try await found(try PathID.parse(context, "automation"))))
        }
        routes.add(.put, "/v1/automations/{id}") { request, context in
            let id = try PathID.parse(context, "automation")
            let definition = try AutomationDefinition.parse(try await body(request))
            do {
                guard let updated = try await store.updateAutomation(id: id, definition, at: clock.now()) else {
                    throw APIError.notFound("no automation \(id)")
                }
                return JSONResponse.make(.ok, try await json(updated))
            } catch let error as StoreError where error.kind == .conflict {
                throw APIError(.conflict, code: "automation_archived", "automation \(id) is archived and can no longer change")
            }
        }
        routes.add(.post, "/v1/automations/{id}/simulate") { request, context in
            JSONResponse.make(.ok, try await simulate(try PathID.parse(context, "automation"), request))
        }
        for action in AutomationAction.allCases {
            routes.add(.post, "/v1/automations/{id}/\(action.rawValue)") { _, context in
                JSONResponse.make(.ok, try await json(try await move(try PathID.parse(context, "automation"), action)))
            }
        }
    }

    /// Runs the automation's current graph for the body's event on a virtual clock.
    private func simulate(_ id: Int64, _ request: Request) async throws -> JSON {
        let body = try await body(request)
        let input = try Self.simulationInput(try await found(id), body)
        let result = try await simulation.run(input, at: clock.now())
        return SimulationRequest.json(result)
    }

    private static func simulationInput(_ automation: Automation, _ body: JSONObject) throws -> SimulationInput {
        let definition = automation.definition
        let base = SimulationBase(
            graph: try definition.parsedGraph(), automationID: automation.id, reentry: definition.reentry,
            exitWhen: definition.exitEvent, timezone: definition.timezone)
        return try SimulationRequest.parse(body, into: base)
    }

    /// Applies `action`, or answers 409 naming the status it cannot be applied from.
    private func move(_ id: Int64, _ action: AutomationAction) async throws -> Automation {
        let current = try await found(id)
        guard let next = current.status.after(action) else {
            throw APIError(
                .conflict, code: "invalid_transition",
                "cannot \(action.rawValue) automation \(id): it is \(current.status.rawValue)")
        }
        guard next != current.status else { return current }
        do {
            guard let moved = try await store.setAutomationStatus(id: id, from: current.status, to: next, at: clock.now()) else {
                throw APIError.notFound("no automation \(id)")
            }
            return moved
        } catch let error as StoreError where error.kind == .conflict {
            throw APIError(.conflict, code: "invalid_transition", "cannot \(action.rawValue) automation \(id): \(error.message)")
        }
    }

    private func body(_ request: Request) async throws -> JSONObject {
        try InboundPayload.parseObject(try await BodyLimit.collect(request))
    }

    private func found(_ id: Int64) async throws -> Automation {
        guard let automation = try await store.automation(id: id) else { throw APIError.notFound("no automation \(id)") }
        return automation
    }

    /// An automation as the API answers it: the graph is the document as it was saved, and
    /// `stats` counts, per node of the current graph, the executions of every version.
    private func json(_ automation: Automation) async throws -> JSON {
        let definition = automation.definition
        let stats = try await store.automationNodeCounts(id: automation.id).stats(try definition.parsedGraph())
        return .object([
            "id": .int(automation.id), "name": .string(automation.name), "status": .string(automation.status.rawValue),
            "version": .int(automation.version), "graph": definition.graph, "reentry": definition.reentryJSON,
            "exit_when": definition.exitWhen ?? .null, "timezone": .string(definition.timezone), "stats": stats,
            "created_at": .string(RFC3339.format(automation.createdAt)),
            "updated_at": .string(RFC3339.format(automation.updatedAt)),
        ])
    }
}
