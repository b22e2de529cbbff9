import Foundation

@testable import Engine

/// The databases the store conformance suite runs against. Every store behaviour is asserted
/// once, identically, for each backend listed here.
enum StoreBackend: String, CaseIterable, CustomStringConvertible, Sendable {
    case sqlite

    var description: String { rawValue }

    /// A fresh, migrated, empty store.
    func makeStore() async throws -> any Store {
        let store = try makeUnmigratedStore()
        try await store.migrate()
        return store
    }

    /// A fresh store on an empty database, before migrations.
    func makeUnmigratedStore() throws -> any Store {
        switch self {
        case .sqlite:
            let directory = FileManager.default.temporaryDirectory
                .appendingPathComponent("cortex-tests-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            return try SQLiteStore(path: directory.appendingPathComponent("cortex.sqlite").path)
        }
    }
}

extension Timestamp {
    static func at(_ text: String) -> Timestamp { RFC3339.parse(text)! }
}

extension EmailAddress {
    static func of(_ text: String) -> EmailAddress { EmailAddress(text)! }
}

func delivery(
    source: String = "checkout", id: String?, at time: Timestamp = .at("2026-11-26T12:00:00Z"), body: String = "{}"
) -> InboundDelivery {
    InboundDelivery(
        source: source, externalID: id, receivedAt: time, headers: [("webhook-id", id ?? "")], body: Array(body.utf8))
}

func activity(
    _ type: String = "checkout.completed", email: String, at time: String = "2026-11-26T11:00:00Z",
    metadata: String = "{}", firstName: String? = nil, lastName: String? = nil
) -> NewActivity {
    NewActivity(
        type: type, contactEmail: .of(email), occurredAt: .at(time), metadata: metadata, firstName: firstName,
        lastName: lastName)
}
