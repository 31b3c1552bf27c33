/// Tokens one LLM call is expected to use; `cachedInput` is counted apart from `input`, as providers bill it.
public struct TokenEstimate: Sendable, Hashable {
    public var input: Int
    public var output: Int
    public var cachedInput: Int

    public init(input: Int, output: Int, cachedInput: Int = 0) {
        self.input = input
        self.output = output
        self.cachedInput = cachedInput
    }
}
