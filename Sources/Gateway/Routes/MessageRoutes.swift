import Engine
import Hummingbird

/// The transactional send API: messages go into the ledger; the sender delivers them.
struct MessageRoutes {
    static let maximumBatch = 500

    let store: any EmailLedger
    let clock: any WallClock
    let defaultFrom: String?

    func register(on routes: RouteRegistrar) {
        routes.add(.post, "/v1/messages") { request, _ in
            let object = try InboundPayload.parseObject(try await BodyLimit.collect(request))
            let message = try MessageRequest.parse(object, defaultFrom: defaultFrom)
            let (job, created) = try await store.enqueueEmail(message, at: clock.now())
            return JSONResponse.make(.accepted, ResourceJSON.message(job, duplicate: !created))
        }
        routes.add(.post, "/v1/messages/batch") { request, _ in
            let body = try await BodyLimit.collect(request)
            let root: JSON
            do throws(JSONParser.Failure) {
                root = try JSONParser.parse(body)
            } catch {
                throw InputError.json(error)
            }
            guard case .array(let items) = root, !items.isEmpty, items.count <= Self.maximumBatch else {
                throw InputError.invalidField("body", "must be an array of 1 to \(Self.maximumBatch) messages")
            }
            // Each message stands alone: one bad message does not refuse the others. The valid
            // ones are queued together, in one transaction (one fsync, not one per message).
            var results: [JSON?] = []
            var valid: [(index: Int, message: NewEmailJob)] = []
            for (index, item) in items.enumerated() {
                // Each message's templates are bounded, but 500 of them at the bound are seconds
                // of work: let other requests (health checks among them) run between messages.
                await Task.yield()
                do {
                    guard let object = item.objectValue, !item.containsNUL else {
                        throw InputError.invalidField("[\(index)]", "must be a message object")
                    }
                    valid.append((index, try MessageRequest.parse(object, defaultFrom: defaultFrom)))
                    results.append(nil)
                } catch let error as InputError {
                    results.append(APIError.from(error).body)
                }
            }
            let queued = try await store.enqueueEmails(valid.map(\.message), at: clock.now())
            for (entry, (job, created)) in zip(valid, queued) { results[entry.index] = ResourceJSON.message(job, duplicate: !created) }
            return JSONResponse.make(.accepted, .object(["data": .array(results.map { $0 ?? .null })]))
        }
        routes.add(.get, "/v1/messages/{id}") { request, context in
            guard let job = try await store.emailJob(id: try PathID.parse(context, "message")) else {
                throw APIError.notFound("no message with that id")
            }
            return JSONResponse.make(.ok, ResourceJSON.message(job, duplicate: nil, withContent: true))
        }
        routes.add(.get, "/v1/messages") { request, _ in
            let parameters = request.uri.queryParameters
            var query = EmailJobQuery(limit: try ListLimit.parse(parameters["limit"]))
            if let raw = parameters["email"].map(String.init), !raw.isEmpty {
                guard let email = EmailAddress(raw) else { throw APIError.invalidParameter("email", "is not a valid email address") }
                query.email = email
            }
            if let raw = parameters["status"].map(String.init), !raw.isEmpty {
                guard let status = EmailStatus(rawValue: raw) else {
                    throw APIError.invalidParameter(
                        "status", "must be one of " + EmailStatus.allCases.map(\.rawValue).joined(separator: ", "))
                }
                query.status = status
            }
            query.before = try CursorPage.cursor(parameters)
            let limit = query.limit
            query.limit += 1
            return JSONResponse.make(
                .ok, CursorPage.json(try await store.emailJobs(query), limit: limit, id: \.id) { ResourceJSON.message($0, duplicate: nil) })
        }
    }
}
