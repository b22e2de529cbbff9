import Engine
import Hummingbird

/// Executions and their logs (ENGINE.md §4): list them newest first, read one with its step
/// log, cancel one.
struct ExecutionRoutes {
    let store: any ExecutionRepository
    let clock: any WallClock

    func register(on routes: RouteRegistrar) {
        routes.add(.get, "/v1/executions") { request, _ in
            let parameters = request.uri.queryParameters
            var query = ExecutionQuery(limit: try ListLimit.parse(parameters["limit"]))
            if let raw = parameters["automation_id"] {
                guard let id = Int64(raw), id > 0 else { throw APIError.invalidParameter("automation_id", "must be an automation id") }
                query.automationID = id
            }
            if let raw = parameters["email"] {
                guard let email = EmailAddress(String(raw)) else { throw APIError.invalidParameter("email", "must be an email address") }
                query.email = email
            }
            if let raw = parameters["status"] {
                guard let status = ExecutionStatus(rawValue: String(raw)) else {
                    let known = ExecutionStatus.allCases.map(\.rawValue).joined(separator: ", ")
                    throw APIError.invalidParameter("status", "must be one of \(known)")
                }
                query.status = status
            }
            query.before = try CursorPage.cursor(parameters)
            let limit = query.limit
            query.limit += 1
            return JSONResponse.make(.ok, CursorPage.json(try await store.executions(query), limit: limit, id: \.id, Self.json))
        }
        routes.add(.get, "/v1/executions/{id}") { _, context in
            let execution = try await found(try PathID.parse(context, "execution"))
            var body = Self.json(execution).objectValue ?? JSONObject()
            body.members.append((key: "logs", value: .array(try await store.executionLogs(id: execution.id).map(Self.json))))
            return JSONResponse.make(.ok, .object(body))
        }
        routes.add(.post, "/v1/executions/{id}/cancel") { _, context in
            let id = try PathID.parse(context, "execution")
            guard let execution = try await store.cancelExecution(id: id, at: clock.now()) else {
                throw APIError.notFound("no execution \(id)")
            }
            guard execution.status == .cancelled else {
                throw APIError(.conflict, code: "execution_finished", "execution \(id) has already ended (\(execution.status.rawValue))")
            }
            return JSONResponse.make(.ok, Self.json(execution))
        }
    }

    private func found(_ id: Int64) async throws -> Execution {
        guard let execution = try await store.execution(id: id) else { throw APIError.notFound("no execution \(id)") }
        return execution
    }

    static func json(_ execution: Execution) -> JSON {
        .object([
            "id": .int(execution.id), "automation_id": .int(execution.automationID), "version": .int(execution.version),
            "contact_email": .string(execution.contactEmail.value), "trigger_activity_id": .int(execution.triggerActivityID),
            "status": .string(execution.status.rawValue), "current_node_id": execution.currentNodeID.map(JSON.string) ?? .null,
            "wake_up_at": execution.wakeUpAt.map { .string(RFC3339.format($0)) } ?? .null, "dry_run": .bool(execution.dryRun),
            "created_at": .string(RFC3339.format(execution.createdAt)),
            "finished_at": execution.finishedAt.map { .string(RFC3339.format($0)) } ?? .null,
        ])
    }

    static func json(_ log: ExecutionLog) -> JSON {
        .object([
            "at": .string(RFC3339.format(log.at)), "node_id": log.nodeID.map(JSON.string) ?? .null, "action": .string(log.action),
            "outcome": .string(log.outcome.rawValue), "message": .string(log.message), "detail": log.detail ?? .null,
        ])
    }
}
