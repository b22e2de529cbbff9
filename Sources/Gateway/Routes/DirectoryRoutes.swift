import Engine
import Foundation
import Hummingbird

/// The directory (ENGINE.md §1): listing and searching contacts, creating or updating one, and
/// its tags. Every change that matters to automations writes its activity in the same
/// transaction (the store's promise).
struct DirectoryRoutes {
    let store: any ContactDirectory
    let clock: any WallClock

    func register(on routes: RouteRegistrar) {
        routes.add(.get, "/v1/contacts") { request, _ in
            let parameters = request.uri.queryParameters
            return JSONResponse.make(
                .ok, try await ContactPage.json(try listingFilter(parameters), parameters: parameters, store: store, at: clock.now()))
        }
        routes.add(.put, "/v1/contacts/{email}") { request, context in
            let email = try PathEmail.parse(context.parameters.get("email"))
            let object = try InboundPayload.parseObject(try await BodyLimit.collect(request))
            try await store.saveContact(try ContactRequest.parse(object, email: email), at: clock.now())
            guard let contact = try await store.contact(email: email) else { throw APIError.notFound("no contact \(email.value)") }
            return JSONResponse.make(.ok, ResourceJSON.contact(contact))
        }
        routes.add(.delete, "/v1/contacts/{email}") { _, context in
            let email = try PathEmail.parse(context.parameters.get("email"))
            guard try await store.eraseContact(email) else { throw APIError.notFound("no contact \(email.value)") }
            return Response(status: .noContent)
        }
        routes.add(.post, "/v1/contacts/{email}/tags") { request, context in
            let email = try PathEmail.parse(context.parameters.get("email"))
            let object = try InboundPayload.parseObject(try await BodyLimit.collect(request))
            let tags = try ContactRequest.tags(object["tags"])
            let added = try await store.addTags(tags, to: email, at: clock.now())
            guard let contact = try await store.contact(email: email) else { throw APIError.notFound("no contact \(email.value)") }
            return JSONResponse.make(.ok, .object(["added": .array(added.map(JSON.string)), "tags": .array(contact.tags.map(JSON.string))]))
        }
        routes.add(.delete, "/v1/contacts/{email}/tags/{tag}") { _, context in
            let email = try PathEmail.parse(context.parameters.get("email"))
            let raw = context.parameters.get("tag") ?? ""
            let tag = raw.removingPercentEncoding ?? raw
            guard try await store.removeTag(tag, from: email, at: clock.now()) else {
                throw APIError.notFound("\(email.value) has no tag \"\(tag)\"")
            }
            return Response(status: .noContent)
        }
    }

    /// `q`, `tag`, `list_id` and `filter` together: a contact must match every one given.
    private func listingFilter(_ parameters: Parameters) throws -> Filter {
        var clauses: [Filter] = []
        if let q = parameters["q"].map(String.init), !q.isEmpty {
            guard q.utf8.count <= FilterParser.maximumStringBytes else {
                throw APIError.invalidParameter("q", "must be at most \(FilterParser.maximumStringBytes) bytes")
            }
            var fields: [Filter] = []
            for field in ["email", "first_name", "last_name"] {
                do {
                    fields.append(try FilterParser.parse(.object(["field": .string(field), "op": .string("contains"), "value": .string(q)])))
                } catch {
                    throw APIError.invalidParameter("q", error.message)
                }
            }
            clauses.append(.any(fields))
        }
        if let tag = parameters["tag"].map(String.init), !tag.isEmpty {
            clauses.append(try FilterParser.parse(.object(["tag": .string(tag)])))
        }
        if let raw = parameters["list_id"].map(String.init), !raw.isEmpty {
            guard let id = Int64(raw), id > 0 else { throw APIError.invalidParameter("list_id", "must be a smart list id") }
            clauses.append(.list(id))
        }
        if let raw = parameters["filter"].map(String.init), !raw.isEmpty {
            let document: JSON
            do throws(JSONParser.Failure) {
                document = try JSONParser.parse(Array(raw.utf8))
            } catch {
                // A repeated key is refused with the same code as in a body: one rule for all JSON.
                if error.isDuplicateKey { throw InputError.json(error) }
                throw APIError.invalidParameter("filter", "must be a URL-encoded filter document: \(error)")
            }
            clauses.append(try FilterParser.parse(document))
        }
        return clauses.isEmpty ? .everyone : .all(clauses)
    }
}

