@testable import Engine
import Testing

/// The filter language's parser: what it accepts, and the JSON pointer of every fault it refuses.
@Suite struct FilterParserTests {
    static func parse(_ text: String) throws -> Filter {
        try FilterParser.parse(try JSONParser.parse(Array(text.utf8)))
    }

    @Test func boughtP2PButNotCanva() throws {
        let filter = try Self.parse(
            #"{"all": [{"activity": {"type": "checkout.completed", "where": {"product": "P2P"}}}, {"not": {"activity": {"type": "checkout.completed", "where": {"product": "Canva"}}}}]}"#
        )
        let bought = { (product: String) in
            Filter.activity(
                ActivityCondition(
                    type: "checkout.completed",
                    conditions: [MetadataCondition(path: ["product"], comparison: .eq(.string(product)))],
                    since: nil, withinDays: nil, until: nil, count: nil))
        }
        #expect(filter == .all([bought("P2P"), .not(bought("Canva"))]))
    }

    @Test func readsEveryKindOfFilter() throws {
        let filter = try Self.parse(
            #"""
            {"any": [
              {"everyone": true}, {"tag": "VIP"}, {"list": 12},
              {"field": "attributes.plan.tier", "op": "in", "value": ["pro", 3, true]},
              {"field": "created_at", "op": "gte", "value": "2026-01-01T00:00:00Z"},
              {"field": "suppressed", "op": "eq", "value": false},
              {"field": "last_activity_at", "op": "not_exists"},
              {"field": "email", "op": "ends_with", "value": "@example.com"},
              {"field": "lifecycle", "op": "eq", "value": "customer"},
              {"activity": {"type": "email.opened", "where": {"amount": {"op": "gte", "value": 4900}, "meta.ref": {"op": "exists"}},
                            "within_days": 30, "count": {"gte": 2}}}
            ]}
            """#)
        guard case .any(let items) = filter else { Issue.record("not any"); return }
        #expect(items.count == 10)
        #expect(items[3] == .field(FieldCondition(field: .attribute(["plan", "tier"]), comparison: .in([.string("pro"), .number("3", 3), .bool(true)]))))
        #expect(items[4] == .field(FieldCondition(field: .createdAt, comparison: .gte(.time(RFC3339.parse("2026-01-01T00:00:00Z")!)))))
        guard case .activity(let activity) = items[9] else { Issue.record("not activity"); return }
        #expect(activity.withinDays == 30)
        #expect(activity.count == .gte(2))
        #expect(activity.conditions == [
            MetadataCondition(path: ["amount"], comparison: .gte(.number("4900", 4900))),
            MetadataCondition(path: ["meta", "ref"], comparison: .exists),
        ])
    }

    @Test(arguments: [
        (#"[]"#, "", "not an array"),
        (#"{}"#, "", "is empty"),
        (#"{"tag": "a", "list": 1}"#, "", "exactly one"),
        (#"{"frobnicate": 1}"#, "/frobnicate", "is not a filter"),
        (#"{"not": [{"tag": "a"}, {"tag": "b"}]}"#, "/not", "not an array"),
        (#"{"all": []}"#, "/all", "at least one"),
        (#"{"all": [{"tag": "a"}, {"field": "nope", "op": "eq", "value": 1}]}"#, "/all/1/field", "is not a field"),
        (#"{"field": "email", "op": "like", "value": "%"}"#, "/op", "is not an operator"),
        (#"{"field": "email", "op": "eq", "value": 3}"#, "/value", "non-empty string"),
        (#"{"field": "email", "op": "gt", "value": "a"}"#, "/op", "orders numbers and times"),
        (#"{"field": "created_at", "op": "gt", "value": "yesterday"}"#, "/value", "RFC 3339"),
        (#"{"field": "suppressed", "op": "eq", "value": "yes"}"#, "/value", "true or false"),
        (#"{"field": "lifecycle", "op": "eq", "value": "custmer"}"#, "/value", "not a value of this field"),
        (#"{"field": "attributes.", "op": "eq", "value": 1}"#, "/field", "is not a path"),
        (#"{"field": "attributes.a", "op": "exists", "value": 1}"#, "/value", "left out"),
        (#"{"field": "attributes.a", "op": "eq"}"#, "/value", "required"),
        (#"{"field": "attributes.a", "op": "eq", "value": [1]}"#, "/value", "string, a number"),
        (#"{"field": "attributes.a", "op": "gt", "value": "3"}"#, "/value", "number"),
        (#"{"field": "attributes.a", "op": "in", "value": []}"#, "/value", "array of 1 to 1000"),
        (#"{"list": -1}"#, "/list", "positive whole number"),
        (#"{"list": "1; DROP TABLE contacts"}"#, "/list", "positive whole number"),
        (#"{"everyone": false}"#, "/everyone", "must be true"),
        (#"{"activity": {"type": "x", "when": 1}}"#, "/activity/when", "is not allowed"),
        (#"{"activity": {"where": {"a": [1]}}}"#, "/activity/where/a", "string, a number"),
        (#"{"activity": {"where": {"a..b": 1}}}"#, "/activity/where/a..b", "is not a path"),
        (#"{"activity": {"where": {"a/b~c": {"op": "zz", "value": 1}}}}"#, "/activity/where/a~1b~0c/op", "is not an operator"),
        (#"{"activity": {"within_days": 0}}"#, "/activity/within_days", "1 to 36500"),
        (#"{"activity": {"within_days": 3, "since": "2026-01-01T00:00:00Z"}}"#, "/activity/within_days", "since"),
        (#"{"activity": {"since": "2026-02-01T00:00:00Z", "until": "2026-01-01T00:00:00Z"}}"#, "/activity/until", "after since"),
        (#"{"activity": {"count": {"gte": 1, "lte": 3}}}"#, "/activity/count", "one of"),
        (#"{"activity": {"count": {"gt": 1}}}"#, "/activity/count/gt", "gte, lte or eq"),
    ])
    func refusesFaultsNamingTheirPath(document: String, path: String, message: String) throws {
        let error = try #require(throws: FilterError.self) { try Self.parse(document) }
        #expect(error.path == path)
        #expect(error.message.contains(message), "\(error.message)")
    }

    @Test func boundsDepthSizeAndLists() throws {
        let deep = String(repeating: #"{"not": "#, count: 11) + #"{"tag": "a"}"# + String(repeating: "}", count: 11)
        #expect(try #require(throws: FilterError.self) { try Self.parse(deep) }.message.contains("deeper than 10"))
        let wide = #"{"any": ["# + Array(repeating: #"{"tag": "a"}"#, count: 200).joined(separator: ",") + "]}"
        #expect(try #require(throws: FilterError.self) { try Self.parse(wide) }.message.contains("more than 200"))
        let huge = #"{"field": "email", "op": "in", "value": ["# + Array(repeating: #""a@b.io""#, count: 1001).joined(separator: ",") + "]}"
        #expect(try #require(throws: FilterError.self) { try Self.parse(huge) }.path == "/value")
        let long = #"{"tag": ""# + String(repeating: "x", count: 1001) + #""}"#
        #expect(try #require(throws: FilterError.self) { try Self.parse(long) }.path == "/tag")
    }

    /// Values are data, never SQL: a value holding SQL is just a string to compare with.
    @Test func sqlInValuesAndPathsIsJustText() throws {
        let filter = try Self.parse(#"{"field": "attributes.x'); DROP TABLE contacts; --", "op": "eq", "value": "' OR 1=1 --"}"#)
        #expect(filter == .field(FieldCondition(field: .attribute(["x'); DROP TABLE contacts; --"]), comparison: .eq(.string("' OR 1=1 --")))))
    }
}
