import CortexTestSupport
import Testing

@testable import Engine

/// What the walker reads for a claim (``ExecutionRepository/stepInputs(of:)``), on every store:
/// the same contact fields and tags the directory gives, the triggering events' data, nothing
/// for an erased contact, and claims larger than one statement's worth of parameters.
@Suite struct ExecutionStepInputsConformanceTests {
    static let t0 = AutomationRunConformanceTests.t0

    /// One execution per activity, of a one-step automation.
    static func executions(for activities: [Activity], in store: any Store) async throws -> [Execution] {
        let graph = #"""
            {"nodes": [{"id": "t", "type": "trigger", "data": {"event": "checkout.completed"}}, {"id": "tag", "type": "add_tag", "data": {"tag": "x"}}],
             "edges": [{"id": "e", "source": "t", "target": "tag"}]}
            """#
        let body = try #require(try JSONParser.parse(Array(#"{"name": "n", "graph": \#(graph), "reentry": "always"}"#.utf8)).objectValue)
        let automation = try await store.createAutomation(try AutomationDefinition.parse(body), at: t0)
        _ = try await store.setAutomationStatus(id: automation, from: .draft, to: .active, at: t0)
        _ = try await store.spawnExecutions(
            activities.map {
                ExecutionSpawn(
                    automationID: automation, version: 1, contactEmail: $0.contactEmail, triggerActivityID: $0.id, firstNodeID: "tag",
                    reentry: .always)
            }, at: t0)
        return try await store.claimExecutions(limit: activities.count, now: t0, leaseSeconds: 60)
    }

    static func checkout(_ email: EmailAddress, _ metadata: String, firstName: String?) -> NewActivity {
        NewActivity(type: "checkout.completed", contactEmail: email, occurredAt: t0, metadata: metadata, firstName: firstName)
    }

    @Test(arguments: StoreBackend.enabled)
    func theContactsAndEventsOfAClaimAsTheDirectoryHasThem(backend: StoreBackend) async throws {
        try await backend.withStore { store in
            let ada = EmailAddress("ada@example.com")!, bob = EmailAddress("bob@example.com")!, eve = EmailAddress("eve@example.com")!
            _ = try await store.ingest(
                InboundDelivery(source: "checkout", externalID: "three", receivedAt: Self.t0, headers: [], body: []),
                activities: [
                    Self.checkout(ada, #"{"product": "P2P", "amount": 4900}"#, firstName: "Ada"),
                    Self.checkout(bob, #"{"product": "Canva"}"#, firstName: nil),
                    Self.checkout(eve, "{}", firstName: "Eve"),
                    Self.checkout(ada, #"{"product": "Figma"}"#, firstName: "Ada"),
                ],
                suppressions: [])
            try await store.saveContact(
                ContactUpdate(
                    email: ada, lastName: "Lovelace", externalID: "u-1", timezone: "Europe/London",
                    attributes: JSONObject([(key: "plan", value: .string("pro"))])),
                at: Self.t0)
            _ = try await store.addTags(["P2P", "bundle", "Alpha"], to: ada, at: Self.t0)
            // The checkouts (the contact's save and tags wrote activities of their own).
            let activities = try await store.activities(after: 0, limit: 20).filter { $0.type == "checkout.completed" }
            let executions = try await Self.executions(for: activities, in: store)
            #expect(executions.count == 4)
            // Erased after the claim: its executions find no contact, and the walker fails them.
            #expect(try await store.eraseContact(eve))

            let inputs = try await store.stepInputs(of: executions)
            #expect(Set(inputs.contacts.keys) == [ada, bob])
            for email in [ada, bob] {
                let read = try #require(inputs.contacts[email])
                let full = try #require(try await store.contact(email: email))
                #expect(read.email == full.email && read.firstName == full.firstName && read.lastName == full.lastName)
                #expect(read.createdAt == full.createdAt && read.externalID == full.externalID && read.timezone == full.timezone)
                #expect(try JSONParser.parse(Array(read.attributes.utf8)) == JSONParser.parse(Array(full.attributes.utf8)))
                #expect(read.tags == full.tags)
            }
            #expect(inputs.contacts[ada]?.tags == ["Alpha", "bundle", "P2P"])
            #expect(inputs.contacts[ada]?.attributes.contains("pro") == true)
            // Every triggering event's data (erasing a contact erased its activities).
            let kept = activities.filter { $0.contactEmail != eve }
            #expect(kept.count == 3 && Set(inputs.events.keys) == Set(kept.map(\.id)))
            for activity in kept {
                let data = try #require(inputs.events[activity.id])
                #expect(try JSONParser.parse(Array(data.utf8)) == JSONParser.parse(Array(activity.metadata.utf8)))
            }
            #expect(try await store.stepInputs(of: []) == StepInputs())
        }
    }

    @Test(arguments: StoreBackend.enabled)
    func aClaimOfMoreThanOneStatementsWorthOfParameters(backend: StoreBackend) async throws {
        try await backend.withStore { store in
            let count = 600  // More than one SQLite statement takes (500 per slice)
            _ = try await store.ingest(
                InboundDelivery(source: "checkout", externalID: "many", receivedAt: Self.t0, headers: [], body: []),
                activities: (0..<count).map {
                    Self.checkout(EmailAddress("user\($0)@example.com")!, #"{"order": \#($0)}"#, firstName: "User \($0)")
                },
                suppressions: [])
            let activities = try await store.activities(after: 0, limit: count)
            let executions = try await Self.executions(for: activities, in: store)
            #expect(executions.count == count)
            let inputs = try await store.stepInputs(of: executions)
            #expect(inputs.contacts.count == count && inputs.events.count == count)
            #expect(inputs.contacts[EmailAddress("user599@example.com")!]?.firstName == "User 599")
        }
    }
}
