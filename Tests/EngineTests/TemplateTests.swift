import Engine
import Testing

/// The Mustache renderer: the spec's behaviour, and the bounds that make a template safe to
/// render from hostile input.
@Suite struct TemplateTests {
    static let model: JSON = .object([
        "name": .string("Ada & <Co>"), "total": .number("49.50"), "vip": .bool(true), "none": .null,
        "empty": .array([]), "user": .object(["first": .string("Ada"), "address": .object(["city": .string("London")])]),
        "items": .array([.object(["name": .string("P2P"), "qty": .number("1")]), .object(["name": .string("Canva")])]),
        "tags": .array([.string("a"), .string("b")]),
    ])

    static func render(_ source: String, html: Bool = false, limits: TemplateLimits = .body) throws -> String {
        try Template(source, limits: limits).render(model, escapeHTML: html, limits: limits)
    }

    @Test(arguments: [
        ("Hi {{name}}", false, "Hi Ada & <Co>"),
        ("Hi {{name}}", true, "Hi Ada &amp; &lt;Co&gt;"),
        ("Hi {{{name}}} {{& name}}", true, "Hi Ada & <Co> Ada & <Co>"),
        ("{{total}} {{vip}} [{{none}}] [{{missing}}]", false, "49.50 true [] []"),
        ("{{user.first}} of {{user.address.city}}, [{{user.nope.city}}]", false, "Ada of London, []"),
        ("{{#items}}{{name}} x{{qty}}; {{/items}}", false, "P2P x1; Canva x; "),
        // A name missing from the item is looked up in the outer context.
        ("{{#items}}{{name}}/{{vip}} {{/items}}", false, "P2P/true Canva/true "),
        ("{{#tags}}<{{.}}>{{/tags}}", false, "<a><b>"),
        ("{{#user}}{{first}}{{/user}}{{#vip}}!{{/vip}}{{#none}}no{{/none}}{{#empty}}no{{/empty}}", false, "Ada!"),
        ("{{^empty}}none{{/empty}}{{^vip}}no{{/vip}}{{^missing}}!{{/missing}}", false, "none!"),
        ("a{{! a comment }}b", false, "ab"),
        ("{{=<% %>=}}<% name %> {{name}}", false, "Ada & <Co> {{name}}"),
        // Standalone section and comment lines leave no blank line behind.
        ("Items:\n{{#items}}\n- {{name}}\n{{/items}}\n  {{! note }}\nEnd", false, "Items:\n- P2P\n- Canva\nEnd"),
        ("Items:\r\n{{#tags}}\r\n{{.}}\r\n{{/tags}}\r\nEnd", false, "Items:\r\na\r\nb\r\nEnd"),
        ("  {{#vip}}  x {{/vip}}", false, "    x "),
        ("\u{00E9}t\u{00E9} {{user.first}} \u{1F600}", false, "\u{00E9}t\u{00E9} Ada \u{1F600}"),
    ])
    func rendersAsMustacheDoes(source: String, html: Bool, expected: String) throws {
        #expect(try Self.render(source, html: html) == expected)
    }

    @Test(arguments: [
        "{{#open}}never closed", "{{/close}}", "{{#a}}{{/b}}", "{{> partial}}", "{{name", "{{a..b}}", "{{}}",
        "{{=<% %> x=}}",
    ])
    func refusesInvalidTemplates(source: String) {
        #expect(throws: TemplateError.self) { try Self.render(source) }
        do {
            _ = try Self.render(source)
        } catch let error as TemplateError {
            #expect(error.kind == .invalid)
        } catch {
            Issue.record("unexpected \(error)")
        }
    }

    @Test func listsOnlyTopLevelVariables() throws {
        let template = try Template("{{a}} {{{b.c}}} {{#s}}{{d}}{{/s}} {{^e}}{{f}}{{/e}} {{.}}")
        #expect(template.topLevelVariableNames == ["a", "b.c"])
    }

    /// The probe's template bomb: sections nested seven deep over a ten-item list would loop
    /// ten million times; the work bound stops it long before.
    @Test func aNestedSectionBombStopsAtTheWorkBound() throws {
        let source = String(repeating: "{{#a}}", count: 7) + String(repeating: "{{/a}}", count: 7)
        let model: JSON = .object(["a": .array((0..<10).map { .int($0) })])
        let error = try #require(throws: TemplateError.self) {
            try Template(source).render(model, escapeHTML: false, limits: .body)
        }
        #expect(error.kind == .tooLarge)
        #expect(error.message.contains("steps"))
    }

    /// The probe's output bomb: five nested sections over 100 bytes of text made a 10 MB body.
    @Test func anOutputBombStopsAtTheOutputBound() throws {
        let source = String(repeating: "{{#a}}", count: 5) + String(repeating: "x", count: 100)
            + String(repeating: "{{/a}}", count: 5)
        let model: JSON = .object(["a": .array((0..<10).map { .int($0) })])
        let limits = TemplateLimits(maximumOutputBytes: 4096, maximumWork: 10_000_000)
        let error = try #require(throws: TemplateError.self) {
            try Template(source, limits: limits).render(model, escapeHTML: false, limits: limits)
        }
        #expect(error.kind == .tooLarge)
        #expect(error.message.contains("4096 bytes"))
        // Exactly at the bound is fine.
        let exact = TemplateLimits(maximumOutputBytes: 100 * 10, maximumWork: 10_000)
        let one = String(repeating: "x", count: 100)
        #expect(try Template("{{#a}}\(one){{/a}}").render(model, escapeHTML: false, limits: exact).utf8.count == 1000)
    }

    @Test func escapingCountsAgainstTheOutputBound() throws {
        let limits = TemplateLimits(maximumOutputBytes: 10)
        let model: JSON = .object(["v": .string("<<<")])
        #expect(try Template("{{v}}").render(model, escapeHTML: false, limits: limits) == "<<<")
        #expect(throws: TemplateError.self) { try Template("{{v}}").render(model, escapeHTML: true, limits: limits) }
    }

    @Test func nestingDeeperThanTheBoundIsRefusedAtParseTime() throws {
        let deep = String(repeating: "{{#a}}", count: 9) + String(repeating: "{{/a}}", count: 9)
        let error = try #require(throws: TemplateError.self) { try Template(deep) }
        #expect(error.kind == .tooLarge)
        #expect(error.message.contains("deeper than 8"))
        let allowed = String(repeating: "{{#a}}", count: 8) + "x" + String(repeating: "{{/a}}", count: 8)
        #expect(try Template(allowed).render(.object(["a": .bool(true)]), escapeHTML: false, limits: .body) == "x")
    }

    /// Looking names up in a large object is work too: a loop over a short list that searches a
    /// model of many keys each time is bounded like a deep loop.
    @Test func lookupsInLargeObjectsAreCharged() throws {
        let members = (0..<5_000).map { (key: "k\($0)", value: JSON.int($0)) }
        let model: JSON = .object(JSONObject(members + [(key: "list", value: .array((0..<100).map { .int($0) }))]))
        let limits = TemplateLimits(maximumOutputBytes: 1 << 20, maximumWork: 200_000)
        #expect(throws: TemplateError.self) {
            try Template("{{#list}}{{nothing}}{{/list}}").render(model, escapeHTML: false, limits: limits)
        }
    }
}
