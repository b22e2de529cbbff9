import Foundation

/// Renders a campaign's ledger rows at send time (ENGINE.md §5): the campaign's subject and
/// bodies (stored once, not once per recipient) over the contact and its unsubscribe link, with
/// the RFC 8058 one-click headers every broadcast carries. Templates without
/// `{{unsubscribe_url}}` get a footer link, so no broadcast goes out without one.
public struct CampaignMail: Sendable {
    let store: any CampaignRepository & ContactDirectory
    let links: any UnsubscribeLinks

    public init(store: any CampaignRepository & ContactDirectory, links: any UnsubscribeLinks) {
        self.store = store
        self.links = links
    }

    /// Each campaign row of `jobs` rendered, or why it cannot be sent; other rows as they are.
    public func render(_ jobs: [EmailJob]) async throws -> [Result<EmailJob, CampaignMailFailure>] {
        // Each campaign's templates parsed once per batch, not three parses per message.
        var campaigns: [Int64: Result<CampaignTemplates, CampaignMailFailure>] = [:]
        var rendered: [Result<EmailJob, CampaignMailFailure>] = []
        // One read for the batch's contacts (a read per recipient made 100,000 reads of 100,000).
        let contacts = try await store.templateContacts(jobs.filter { $0.campaignID != nil }.map(\.message.recipient))
        for job in jobs {
            guard let campaignID = job.campaignID, let contactID = job.contactID else {
                rendered.append(.success(job))
                continue
            }
            if campaigns[campaignID] == nil {
                campaigns[campaignID] = try await store.campaign(id: campaignID).map { CampaignTemplates.parse($0.definition) }
                    ?? .failure(CampaignMailFailure("campaign \(campaignID) no longer exists"))
            }
            guard case .success(let templates)? = campaigns[campaignID] else {
                if case .failure(let failure)? = campaigns[campaignID] { rendered.append(.failure(failure)) }
                continue
            }
            guard let contact = contacts[job.message.recipient] else {
                rendered.append(.failure(CampaignMailFailure("the contact was erased")))
                continue
            }
            let url = try await links.url(campaignID: campaignID, contactID: contactID)
            rendered.append(Self.render(job, templates, contact: contact, unsubscribeURL: url))
        }
        return rendered
    }

    /// A test message of a campaign to `contact` (a known contact, or a sample one): rendered as
    /// a recipient would get it, its subject marked `[Test]`, keyed anew each time, and not a
    /// row of the campaign, so it counts in none of its stats.
    public static func test(_ campaignID: Int64, _ definition: CampaignDefinition, to contact: Contact, unsubscribeURL: String)
        -> Result<NewEmailJob, CampaignMailFailure>
    {
        let row = EmailJob(
            id: 0,
            message: NewEmailJob(
                idempotencyKey: "campaign-test:\(campaignID):\(UUID().uuidString.lowercased())", recipient: contact.email, sender: definition.from,
                subject: "", html: nil, text: nil, stream: .broadcast, tag: definition.tag,
                metadata: JSON.object(["campaign_id": .int(campaignID), "test": .bool(true)]).serialized(),
                trackOpens: definition.trackOpens, trackLinks: definition.trackLinks),
            status: .queued, attempts: 0, nextAttemptAt: Timestamp(microseconds: 0), lastError: nil, provider: nil,
            providerMessageID: nil, createdAt: Timestamp(microseconds: 0), sentAt: nil)
        return CampaignTemplates.parse(definition).flatMap { render(row, $0, contact: contact, unsubscribeURL: unsubscribeURL) }.map { job in
            var message = job.message
            message.subject = "[Test] " + message.subject
            return message
        }
    }

    /// One row rendered: pure, so every rule is tested without a store.
    static func render(_ job: EmailJob, _ templates: CampaignTemplates, contact: Contact, unsubscribeURL: String)
        -> Result<EmailJob, CampaignMailFailure>
    {
        let definition = templates.definition
        let model = JSON.object(["contact": TemplateModel.contact(contact), "unsubscribe_url": .string(unsubscribeURL)])
        var job = job
        do {
            let subject = try templates.subject.render(model, escapeHTML: false, limits: .subject)
            guard MailHeader.isOneLine(subject), !subject.isEmpty else {
                return .failure(CampaignMailFailure("the subject renders to an empty or multi-line header"))
            }
            var html = try templates.html.render(model, escapeHTML: true, limits: .body)
            var text = try templates.text?.render(model, escapeHTML: false, limits: .body)
            if !templates.htmlLinksUnsubscribe {
                html += "<p style=\"font-size:12px;color:#666\"><a href=\"\(Self.attribute(unsubscribeURL))\">Unsubscribe</a></p>"
            }
            if let body = text, !templates.textLinksUnsubscribe { text = body + "\n\nUnsubscribe: \(unsubscribeURL)\n" }
            job.message.subject = subject
            job.message.html = html
            job.message.text = text
        } catch {
            return .failure(CampaignMailFailure("the campaign could not be rendered: \((error as? TemplateError)?.message ?? "\(error)")"))
        }
        job.message.sender = definition.from
        job.message.stream = .broadcast
        job.message.headers = [
            MailHeader(name: "List-Unsubscribe", value: "<\(unsubscribeURL)>"),
            MailHeader(name: "List-Unsubscribe-Post", value: "List-Unsubscribe=One-Click"),
        ] + (definition.replyTo.map { [MailHeader(name: "Reply-To", value: $0)] } ?? [])
        return .success(job)
    }
}

/// A campaign's subject and bodies, parsed once.
struct CampaignTemplates {
    let definition: CampaignDefinition
    let subject: Template
    let html: Template
    let text: Template?
    /// Whether the bodies place `{{unsubscribe_url}}` themselves (else a footer link is added);
    /// answered once per batch, not searched for in every message.
    let htmlLinksUnsubscribe: Bool
    let textLinksUnsubscribe: Bool

    static func parse(_ definition: CampaignDefinition) -> Result<CampaignTemplates, CampaignMailFailure> {
        do {
            return .success(
                CampaignTemplates(
                    definition: definition, subject: try Template(definition.subject, limits: .subject), html: try Template(definition.html),
                    text: try definition.text.map { try Template($0) },
                    htmlLinksUnsubscribe: definition.html.contains("unsubscribe_url"),
                    textLinksUnsubscribe: (definition.text ?? "").contains("unsubscribe_url")))
        } catch {
            return .failure(CampaignMailFailure("the campaign's templates do not parse: \((error as? TemplateError)?.message ?? "\(error)")"))
        }
    }
}

extension CampaignMail {
    /// Text safe inside a double-quoted HTML attribute.
    public static func attribute(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "\"", with: "&quot;")
            .replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
    }
}

/// Why a campaign's row cannot be sent; the row fails with it.
public struct CampaignMailFailure: Error, Sendable, Equatable {
    public let reason: String
    init(_ reason: String) { self.reason = reason }
}
