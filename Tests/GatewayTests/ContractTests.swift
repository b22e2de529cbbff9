import Engine
import Foundation
import Testing

@testable import Gateway

/// The files in `contracts/` describe the API the server actually serves.
@Suite struct ContractTests {
    static let contracts = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("contracts")

    static func load(_ name: String) throws -> JSON {
        let data = try Data(contentsOf: contracts.appendingPathComponent(name))
        return try JSONParser.parse([UInt8](data))
    }

    @Test func theOpenAPISpecListsExactlyTheServedRoutes() async throws {
        let app = try await TestApp.make()
        let served = Set(buildRoutes(app.dependencies).table.entries.map { "\($0.method.rawValue) \($0.path)" })
        let paths = try #require(try Self.load("openapi.json")["paths"]?.objectValue)
        let documented = Set(
            paths.members.flatMap { path in
                (path.value.objectValue?.members ?? []).map { "\($0.key.uppercased()) \(path.key)" }
            })
        #expect(served.subtracting(documented).isEmpty, "served but not in contracts/openapi.json")
        #expect(documented.subtracting(served).isEmpty, "in contracts/openapi.json but not served")
    }

    @Test func anActivityHasExactlyTheFieldsOfItsSchema() async throws {
        let schema = try Self.load("schemas/activity.schema.json")
        let required = Set(try #require(schema["required"]?.arrayValue).compactMap(\.stringValue))
        let activity = Activity(
            id: 1, type: "checkout.completed", contactEmail: EmailAddress("a@b.io")!, occurredAt: TestApp.start,
            receivedAt: TestApp.start, source: "checkout", sourceEventID: nil, metadata: "{}")
        let fields = Set(try #require(ResourceJSON.activity(activity).objectValue).members.map(\.key))
        #expect(fields == required)
    }

    @Test func anArchivedDeliveryHasExactlyTheFieldsOfItsSchema() async throws {
        let schema = try #require(try Self.load("openapi.json")["components"]?["schemas"]?["InboundEvent"])
        let required = Set(try #require(schema["required"]?.arrayValue).compactMap(\.stringValue))
        let documented = Set(try #require(schema["properties"]?.objectValue).members.map(\.key))
        let event = InboundEvent(
            id: 1, source: "checkout", externalID: nil, receivedAt: TestApp.start, headers: "{}", body: [],
            verdict: .accepted, reason: nil)
        let fields = Set(try #require(ResourceJSON.inbound(event).objectValue).members.map(\.key))
        #expect(fields == required)
        #expect(fields == documented)
    }
}
