import Engine

/// Mustache placeholders in a message's subject and bodies, filled from the request's `model`.
///
/// Policy for unknown placeholders: a variable outside any section (`{{first_name}}`) must name a
/// key of the model, or the call is a 400 naming the field and the placeholder; a typo must not
/// mail "Hello ," to a whole list. Inside sections the names may refer to the section's item, so
/// they are not checked. The subject and the text body are rendered as text (no HTML escaping),
/// the HTML body with HTML escaping. Every render is bounded (``TemplateLimits``): over a bound
/// is a 400 `template_too_large` naming the field.
enum MessageTemplate {
    static func render(
        _ source: String, field: String, model: JSONObject, html: Bool, limits: TemplateLimits
    ) throws(InputError) -> String {
        let template: Template
        do throws(TemplateError) {
            template = try Template(source, limits: limits)
        } catch {
            throw inputError(error, field: field)
        }
        if let unknown = template.topLevelVariableNames.first(where: { name in
            model[String(name.prefix(while: { $0 != "." }))] == nil
        }) {
            throw InputError(
                code: "unknown_placeholder", message: "\"\(field)\" uses {{\(unknown)}}, which \"model\" does not define")
        }
        do throws(TemplateError) {
            return try template.render(.object(model), escapeHTML: html, limits: limits)
        } catch {
            throw inputError(error, field: field)
        }
    }

    private static func inputError(_ error: TemplateError, field: String) -> InputError {
        switch error.kind {
        case .invalid:
            InputError(code: "invalid_template", message: "\"\(field)\" is not a valid Mustache template: \(error)")
        case .tooLarge:
            InputError(code: "template_too_large", message: "\"\(field)\" \(error)")
        }
    }
}
