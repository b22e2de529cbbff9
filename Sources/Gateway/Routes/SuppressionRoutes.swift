import Engine
import Foundation
import Hummingbird

/// Suppressed addresses: list them, and lift one by hand.
struct SuppressionRoutes {
    let store: any SuppressionRepository

    func register(on routes: RouteRegistrar) {
        routes.add(.get, "/v1/suppressions") { request, _ in
            let limit = try ListLimit.parse(request.uri.queryParameters["limit"])
            let suppressed = try await store.suppressions(limit: limit)
            return JSONResponse.make(.ok, .object(["data": .array(suppressed.map(ResourceJSON.suppressed))]))
        }
        routes.add(.delete, "/v1/suppressions/{email}") { request, context in
            let email = try PathEmail.parse(context.parameters.get("email"))
            guard try await store.liftSuppression(email: email) else {
                throw APIError.notFound("\(email.value) is not suppressed")
            }
            return Response(status: .noContent)
        }
    }
}
