import Engine
import Hummingbird

/// Liveness, readiness and metrics: unauthenticated, for load balancers and Prometheus.
struct HealthRoutes {
    let store: any Store
    let metrics: CortexMetrics
    let senderStatus: SenderStatus

    func register(on routes: RouteRegistrar) {
        routes.add(.get, "/healthz") { _, _ in
            JSONResponse.make(.ok, .object(["status": .string("ok")]))
        }
        routes.add(.get, "/readyz") { _, context in
            do {
                try await store.ping()
            } catch {
                context.logger.warning("readiness check failed", metadata: ["error": "\(error)"])
                throw APIError.databaseUnavailable
            }
            // A paused sender does not make the instance unready (it still accepts events), but
            // says why here, as the log does.
            let sender: JSON = senderStatus.pausedReason.map { .string("paused: \($0)") } ?? .string("ok")
            return JSONResponse.make(
                .ok, .object(["status": .string("ready"), "database": .string("ok"), "sender": sender]))
        }
        routes.add(.get, "/metrics") { _, _ in
            Response(
                status: .ok,
                headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: ResponseBody(byteBuffer: ByteBuffer(bytes: metrics.exposition())))
        }
    }
}
