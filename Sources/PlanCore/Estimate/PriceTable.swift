/// What a model charges, in US dollars per million tokens.
public struct PriceTable: Sendable, Hashable {
    public var inputPerMillion: Double
    public var outputPerMillion: Double
    /// Input read from the provider's prompt cache, billed apart from (and below) other input.
    public var cachedInputPerMillion: Double

    public init(inputPerMillion: Double, outputPerMillion: Double, cachedInputPerMillion: Double) {
        self.inputPerMillion = inputPerMillion
        self.outputPerMillion = outputPerMillion
        self.cachedInputPerMillion = cachedInputPerMillion
    }

    /// A reference table for a mid-size hosted model (3 / 15 / 0.30 USD): a default for estimates shown
    /// before any model is configured, not a quote. The LLM module's cost table replaces it.
    public static let reference = PriceTable(inputPerMillion: 3, outputPerMillion: 15, cachedInputPerMillion: 0.30)

    /// The cost of a number of tokens, in US dollars.
    public func cost(input: Int, output: Int, cachedInput: Int) -> Double {
        (Double(input) * inputPerMillion + Double(output) * outputPerMillion + Double(cachedInput) * cachedInputPerMillion)
            / 1_000_000
    }
}
