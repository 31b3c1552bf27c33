import JSON
import PlanCore

/// The rule every structured answer passes before a call succeeds: the answer holds one whole JSON
/// document (found as the answer parsers find it — bare, fenced, or after a sentence of prose, since a
/// model asked through the prompt alone may add those) and that document follows the request's
/// schema. A cut-off document, an empty one, or one with a member missing or out of bounds is never a
/// success, whatever the provider's stop reason said.
enum StructuredAnswerCheck {
    /// How many violations are listed (the rest are counted).
    static let listed = 20

    /// Sentences saying what is wrong with `answer`; empty when it is a valid document.
    static func violations(of answer: String, against schema: JSONValue) -> [String] {
        let document: JSONValue
        do {
            var options = PlanParseOptions.default
            options.allowControlCharactersInStrings = true
            document = try PlanParser(options: options).jsonObject(in: answer)
        } catch {
            return error.problems.prefix(listed).map(\.description)
        }
        do {
            return try JSONSchemaValidator.violations(of: document, against: schema, limit: listed).map(\.description)
        } catch {
            // A schema the validator cannot read is this program's error, not the model's: say so
            // rather than pass an answer nothing checked.
            return ["the answer could not be checked: \(error)"]
        }
    }
}
