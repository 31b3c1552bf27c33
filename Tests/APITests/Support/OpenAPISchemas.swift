import Foundation
import JSON

/// The schemas of the served OpenAPI document, checked with the JSON module's `OpenAPISchemas`
/// (the one that checks the model's answers), `$ref`s resolved in the document. Each schema is read
/// once and kept: the fuzzer checks thousands of values against a few dozen schemas.
final class OpenAPISchemas: @unchecked Sendable {
    // Every access to `validators` holds `lock`; the validators themselves are immutable.
    let document: JSONValue
    private let lock = NSLock()
    private var validators: [String: Result<JSONSchemaValidator, JSONSchemaError>] = [:]

    init(document: JSONValue) {
        self.document = document
    }

    /// The validator for `schema`, or why the JSON module cannot apply it faithfully (an unknown
    /// keyword or format, a `$ref` that points nowhere, a pattern that does not compile).
    func validator(for schema: JSONValue) -> Result<JSONSchemaValidator, JSONSchemaError> {
        let key = schema.jsonText
        lock.lock()
        defer { lock.unlock() }
        if let known = validators[key] { return known }
        let made = Result { () throws(JSONSchemaError) in try JSONSchemaValidator(schema: schema, document: document) }
        validators[key] = made
        return made
    }

    /// Every way `instance` breaks `schema` (up to 100), as "pointer: reason" lines; empty when it fits.
    /// A schema the validator cannot apply is one line saying so, never a silent pass.
    func errors(_ instance: JSONValue, against schema: JSONValue) -> [String] {
        switch validator(for: schema) {
        case .success(let validator): validator.violations(of: instance, limit: 100).map(\.description)
        case .failure(let error): ["the document's schema cannot be applied: \(error)"]
        }
    }

    /// The schema `reference` (`#/components/schemas/Name`) points to.
    func resolve(_ reference: String) -> JSONValue? {
        JSONSchemaValidator.resolve(reference, in: document)
    }
}
