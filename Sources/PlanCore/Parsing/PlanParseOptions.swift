/// How tolerant `PlanParser` is of the JSON text itself (the schema is always strict).
public struct PlanParseOptions: Sendable, Hashable {
    /// Answers longer than this are refused before parsing: no sane plan is this big, and a runaway
    /// generation should not cost a parse.
    public var maxAnswerBytes: Int
    /// A plan nests 9 levels deep (plan, phases, milestones, tasks, subtasks); far deeper nesting is a malformed
    /// or hostile answer, refused with its line and column.
    public var maxDepth: Int
    /// Accept raw newlines and tabs inside strings, which grammar-constrained local model servers emit
    /// (measured against llama-cpp-python's server). Such characters inside a file path are still refused by path validation.
    public var allowControlCharactersInStrings: Bool

    public init(maxAnswerBytes: Int = 8 << 20, maxDepth: Int = 32, allowControlCharactersInStrings: Bool = true) {
        self.maxAnswerBytes = maxAnswerBytes
        self.maxDepth = maxDepth
        self.allowControlCharactersInStrings = allowControlCharactersInStrings
    }

    public static let `default` = PlanParseOptions()
}
