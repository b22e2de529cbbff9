import Testing

@testable import Engine

/// A campaign body, validated: every problem a 400 naming the field, nothing stored.
@Suite struct CampaignDefinitionTests {
    static let valid = #"""
        {"name": "November news", "subject": "News for {{contact.first_name}}", "from": "Shop <shop@example.com>",
         "html": "<p>Hi {{contact.first_name}}</p><a href=\"{{unsubscribe_url}}\">Unsubscribe</a>",
         "design": {"body": {"rows": []}, "counters": {"u_row": 1}}, "list_id": 3}
        """#

    static func parse(_ text: String, defaultFrom: String? = nil) throws -> CampaignDefinition {
        try CampaignDefinition.parse(try #require(try JSONParser.parse(Array(text.utf8)).objectValue), defaultFrom: defaultFrom)
    }

    static func edited(_ change: (inout JSONObject) -> Void) throws -> String {
        var object = try #require(try JSONParser.parse(Array(valid.utf8)).objectValue)
        change(&object)
        return JSON.object(object).serialized()
    }

    @Test func aValidBodyKeepsTheDesignVerbatimAndDefaultsToGrantedConsent() throws {
        let definition = try Self.parse(Self.valid)
        #expect(definition.audience == .list(3) && definition.consent == .granted)
        #expect(definition.design?.serialized() == #"{"body":{"rows":[]},"counters":{"u_row":1}}"#)
        // What the API writes back parses to the same definition (a GET body PUT back).
        #expect(try CampaignDefinition.parse(definition.json, defaultFrom: nil) == definition)
        #expect(try Self.parse(try Self.edited { $0.members.removeAll { $0.key == "from" } }, defaultFrom: "a@example.com").from == "a@example.com")
    }

    @Test(arguments: [
        ("name", #""""#), ("subject", #""two\nlines""#), ("subject", #""{{#open}}""#), ("from", #""Shop <shop@example.com>\nBcc: x@y.z""#),
        ("reply_to", #""not an address""#), ("html", #""{{/closed}}""#), ("design", "[1]"), ("list_id", "0"), ("stream", #""transactional""#),
        ("consent", #""maybe""#), ("track_links", #""sometimes""#), ("filter", #"{"field": "nope", "op": "eq", "value": 1}"#), ("colour", #""red""#),
    ])
    func aBadFieldIsNamed(field: String, value: String) throws {
        let body = try Self.edited { object in
            object.members.removeAll { $0.key == field }
            object.members.append((field, try! JSONParser.parse(Array(value.utf8))))
            if field == "filter" { object.members.removeAll { $0.key == "list_id" } }
        }
        #expect {
            try Self.parse(body)
        } throws: { error in
            (error as? InputError)?.message.contains(field) == true
        }
    }

    @Test func anAudienceIsAListOrAFilterNeverBothOrNeither() throws {
        let both = try Self.edited { $0.members.append(("filter", .object(["tag": .string("VIP")]))) }
        #expect(throws: InputError.self) { try Self.parse(both) }
        let neither = try Self.edited { $0.members.removeAll { $0.key == "list_id" } }
        #expect(throws: InputError.self) { try Self.parse(neither) }
        let filter = try Self.edited { object in
            object.members.removeAll { $0.key == "list_id" }
            object.members.append(("filter", .object(["tag": .string("VIP")])))
        }
        #expect(try Self.parse(filter).audience == .filter(.object(["tag": .string("VIP")])))
        let empty = try Self.edited { $0.members.removeAll { $0.key == "html" } }
        #expect { try Self.parse(empty) } throws: { ($0 as? InputError)?.code == "empty_content" }
    }
}
