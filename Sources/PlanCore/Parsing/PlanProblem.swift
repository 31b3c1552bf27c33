/// One thing wrong with a plan (or discovery, or test set), with the JSON path where it is.
///
/// `description` is the line sent back to the LLM for repair and shown by `masterplan plan validate`:
/// `phases[1].milestones[0].tasks[3].depends_on[0]: task 41 does not exist`.
public struct PlanProblem: Sendable, Hashable, CustomStringConvertible {
    /// What kind of problem this is, for callers that react differently to kinds (and for tests).
    public enum Kind: String, Sendable, Hashable, CaseIterable {
        /// The answer holds no JSON object at all.
        case noJSON
        /// The JSON text does not parse (syntax, truncation, nesting, size).
        case invalidJSON
        /// A value has the wrong JSON type.
        case wrongType
        /// A required member is absent.
        case missingField
        /// A member the schema does not know (often a misspelt field name).
        case unknownField
        /// A string that is not one of the allowed words.
        case unknownEnumValue
        /// A value of the right type that is not allowed (a number below 1, an empty name, too long a text).
        case invalidValue
        /// Two siblings share a number or name that must be unique.
        case duplicate
        /// A dependency or reference names something that does not exist.
        case unknownReference
        /// Tasks depend on each other in a circle (including a task depending on itself).
        case dependencyCycle
        /// A file path that is absolute, escapes the workspace, is not normalised, or is otherwise unsafe.
        case unsafePath
        /// A container that must not be empty is empty (a task with no files, a milestone with no tasks).
        case empty
        /// A count exceeds (or falls below) the configured bounds.
        case outOfBounds
        /// The plan has no MUST criterion, or a MUST criterion no test covers.
        case missingCriterion
    }

    public var kind: Kind
    public var path: JSONPath
    public var message: String

    public init(_ kind: Kind, at path: JSONPath, _ message: String) {
        self.kind = kind
        self.path = path
        self.message = message
    }

    public var description: String { "\(path): \(message)" }
}
