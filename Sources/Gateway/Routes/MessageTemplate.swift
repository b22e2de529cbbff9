import Engine
import Foundation
import Mustache

/// Mustache placeholders in a message's subject and bodies, filled from the request's `model`.
///
/// Policy for unknown placeholders: a variable outside any section (`{{first_name}}`) must name a
/// key of the model, or the call is a 400 naming the field and the placeholder; a typo must not
/// mail "Hello ," to a whole list. Inside sections the names may refer to the section's item, so
/// they are not checked. The subject and the text body are rendered as text (no HTML escaping),
/// the HTML body with HTML escaping.
enum MessageTemplate {
    static func render(_ template: String, field: String, model: JSONObject, html: Bool) throws(InputError) -> String {
        if let unknown = unknownPlaceholder(in: template, model: model) {
            throw InputError(
                code: "unknown_placeholder", message: "\"\(field)\" uses {{\(unknown)}}, which \"model\" does not define")
        }
        let source = html ? template : "{{% CONTENT_TYPE: TEXT}}" + template
        do {
            return try MustacheTemplate(string: source).render(value(.object(model)) ?? [:])
        } catch {
            throw InputError(code: "invalid_template", message: "\"\(field)\" is not a valid Mustache template: \(error)")
        }
    }

    /// The first top-level variable whose first name segment the model lacks.
    static func unknownPlaceholder(in template: String, model: JSONObject) -> String? {
        var depth = 0
        var rest = Substring(template)
        while let open = rest.range(of: "{{") {
            let afterOpen = rest[open.upperBound...]
            let triple = afterOpen.hasPrefix("{")
            guard let close = afterOpen.range(of: triple ? "}}}" : "}}") else { return nil }
            var tag = afterOpen[..<close.lowerBound]
            if triple { tag = tag.dropFirst() }
            rest = afterOpen[close.upperBound...]
            let trimmed = tag.trimmingCharacters(in: .whitespaces)
            guard let sigil = trimmed.first else { continue }
            switch sigil {
            case "#", "^": depth += 1
            case "/": depth = max(0, depth - 1)
            case "!", ">", "<", "$", "%": continue
            case "=": return nil  // Custom delimiters: stop checking rather than misread.
            default:
                guard depth == 0 else { continue }
                let name = (sigil == "&" ? String(trimmed.dropFirst()) : trimmed).trimmingCharacters(in: .whitespaces)
                guard name != ".", let head = name.split(separator: ".").first else { continue }
                if model[String(head)] == nil { return name }
            }
        }
        return nil
    }

    /// JSON as the plain values Mustache reads.
    static func value(_ json: JSON) -> Any? {
        switch json {
        case .null: nil
        case .bool(let flag): flag
        case .number(let text): Int(text).map { $0 as Any } ?? Double(text).map { $0 as Any } ?? text
        case .string(let text): text
        case .array(let items): items.compactMap(value)
        case .object(let object):
            Dictionary(object.members.compactMap { member in value(member.value).map { (member.key, $0) } }) { first, _ in first }
        }
    }
}
