import Engine
import Foundation
import Hummingbird

/// Read access to the activity feed and the contact directory.
struct ReadRoutes {
    let store: any ActivityFeed & ContactDirectory

    func register(on routes: RouteRegistrar) {
        routes.add(.get, "/v1/activities") { request, _ in
            let query = try activityQuery(request)
            let activities = try await store.activities(query)
            return JSONResponse.make(.ok, .object(["data": .array(activities.map(ResourceJSON.activity))]))
        }
        routes.add(.get, "/v1/contacts/{email}") { request, context in
            let email = try PathEmail.parse(context.parameters.get("email"))
            guard let contact = try await store.contact(email: email) else {
                throw APIError.notFound("no contact with email \(email.value)")
            }
            return JSONResponse.make(.ok, ResourceJSON.contact(contact))
        }
    }

    func activityQuery(_ request: Request) throws -> ActivityQuery {
        let parameters = request.uri.queryParameters
        var query = ActivityQuery()
        if let raw = parameters["email"].map(String.init), !raw.isEmpty {
            guard let email = EmailAddress(raw) else {
                throw APIError.invalidParameter("email", "is not a valid email address")
            }
            query.email = email
        }
        if let type = parameters["type"].map(String.init), !type.isEmpty {
            query.type = type
        }
        query.limit = try ListLimit.parse(parameters["limit"])
        return query
    }
}
