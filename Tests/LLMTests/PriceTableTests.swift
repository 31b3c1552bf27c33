import JSON
@testable import LLM
import Testing
import TestSupport

@Suite(.dedicatedThreads) struct PriceTableTests {
    @Test func theBundledTableLoadsAndPricesCurrentModels() throws {
        let table = try LLMPriceTable.bundled()
        for model in ["claude-opus-5-5", "claude-sonnet-5-5", "claude-haiku-4-5", "claude-sonnet-4-5", "gpt-6-sol", "gpt-5",
                      "gpt-4.1-mini", "gpt-4o-mini", "o4-mini"] {
            #expect(table.price(for: model) != nil, "\(model) has a price")
        }
        for price in table.prices.values {
            #expect(price.rates.cachedInput <= price.rates.input, "\(price.model): cached input is cheaper than input")
            #expect(price.rates.output >= price.rates.input, "\(price.model): output costs at least input")
        }
    }

    @Test(arguments: [("claude-sonnet-4-5-20250929", "claude-sonnet-4-5"), ("gpt-4o-2024-08-06", "gpt-4o"),
                      ("claude-3-7-sonnet-latest", "claude-3-7-sonnet"), ("openai/gpt-4.1-mini", "gpt-4.1-mini"),
                      ("gpt-4o-mini", "gpt-4o-mini")])
    func snapshotsAndPrefixesFindTheirModel(_ name: String, _ expected: String) throws {
        #expect(try LLMPriceTable.bundled().price(for: name)?.model == expected)
    }

    @Test func anUnknownModelHasNoPrice() throws {
        let table = try LLMPriceTable.bundled()
        #expect(table.price(for: "llama3.2:3b") == nil)
        #expect(table.price(for: "gpt-5-pro") == nil) // not priced as gpt-5
    }

    @Test func anthropicCacheReadsAndWritesArePricedApart() {
        let price = ModelPrice(model: "m", rates: .init(input: 3, output: 15, cachedInput: 0.3, cacheWrite: 3.75))
        let usage = LLMUsage(inputTokens: 3500, outputTokens: 300, cachedInputTokens: 2000, cacheWriteInputTokens: 500)
        let cost = try! #require(price.cost(of: usage))
        #expect(abs(cost - (1000 * 3 + 2000 * 0.3 + 500 * 3.75 + 300 * 15) / 1_000_000) < 1e-15)
    }

    @Test func longPromptsUseTheLongContextRates() {
        let price = ModelPrice(model: "m", rates: .init(input: 2, output: 10, cachedInput: 0.2),
                               longContext: .init(input: 4, output: 15, cachedInput: 0.4), longContextThreshold: 272_000)
        let atThreshold: Double = 272_000 * 2.0 / 1_000_000
        let above: Double = (272_001 * 4.0 + 1000 * 15.0) / 1_000_000
        #expect(price.cost(of: LLMUsage(inputTokens: 272_000, outputTokens: 0)) == atThreshold)
        #expect(price.cost(of: LLMUsage(inputTokens: 272_001, outputTokens: 1000)) == above)
    }

    @Test func unknownCountsGiveUnknownCostNeverZero() {
        let price = ModelPrice(model: "m", rates: .init(input: 1, output: 1, cachedInput: 1))
        #expect(price.cost(of: .unknown) == nil)
        #expect(price.cost(of: LLMUsage(inputTokens: 10)) == nil)
        #expect(price.cost(of: LLMUsage(inputTokens: 0, outputTokens: 0)) == 0)
    }

    @Test func anOverlayAddsAndReplacesModels() throws {
        let overlay = try LLMPriceTable(json: ["models": [["model": "llama3.2", "input": 0, "output": 0, "cached_input": 0],
                                                          ["model": "gpt-4o", "input": 1, "output": 2, "cached_input": 0.5]]])
        let table = try LLMPriceTable.bundled().overlaid(with: overlay)
        #expect(table.price(for: "llama3.2")?.cost(of: LLMUsage(inputTokens: 100, outputTokens: 100)) == 0)
        #expect(table.price(for: "gpt-4o")?.rates.input == 1)
    }

    @Test func aMalformedTableNamesTheEntry() {
        #expect(throws: LLMPriceTableError.self) {
            try LLMPriceTable(json: ["models": [["model": "x", "input": 1, "output": -2, "cached_input": 0]]])
        }
        do {
            _ = try LLMPriceTable(json: ["models": [["model": "x", "input": 1, "output": 2]]])
            Issue.record("a missing cached_input price was accepted")
        } catch {
            #expect("\(error)".contains("models[0] (x) has no \"cached_input\" price"))
        }
    }
}
