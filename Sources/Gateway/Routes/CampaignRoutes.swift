import Engine
import Hummingbird

/// Campaigns (ENGINE.md §5): create, list, read, replace and delete them while they are drafts
/// or scheduled.
struct CampaignRoutes {
    let store: any CampaignRepository & SmartListRepository
    let clock: any WallClock
    let defaultFrom: String?

    func register(on routes: RouteRegistrar) {
        routes.add(.post, "/v1/campaigns") { request, _ in
            let definition = try await definition(request)
            let id = try await store.createCampaign(definition, at: clock.now())
            return JSONResponse.make(.created, Self.json(try await found(id)))
        }
        routes.add(.get, "/v1/campaigns") { _, _ in
            JSONResponse.make(.ok, .object(["data": .array(try await store.campaigns().map(Self.json))]))
        }
        routes.add(.get, "/v1/campaigns/{id}") { _, context in
            JSONResponse.make(.ok, Self.json(try await found(try PathID.parse(context, "campaign"))))
        }
        routes.add(.put, "/v1/campaigns/{id}") { request, context in
            let id = try PathID.parse(context, "campaign")
            let definition = try await definition(request)
            do {
                guard let updated = try await store.updateCampaign(id: id, definition, at: clock.now()) else {
                    throw APIError.notFound("no campaign \(id)")
                }
                return JSONResponse.make(.ok, Self.json(updated))
            } catch let error as StoreError where error.kind == .conflict {
                throw APIError(.conflict, code: "campaign_not_editable", "campaign \(id) can no longer change: \(error.message)")
            }
        }
        routes.add(.delete, "/v1/campaigns/{id}") { _, context in
            let id = try PathID.parse(context, "campaign")
            do {
                guard try await store.deleteCampaign(id: id) else { throw APIError.notFound("no campaign \(id)") }
                return Response(status: .noContent)
            } catch let error as StoreError where error.kind == .conflict {
                throw APIError(.conflict, code: "campaign_not_editable", "campaign \(id) can no longer be deleted: \(error.message)")
            }
        }
    }

    /// The body as a definition whose smart list exists.
    private func definition(_ request: Request) async throws -> CampaignDefinition {
        let definition = try CampaignDefinition.parse(
            try InboundPayload.parseObject(try await BodyLimit.collect(request)), defaultFrom: defaultFrom)
        if case .list(let listID) = definition.audience, try await store.smartList(id: listID) == nil {
            throw InputError.invalidField("list_id", "no smart list \(listID)")
        }
        return definition
    }

    private func found(_ id: Int64) async throws -> Campaign {
        guard let campaign = try await store.campaign(id: id) else { throw APIError.notFound("no campaign \(id)") }
        return campaign
    }

    /// A campaign as the API answers it.
    static func json(_ campaign: Campaign) -> JSON {
        var object = JSONObject([("id", .int(campaign.id))])
        object.members += campaign.definition.json.members
        object.members += [
            ("status", .string(campaign.status.rawValue)),
            ("scheduled_at", campaign.scheduledAt.map { .string(RFC3339.format($0)) } ?? .null),
            ("created_at", .string(RFC3339.format(campaign.createdAt))),
            ("updated_at", .string(RFC3339.format(campaign.updatedAt))),
        ]
        return .object(object)
    }
}
