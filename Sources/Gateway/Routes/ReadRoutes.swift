import Engine
import Foundation
import Hummingbird

/// Read access to the activity feed and the contact directory.
struct ReadRoutes {
    let store: any ActivityFeed & ContactDirectory

    func register(on routes: RouteRegistrar) {
        routes.add(.get, "/v1/activities") { request, _ in
            var query = try activityQuery(request)
            let limit = query.limit
            query.limit += 1
            let activities: [Activity]
            do {
                activities = try await store.activities(query)
            } catch let error as StoreError where error.kind == .notFound && query.before != nil {
                // The cursor's activity is gone (erased with its contact, or removed by a replay):
                // the feed's order has no place to go on from, so say so instead of ending early.
                throw APIError.invalidParameter("cursor", "names an activity that no longer exists; start again without a cursor")
            }
            return JSONResponse.make(.ok, CursorPage.json(activities, limit: limit, id: \.id, ResourceJSON.activity))
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
        query.before = try CursorPage.cursor(parameters)
        return query
    }
}
