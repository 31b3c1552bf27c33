/// Size and shape limits every generated file must meet, whatever its language.
public struct CodeLimits: Sendable, Hashable {
    /// Bytes per file.
    public var maxBytes: Int
    public var maxLines: Int
    /// Characters in one line of code (not for data or text files, where long lines are normal).
    public var maxLineLength: Int
    /// Nesting depth of code: indentation levels for Python and shell, `{` blocks for JavaScript.
    public var maxNesting: Int

    public init(maxBytes: Int = 512 << 10, maxLines: Int = 5_000, maxLineLength: Int = 400, maxNesting: Int = 10) {
        self.maxBytes = maxBytes
        self.maxLines = maxLines
        self.maxLineLength = maxLineLength
        self.maxNesting = maxNesting
    }

    public static let `default` = CodeLimits()
}
