import Testing

@testable import Engine

@Suite struct CanonicalEventTests {
    private func parse(_ text: String) throws(InputError) -> CanonicalEvent {
        try CanonicalEvent.parse(Array(text.utf8))
    }

    @Test func parsesTheCanonicalShape() throws {
        let event = try parse(
            #"{"type":"checkout.completed","timestamp":"2026-11-26T10:00:00+01:00","data":{"email":" Ada@Example.com","first_name":" Ada ","last_name":"Lovelace","product":"P2P"}}"#
        )
        #expect(event.type == "checkout.completed")
        #expect(event.occurredAt == RFC3339.parse("2026-11-26T09:00:00Z"))
        #expect(event.email?.value == "ada@example.com")
        #expect(event.firstName == "Ada")
        #expect(event.lastName == "Lovelace")
        #expect(JSON.object(event.metadata).serialized() == #"{"email":" Ada@Example.com","first_name":" Ada ","last_name":"Lovelace","product":"P2P"}"#)
        #expect(event.idempotencyKey == nil)
    }

    @Test func acceptsTheFlatShapeOfTheDesignBrief() throws {
        let event = try parse(
            #"{"type":"checkout.started","email":"bo@example.com","occurred_at":"2026-01-01T00:00:00Z","metadata":{"cart":3}}"#)
        #expect(event.email?.value == "bo@example.com")
        #expect(event.occurredAt == RFC3339.parse("2026-01-01T00:00:00Z"))
        #expect(JSON.object(event.metadata).serialized() == #"{"cart":3}"#)
    }

    @Test func anEventWithoutEmailNamesNoContact() throws {
        #expect(try parse(#"{"type":"checkout.completed","data":{"total":5}}"#).email == nil)
        #expect(try parse(#"{"type":"checkout.completed","data":{"email":"  "}}"#).email == nil)
        #expect(try parse(#"{"type":"checkout.completed"}"#).metadata == JSONObject())
    }

    @Test(arguments: [
        (#"not json"#, "invalid_json"),
        (#"[1,2]"#, "invalid_json"),
        (#"{"data":{"email":"a@b.io"}}"#, "missing_type"),
        (#"{"type":"  ","data":{}}"#, "missing_type"),
        (#"{"type":7}"#, "missing_type"),
        (#"{"type":"x","data":{"email":"not-an-email"}}"#, "invalid_email"),
        (#"{"type":"x","data":{"email":42}}"#, "invalid_email"),
        (#"{"type":"x","data":[1]}"#, "invalid_field"),
        (#"{"type":"x","data":{"first_name":1}}"#, "invalid_field"),
        (#"{"type":"x","timestamp":"yesterday"}"#, "invalid_timestamp"),
        (#"{"type":"x","timestamp":1700000000}"#, "invalid_timestamp"),
        (#"{"type":"x","idempotency_key":""}"#, "invalid_field"),
        (#"{"type":"x","idempotency_key":5}"#, "invalid_field"),
        (#"{"type":"x\u0000","data":{"email":"a@b.io"}}"#, "invalid_field"),
        (#"{"type":"x","data":{"deep":[{"k\u0000":1}]}}"#, "invalid_field"),
    ])
    func rejectsBadEvents(body: String, code: String) {
        #expect {
            _ = try parse(body)
        } throws: { error in
            (error as? InputError)?.code == code
        }
    }

    @Test func readsTheIdempotencyKey() throws {
        #expect(try parse(#"{"type":"x","idempotency_key":"order-42"}"#).idempotencyKey == "order-42")
    }
}
