/// One way a JSON value breaks its schema: where (a JSON pointer into the value, RFC 6901) and what,
/// in a sentence fit to send back to the model that wrote the value.
public struct JSONSchemaViolation: Sendable, Hashable, CustomStringConvertible {
    /// The JSON pointer of the offending value, e.g. `/phases/0/tasks`; empty for the whole document.
    public var path: String
    /// What is wrong, e.g. "61 items, at most 60 allowed".
    public var message: String

    public init(path: String, message: String) {
        self.path = path
        self.message = message
    }

    /// The path and the message: `/phases/0/tasks: 61 items, at most 60 allowed`.
    public var description: String { "\(path.isEmpty ? "(root)" : path): \(message)" }
}

/// A schema that `JSONSchemaValidator` cannot apply faithfully: an unsupported or misspelt keyword, a
/// keyword with a value of the wrong shape, or one that can never take effect. This is a mistake in the
/// program's own schemas, never in a value being checked.
public struct JSONSchemaError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The JSON pointer of the bad keyword inside the schema, e.g. `/properties/phases/maxItem`.
    public var schemaPath: String
    public var message: String

    public init(schemaPath: String, message: String) {
        self.schemaPath = schemaPath
        self.message = message
    }

    public var description: String { "schema \(schemaPath.isEmpty ? "(root)" : schemaPath): \(message)" }
}
