import Engine
import Hummingbird

/// Smart lists (ENGINE.md §3): saved filters, resolved in real time whenever they are read.
struct SmartListRoutes {
    static let sampleSize = 20

    let store: any ContactDirectory & SmartListRepository
    let clock: any WallClock

    func register(on routes: RouteRegistrar) {
        routes.add(.post, "/v1/lists") { request, _ in
            let (name, document) = try await listBody(request)
            try await checkReferences(document, replacing: nil)
            let id = try await store.createSmartList(name: name, filter: document.json, at: clock.now())
            return JSONResponse.make(.created, try await listJSON(try await found(id)))
        }
        routes.add(.get, "/v1/lists") { _, _ in
            var data: [JSON] = []
            for list in try await store.smartLists() { data.append(try await listJSON(list)) }
            return JSONResponse.make(.ok, .object(["data": .array(data)]))
        }
        routes.add(.post, "/v1/lists/preview") { request, _ in
            let object = try InboundPayload.parseObject(try await BodyLimit.collect(request))
            let filter = try FilterDocument(object["filter"]).filter
            let now = clock.now()
            let page = try await store.contactEmails(matching: filter, after: nil, limit: Self.sampleSize, at: now)
            return JSONResponse.make(
                .ok,
                .object([
                    "count": .int(try await store.countContacts(matching: filter, at: now)),
                    "sample": .array(try await ContactPage.contacts(page.emails, store: store)),
                ]))
        }
        routes.add(.get, "/v1/lists/{id}") { _, context in
            JSONResponse.make(.ok, try await listJSON(try await found(try PathID.parse(context, "smart list"))))
        }
        routes.add(.put, "/v1/lists/{id}") { request, context in
            let id = try PathID.parse(context, "smart list")
            _ = try await found(id)
            let (name, document) = try await listBody(request)
            try await checkReferences(document, replacing: id)
            guard try await store.updateSmartList(id: id, name: name, filter: document.json, at: clock.now()) else {
                throw APIError.notFound("no smart list \(id)")
            }
            return JSONResponse.make(.ok, try await listJSON(try await found(id)))
        }
        routes.add(.delete, "/v1/lists/{id}") { _, context in
            let id = try PathID.parse(context, "smart list")
            _ = try await found(id)
            // A list another list names would leave that one unusable; say which instead.
            for other in try await store.smartLists() where other.id != id {
                if (try? FilterParser.parse(other.filter))?.referencedLists.contains(id) == true {
                    throw APIError(.conflict, code: "list_in_use", "smart list \(other.id) (\(other.name)) uses this list")
                }
            }
            guard try await store.deleteSmartList(id: id) else { throw APIError.notFound("no smart list \(id)") }
            return Response(status: .noContent)
        }
        routes.add(.get, "/v1/lists/{id}/members") { request, context in
            let list = try await found(try PathID.parse(context, "smart list"))
            return JSONResponse.make(
                .ok,
                try await ContactPage.json(
                    try FilterParser.parse(list.filter), parameters: request.uri.queryParameters, store: store, at: clock.now()))
        }
    }

    private func found(_ id: Int64) async throws -> SmartList {
        guard let list = try await store.smartList(id: id) else { throw APIError.notFound("no smart list \(id)") }
        return list
    }

    private func listBody(_ request: Request) async throws -> (String, FilterDocument) {
        let object = try InboundPayload.parseObject(try await BodyLimit.collect(request))
        guard let name = object["name"]?.stringValue?.trimmingASCIIWhitespace(), !name.isEmpty, name.utf8.count <= 255 else {
            throw InputError.invalidField("name", "must be a name of 1 to 255 bytes")
        }
        return (name, try FilterDocument(object["filter"]))
    }

    /// Refuses a filter naming a missing list, or one that would make a cycle once `replacing`
    /// (the list being edited) holds it.
    private func checkReferences(_ document: FilterDocument, replacing id: Int64?) async throws {
        let lists = try await store.referencedListFilters(of: document.filter)
        if let id, lists[id] != nil || document.filter.referencedLists.contains(id) {
            throw FilterError(path: "", message: "would make smart list \(id) reference itself")
        }
        _ = try FilterCompiler.compile(document.filter, dialect: .sqlite, now: clock.now(), lists: lists)
    }

    private func listJSON(_ list: SmartList) async throws -> JSON {
        let count = try await store.countContacts(matching: try FilterParser.parse(list.filter), at: clock.now())
        return .object([
            "id": .int(list.id), "name": .string(list.name), "filter": list.filter, "count": .int(count),
            "created_at": .string(RFC3339.format(list.createdAt)), "updated_at": .string(RFC3339.format(list.updatedAt)),
        ])
    }
}

/// A `filter` member of a request body, validated.
struct FilterDocument {
    let json: JSON
    let filter: Filter

    init(_ value: JSON?) throws {
        guard let value else { throw FilterError(path: "", message: "is missing: give \"filter\"") }
        json = value
        filter = try FilterParser.parse(value)
    }
}
