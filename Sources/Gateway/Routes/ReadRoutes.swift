import Engine
import Foundation
import Hummingbird

/// Read access to the activity feed and the contact directory.
struct ReadRoutes {
    static let defaultLimit = 50
    static let maximumLimit = 1000

    let store: any Store
    let authenticator: APIKeyAuthenticator

    func register(on routes: RouteRegistrar) {
        routes.add(.get, "/v1/activities") { request, _ in
            try await authenticator.authenticate(request)
            let query = try activityQuery(request)
            let activities = try await store.activities(query)
            return JSONResponse.make(.ok, .object(["data": .array(activities.map(ResourceJSON.activity))]))
        }
        routes.add(.get, "/v1/contacts/{email}") { request, context in
            try await authenticator.authenticate(request)
            let raw = context.parameters.get("email") ?? ""
            let decoded = raw.removingPercentEncoding ?? raw
            guard let email = EmailAddress(decoded) else {
                throw APIError(.badRequest, code: "invalid_email", "\"\(decoded)\" is not a valid email address")
            }
            guard let contact = try await store.contact(email: email) else {
                throw APIError.notFound("no contact with email \(email.value)")
            }
            return JSONResponse.make(.ok, ResourceJSON.contact(contact))
        }
    }

    func activityQuery(_ request: Request) throws -> ActivityQuery {
        let parameters = request.uri.queryParameters
        var query = ActivityQuery(limit: Self.defaultLimit)
        if let raw = parameters["email"].map(String.init), !raw.isEmpty {
            guard let email = EmailAddress(raw) else {
                throw APIError.invalidParameter("email", "is not a valid email address")
            }
            query.email = email
        }
        if let type = parameters["type"].map(String.init), !type.isEmpty {
            query.type = type
        }
        if let raw = parameters["limit"].map(String.init) {
            guard let limit = Int(raw), (1...Self.maximumLimit).contains(limit) else {
                throw APIError.invalidParameter("limit", "must be an integer from 1 to \(Self.maximumLimit)")
            }
            query.limit = limit
        }
        return query
    }
}
