import Engine
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing
import CortexTestSupport

@testable import Gateway

/// One fixture: a provider payload in `contracts/fixtures/<provider>/<name>.json` and, beside it,
/// `<name>.expected.json` with the answer and the normalized activities.
struct ProviderFixture: CustomTestStringConvertible, Sendable {
    let provider: String
    let name: String
    let body: [UInt8]
    let expected: JSON

    var testDescription: String { "\(provider)/\(name)" }

    static let directory = ContractTests.contracts.appendingPathComponent("fixtures")

    static var all: [ProviderFixture] {
        let manager = FileManager.default
        let providers = ((try? manager.contentsOfDirectory(atPath: directory.path)) ?? []).sorted()
        return providers.flatMap { provider -> [ProviderFixture] in
            let folder = directory.appendingPathComponent(provider)
            let files = ((try? manager.contentsOfDirectory(atPath: folder.path)) ?? []).sorted()
            return files.filter { $0.hasSuffix(".json") && !$0.hasSuffix(".expected.json") }.compactMap { file in
                let name = String(file.dropLast(".json".count))
                guard let body = manager.contents(atPath: folder.appendingPathComponent(file).path),
                    let expected = manager.contents(atPath: folder.appendingPathComponent("\(name).expected.json").path),
                    let parsed = try? JSONParser.parse([UInt8](expected))
                else { return nil }
                return ProviderFixture(provider: provider, name: name, body: [UInt8](body), expected: parsed)
            }
        }
    }
}

@Suite struct ProviderFixtureTests {
    @Test func everyProviderHasFixtures() {
        let providers = Set(ProviderFixture.all.map(\.provider))
        #expect(providers == ["checkout", "postmark", "stripe", "thinkific"])
        #expect(ProviderFixture.all.count >= 25)
    }

    @Test(arguments: StoreBackend.enabled, ProviderFixture.all)
    func aFixtureNormalizesAsExpectedAndOnlyOnce(backend: StoreBackend, fixture: ProviderFixture) async throws {
        try await TestApp.with(backend) { app in try await Self.check(fixture, app) }
    }

    static func check(_ fixture: ProviderFixture, _ app: TestApp) async throws {
        let expected = fixture.expected
        var headers = try app.providerHeaders(fixture.provider, body: fixture.body, eventID: "msg_\(fixture.name)")
        for member in expected["request_headers"]?.objectValue?.members ?? [] {
            headers[HTTPField.Name(member.key)!] = member.value.stringValue
        }
        let status = try #require(expected["status"].flatMap { value -> Int? in
            if case .number(let text) = value { return Int(text) }
            return nil
        })
        let sent = headers
        try await app.test { client in
            let uri = "/webhooks/\(fixture.provider)"
            let response = try await client.execute(uri: uri, method: .post, headers: sent, body: ByteBuffer(bytes: fixture.body))
            #expect(Int(response.status.code) == status)
            if let code = expected["error_code"]?.stringValue {
                #expect(response.errorCode == code)
            }
            guard status == 202 else { return }
            // The provider retries: the same event again is a duplicate and writes nothing new.
            let again = try await client.execute(uri: uri, method: .post, headers: sent, body: ByteBuffer(bytes: fixture.body))
            #expect(again.status == .accepted)
            #expect(again.json["duplicate"] == .bool(true))
            #expect(again.json["activity_ids"] == response.json["activity_ids"])
        }

        let activities = try await app.store.activities(ActivityQuery(limit: 100)).sorted { $0.id < $1.id }
        let wanted = expected["activities"]?.arrayValue ?? []
        #expect(activities.count == wanted.count)
        for (activity, want) in zip(activities, wanted) {
            #expect(activity.type == want["type"]?.stringValue)
            #expect(activity.contactEmail.value == want["contact_email"]?.stringValue)
            #expect(RFC3339.format(activity.occurredAt) == want["occurred_at"]?.stringValue)
            #expect(activity.source == fixture.provider)
            let metadata = try JSONParser.parse(Array(activity.metadata.utf8))
            #expect(canonical(metadata) == canonical(want["metadata"] ?? .null))
        }
        for member in expected["suppressed"]?.objectValue?.members ?? [] {
            let reason = try await app.store.suppressions(limit: 100).first { $0.email.value == member.key }?.suppression.reason
            #expect(reason == member.value.stringValue, "suppression of \(member.key)")
        }
        for member in expected["contacts"]?.objectValue?.members ?? [] {
            let contact = try #require(try await app.store.contact(email: EmailAddress(member.key)!))
            #expect(contact.firstName == member.value["first_name"]?.stringValue)
            #expect(contact.lastName == member.value["last_name"]?.stringValue)
        }
        let archive = try await app.store.inboundEvents(InboundQuery())
        #expect(archive.last?.verdict == (status == 202 ? .accepted : .rejected))
        #expect(archive.last?.body == fixture.body)
        #expect(archive.allSatisfy { !$0.headers.lowercased().contains("authorization") && !$0.headers.contains("v1=") })
    }
}
