import Foundation
import JSON
import PlanCore

/// What one model charges, in US dollars per million tokens.
public struct ModelPrice: Sendable, Hashable {
    /// Rates that apply together.
    public struct Rates: Sendable, Hashable {
        public var input: Double
        public var output: Double
        public var cachedInput: Double
        /// Anthropic's 5-minute cache write; nil bills written tokens as input.
        public var cacheWrite: Double?

        public init(input: Double, output: Double, cachedInput: Double, cacheWrite: Double? = nil) {
            self.input = input
            self.output = output
            self.cachedInput = cachedInput
            self.cacheWrite = cacheWrite
        }
    }

    public var model: String
    public var provider: String?
    public var rates: Rates
    /// Rates for every token of a request whose prompt is longer than `longContextThreshold`.
    public var longContext: Rates?
    public var longContextThreshold: Int?

    public init(model: String, provider: String? = nil, rates: Rates, longContext: Rates? = nil,
                longContextThreshold: Int? = nil) {
        self.model = model
        self.provider = provider
        self.rates = rates
        self.longContext = longContext
        self.longContextThreshold = longContextThreshold
    }

    /// The cost of a call, or nil when the input or output count is unknown. Cached and written
    /// tokens are parts of `usage.inputTokens`; when the provider did not report them they are
    /// billed as plain input (an upper bound).
    public func cost(of usage: LLMUsage) -> Double? {
        guard let input = usage.inputTokens, let output = usage.outputTokens else { return nil }
        let cached = min(input, max(0, usage.cachedInputTokens ?? 0))
        let written = min(input - cached, max(0, usage.cacheWriteInputTokens ?? 0))
        let uncached = input - cached - written
        var applied = rates
        if let longContext, let threshold = longContextThreshold, input > threshold { applied = longContext }
        let dollars = Double(uncached) * applied.input + Double(cached) * applied.cachedInput
            + Double(written) * (applied.cacheWrite ?? applied.input) + Double(output) * applied.output
        return dollars / 1_000_000
    }

    /// The same rates as PlanCore's estimate input.
    public var estimateTable: PriceTable {
        PriceTable(inputPerMillion: rates.input, outputPerMillion: rates.output, cachedInputPerMillion: rates.cachedInput)
    }
}

/// The price table: a data file (`Resources/prices.json`, optionally overlaid by the file named in
/// `MASTERPLAN_LLM_PRICES`) mapping model names to prices.
public struct LLMPriceTable: Sendable {
    public private(set) var prices: [String: ModelPrice]

    public init(_ prices: [ModelPrice]) {
        var table: [String: ModelPrice] = [:]
        for price in prices { table[price.model] = price }
        self.prices = table
    }

    /// The table shipped with MasterPlan.
    public static func bundled() throws -> LLMPriceTable {
        guard let url = Bundle.module.url(forResource: "prices", withExtension: "json", subdirectory: "Resources")
            ?? Bundle.module.url(forResource: "prices", withExtension: "json") else {
            throw LLMPriceTableError(message: "the price table prices.json is missing from the LLM module's resources")
        }
        return try LLMPriceTable(contentsOf: url.path)
    }

    /// Reads a price file.
    public init(contentsOf path: String) throws {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw LLMPriceTableError(message: "cannot read the price table \(path)")
        }
        do {
            try self.init(json: JSONValue.parse([UInt8](data)))
        } catch let error as JSONError {
            throw LLMPriceTableError(message: "the price table \(path) is not valid JSON: \(error)")
        } catch let error as LLMPriceTableError {
            throw LLMPriceTableError(message: "the price table \(path): \(error.message)")
        }
    }

    /// Reads the `{"models": [...]}` document.
    public init(json: JSONValue) throws {
        guard let models = json["models"]?.arrayValue else {
            throw LLMPriceTableError(message: "expected an object with a \"models\" array")
        }
        var prices: [ModelPrice] = []
        for (i, entry) in models.enumerated() {
            guard let model = entry["model"]?.stringValue, !model.isEmpty else {
                throw LLMPriceTableError(message: "models[\(i)] has no \"model\" name")
            }
            let rates = try Self.rates(entry, at: "models[\(i)] (\(model))")
            var longContext: ModelPrice.Rates?
            var threshold: Int?
            if let long = entry["long_context"], !long.isNull {
                longContext = try Self.rates(long, at: "models[\(i)].long_context")
                guard let above = long["above_input_tokens"]?.intValue, above > 0 else {
                    throw LLMPriceTableError(message: "models[\(i)].long_context needs a positive \"above_input_tokens\"")
                }
                threshold = Int(above)
            }
            prices.append(ModelPrice(model: model, provider: entry["provider"]?.stringValue, rates: rates,
                                     longContext: longContext, longContextThreshold: threshold))
        }
        self.init(prices)
    }

    private static func rates(_ json: JSONValue, at place: String) throws -> ModelPrice.Rates {
        func number(_ name: String, required: Bool) throws -> Double? {
            guard let value = json[name], !value.isNull else {
                if required { throw LLMPriceTableError(message: "\(place) has no \"\(name)\" price") }
                return nil
            }
            guard let number = value.doubleValue, number >= 0, number.isFinite else {
                throw LLMPriceTableError(message: "\(place): \"\(name)\" must be a number of dollars ≥ 0")
            }
            return number
        }
        return ModelPrice.Rates(input: try number("input", required: true)!, output: try number("output", required: true)!,
                                cachedInput: try number("cached_input", required: true)!,
                                cacheWrite: try number("cache_write", required: false))
    }

    /// This table with `other`'s entries added (replacing same-named ones).
    public func overlaid(with other: LLMPriceTable) -> LLMPriceTable {
        var merged = self
        for (name, price) in other.prices { merged.prices[name] = price }
        return merged
    }

    /// The price of a model: by exact name, else without a provider prefix ("openai/gpt-4o"), else
    /// without a snapshot suffix ("claude-sonnet-4-5-20250929", "gpt-4o-2024-08-06", "…-latest").
    /// Nil when the model is unknown: its cost is unknown, never zero.
    public func price(for model: String) -> ModelPrice? {
        var candidates = [model]
        if let slash = model.lastIndex(of: "/") { candidates.append(String(model[model.index(after: slash)...])) }
        for name in candidates {
            if let price = prices[name] { return price }
            if let base = Self.withoutSnapshotSuffix(name), let price = prices[base] { return price }
        }
        return nil
    }

    /// "claude-opus-4-1-20250805" → "claude-opus-4-1"; "gpt-4o-2024-08-06" → "gpt-4o"; "x-latest" → "x".
    static func withoutSnapshotSuffix(_ name: String) -> String? {
        if name.hasSuffix("-latest") { return String(name.dropLast(7)) }
        let parts = name.split(separator: "-", omittingEmptySubsequences: false)
        func isDigits(_ part: Substring, _ count: Int) -> Bool { part.count == count && part.allSatisfy(\.isASCII) && part.allSatisfy(\.isNumber) }
        if parts.count > 1, isDigits(parts[parts.count - 1], 8) {
            return parts.dropLast().joined(separator: "-")
        }
        if parts.count > 3, isDigits(parts[parts.count - 3], 4), isDigits(parts[parts.count - 2], 2), isDigits(parts[parts.count - 1], 2) {
            return parts.dropLast(3).joined(separator: "-")
        }
        return nil
    }
}

/// A price table that cannot be read; the message names the file and the entry.
public struct LLMPriceTableError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public var description: String { message }
}
