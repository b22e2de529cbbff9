import Engine
import Hummingbird
import Logging

/// Outermost middleware: turns every failure into a JSON error with the right status, refuses
/// oversized bodies before reading them, and counts each request.
struct ErrorMiddleware: RouterMiddleware {
    typealias Context = BasicRequestContext

    let routes: RouteTable
    let metrics: CortexMetrics
    /// Tells when a database failure is logged.
    let clock: any WallClock
    /// One "database failure" line per 10 s, carrying how many 503s it stands for: while the
    /// database is away every request fails, and a line each wrote 70,000 lines in ten seconds
    /// of a full disk (`bench/crash_disk_full.sh`), filling the log where the database could not
    /// be written. `/metrics` still counts every 503.
    let databaseFailures = ThrottledLog(intervalSeconds: ErrorMiddleware.databaseFailureLogSeconds)

    static let databaseFailureLogSeconds: Int64 = 10

    init(routes: RouteTable, metrics: CortexMetrics, clock: any WallClock = SystemWallClock()) {
        self.routes = routes
        self.metrics = metrics
        self.clock = clock
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response)
        async throws -> Response
    {
        let response: Response
        if BodyLimit.declaredTooLarge(request) {
            response = try APIError.payloadTooLarge(limit: BodyLimit.maximumBytes(forPath: request.uri.path))
                .response(from: request, context: context)
        } else {
            do {
                response = try await next(request, context)
            } catch {
                response = try map(error, request: request, context: context).response(from: request, context: context)
            }
        }
        metrics.request(
            method: request.method.rawValue, path: context.endpointPath ?? "unmatched", status: response.status.code)
        return response
    }

    private func map(_ error: any Error, request: Request, context: Context) -> APIError {
        switch error {
        case let error as APIError:
            return error
        case let error as InputError:
            return APIError.from(error)
        case let error as FilterError:
            return APIError.from(error)
        case let error as GraphError:
            return APIError.from(error)
        case let error as HTTPError:
            switch error.status {
            case .notFound:
                let allowed = routes.methods(matching: request.uri.path)
                guard !allowed.isEmpty else {
                    return .notFound("no route for \(request.method.rawValue) \(request.uri.path)")
                }
                var notAllowed = APIError(
                    .methodNotAllowed, code: "method_not_allowed",
                    "\(request.method.rawValue) is not allowed here; use \(allowed.map(\.rawValue).joined(separator: ", "))")
                notAllowed.extraHeaders[.allow] = allowed.map(\.rawValue).joined(separator: ", ")
                return notAllowed
            case .contentTooLarge:
                return .payloadTooLarge
            default:
                return APIError(error.status, code: "http_\(error.status.code)", error.body ?? error.status.reasonPhrase)
            }
        case let fault as HTTPClientFault:
            context.logger.debug("HTTP client fault", metadata: ["fault": "\(fault)"])
            return APIError.from(fault)
        case let error as StoreError:
            switch error.kind {
            case .unavailable:
                databaseFailures.record("unavailable", at: clock.now()) { suppressed in
                    context.logger.error("database failure", metadata: ["error": "\(error)", "suppressed": "\(suppressed)"])
                }
            // The caller's doing, not the server's: worth a line, not an alert.
            case .conflict, .invalid: context.logger.notice("database refused a change", metadata: ["error": "\(error)"])
            case .notFound: break
            }
            return APIError.from(error)
        default:
            // Not reachable by any input we know of; a 503 tells the sender to retry rather than drop.
            context.logger.error("unexpected failure", metadata: ["error": "\(error)"])
            return APIError(.serviceUnavailable, code: "unavailable", "the request could not be completed; retry later")
        }
    }
}
