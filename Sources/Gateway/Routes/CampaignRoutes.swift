import Engine
import Hummingbird

/// Campaigns (ENGINE.md §5): create, list, read, replace and delete them while they are drafts
/// or scheduled; send (now or at a time) and cancel them.
struct CampaignRoutes {
    let store: any CampaignRepository & SmartListRepository & ContactDirectory & EmailLedger
    let clock: any WallClock
    let defaultFrom: String?
    let publicURL: String?

    func register(on routes: RouteRegistrar) {
        routes.add(.post, "/v1/campaigns") { request, _ in
            let definition = try await definition(request)
            let id = try await store.createCampaign(definition, at: clock.now())
            return JSONResponse.make(.created, try await json(try await found(id)))
        }
        routes.add(.get, "/v1/campaigns") { _, _ in
            JSONResponse.make(.ok, .object(["data": .array(try await campaignsJSON())]))
        }
        routes.add(.get, "/v1/campaigns/{id}") { _, context in
            JSONResponse.make(.ok, try await json(try await found(try PathID.parse(context, "campaign"))))
        }
        routes.add(.put, "/v1/campaigns/{id}") { request, context in
            let id = try PathID.parse(context, "campaign")
            let definition = try await definition(request)
            do {
                guard let updated = try await store.updateCampaign(id: id, definition, at: clock.now()) else {
                    throw APIError.notFound("no campaign \(id)")
                }
                return JSONResponse.make(.ok, try await json(updated))
            } catch let error as StoreError where error.kind == .conflict {
                throw APIError(.conflict, code: "campaign_not_editable", "campaign \(id) can no longer change: \(error.message)")
            }
        }
        routes.add(.post, "/v1/campaigns/{id}/send") { request, context in
            JSONResponse.make(.ok, try await json(try await send(try PathID.parse(context, "campaign"), request)))
        }
        routes.add(.get, "/v1/campaigns/{id}/preview") { _, context in try await preview(try PathID.parse(context, "campaign")) }
        routes.add(.get, "/v1/campaigns/{id}/timeline") { request, context in
            try await timeline(try PathID.parse(context, "campaign"), request)
        }
        routes.add(.post, "/v1/campaigns/{id}/test") { request, context in
            JSONResponse.make(.accepted, try await test(try PathID.parse(context, "campaign"), request))
        }
        routes.add(.post, "/v1/campaigns/{id}/cancel") { _, context in
            let id = try PathID.parse(context, "campaign")
            do {
                guard let cancelled = try await store.cancelCampaign(id: id, at: clock.now()) else {
                    throw APIError.notFound("no campaign \(id)")
                }
                return JSONResponse.make(.ok, try await json(cancelled))
            } catch let error as StoreError where error.kind == .conflict {
                throw APIError(.conflict, code: "invalid_transition", "cannot cancel campaign \(id): \(error.message)")
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

    /// `{"at": TIME?}`: now, or at a time; a second send is a 409.
    private func send(_ id: Int64, _ request: Request) async throws -> Campaign {
        guard publicURL != nil else {
            throw APIError(
                .conflict, code: "public_url_required",
                "set CORTEX_PUBLIC_URL before sending a campaign: every broadcast carries a one-click unsubscribe link")
        }
        let body = try await BodyLimit.collect(request)
        let object = body.isEmpty ? JSONObject() : try InboundPayload.parseObject(body)
        if let unknown = object.members.first(where: { $0.key != "at" }) {
            throw InputError.invalidField(unknown.key, "is not a field of a send; give {\"at\": TIME} or nothing for now")
        }
        let now = clock.now()
        var at = now
        if let value = object["at"], !value.isNull {
            guard let text = value.stringValue, let time = RFC3339.parse(text) else { throw InputError.invalidTimestamp("at") }
            at = max(time, now)
        }
        do {
            guard let scheduled = try await store.scheduleCampaign(id: id, at: at, now: now) else {
                throw APIError.notFound("no campaign \(id)")
            }
            return scheduled
        } catch let error as StoreError where error.kind == .conflict {
            throw APIError(.conflict, code: "campaign_already_sent", "campaign \(id) cannot be sent again: \(error.message)")
        }
    }

    /// `{"to": ["me@example.com", ...]}`: up to 10 test messages, each rendered for the contact
    /// with that address, or for a sample contact when there is none, through the ledger.
    private func test(_ id: Int64, _ request: Request) async throws -> JSON {
        guard let publicURL else {
            throw APIError(
                .conflict, code: "public_url_required",
                "set CORTEX_PUBLIC_URL before sending a campaign: every broadcast carries a one-click unsubscribe link")
        }
        let object = try InboundPayload.parseObject(try await BodyLimit.collect(request))
        guard object.members.allSatisfy({ $0.key == "to" }), case .array(let items)? = object["to"], (1...10).contains(items.count)
        else { throw InputError.invalidField("to", "must be an array of 1 to 10 email addresses") }
        let addresses = try items.map { (item) throws(InputError) -> EmailAddress in
            guard let text = item.stringValue, let address = EmailAddress(text) else {
                throw InputError.invalidField("to", "must hold email addresses only")
            }
            return address
        }
        let campaign = try await found(id)
        var messages: [NewEmailJob] = []
        for address in addresses {
            let contact =
                try await store.contact(email: address)
                ?? sampleContact(address)
            // A test message names no campaign row, so its link is a sample that unsubscribes nobody.
            switch CampaignMail.test(id, campaign.definition, to: contact, unsubscribeURL: publicURL + "/u/test") {
            case .success(let message): messages.append(message)
            case .failure(let failure): throw InputError(code: "render_failed", message: failure.reason)
            }
        }
        let queued = try await store.enqueueEmails(messages, at: clock.now())
        return .object(["data": .array(queued.map { ResourceJSON.message($0.job, duplicate: false) })])
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

    /// Who a test or a preview is rendered for when no contact has the address.
    func sampleContact(_ address: EmailAddress) -> Contact {
        Contact(email: address, firstName: "Sample", lastName: "Contact", createdAt: clock.now(), tags: [], suppression: nil)
    }

    func found(_ id: Int64) async throws -> Campaign {
        guard let campaign = try await store.campaign(id: id) else { throw APIError.notFound("no campaign \(id)") }
        return campaign
    }

    private func campaignsJSON() async throws -> [JSON] {
        var data: [JSON] = []
        for campaign in try await store.campaigns() { data.append(try await json(campaign)) }
        return data
    }

    /// A campaign as the API answers it, with its ledger counts. A campaign is `sent` once its
    /// last chunk was fanned out and none of its messages is still queued or being sent.
    func json(_ campaign: Campaign) async throws -> JSON {
        let counts = try await store.campaignLedgerCounts(id: campaign.id)
        let engagement = try await store.campaignEngagement(id: campaign.id)
        let count = { (status: EmailStatus) -> Int in counts[status] ?? 0 }
        var status = campaign.status
        if status == .sending, campaign.fanOutAfter == nil, count(.queued) + count(.sending) == 0 { status = .sent }
        var stats: [(key: String, value: JSON)] = [
            ("recipients", .int(Int64(counts.values.reduce(0, +)))), ("queued", .int(Int64(count(.queued) + count(.sending)))),
            ("sent", .int(Int64(count(.sent)))), ("failed", .int(Int64(count(.failed)))),
            ("suppressed", .int(Int64(count(.suppressed)))), ("cancelled", .int(Int64(count(.cancelled)))),
        ]
        for (stat, type) in CampaignFanOut.engagement { stats.append((stat, .int(Int64(engagement[type] ?? 0)))) }
        var object = JSONObject([("id", .int(campaign.id))])
        object.members += campaign.definition.json.members
        object.members.append(("status", .string(status.rawValue)))
        object.members.append(("scheduled_at", campaign.scheduledAt.map { .string(RFC3339.format($0)) } ?? .null))
        object.members.append(("stats", .object(JSONObject(stats))))
        object.members.append(("created_at", .string(RFC3339.format(campaign.createdAt))))
        object.members.append(("updated_at", .string(RFC3339.format(campaign.updatedAt))))
        return .object(object)
    }
}
