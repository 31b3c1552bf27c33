import JSON
@testable import LLM
import PlanCore
import Testing
import TestSupport

/// OpenAI's automatic prompt caching as `masterplan replay-llm --simulate-prompt-cache` plays it.
@Suite(.dedicatedThreads) struct PromptCacheSimulatorTests {
    /// `count` pseudo-random lowercase letters; texts of different seeds differ from their first bytes.
    static func text(_ count: Int, seed: UInt64 = 0) -> [UInt8] {
        var state = seed &* 0x9E37_79B9_7F4A_7C15 &+ 1
        return (0..<count).map { _ in
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return UInt8(ascii: "a") + UInt8((state >> 33) % 26)
        }
    }

    let simulator = PromptCacheSimulator(rules: .openAI)
    let model = "gpt-4.1-mini"

    @Test func twoRequestsSharingALongPrefixReadItFromTheCacheIn128TokenSteps() {
        let shared = Self.text(6_000)   // 1,500 tokens
        let first = shared + Self.text(900, seed: 1), second = shared + Self.text(2_000, seed: 2)
        let one = simulator.process(first, model: model, at: .zero)
        #expect(one == .init(promptTokens: TokenEstimate.tokens(utf8Count: first.count), cachedTokens: 0))
        let two = simulator.process(second, model: model, at: .seconds(1))
        // 1,500 shared tokens: 1,024 + 3 x 128 = 1,408 are read from the cache.
        #expect(two == .init(promptTokens: 2_000, cachedTokens: 1_408))
        #expect(two.cachedTokens % 128 == 0)
        // The same prompt again: every whole step of it.
        let three = simulator.process(second, model: model, at: .seconds(2))
        #expect(three.cachedTokens == 1_920)
    }

    @Test func aPromptBelow1024TokensIsNeverCached() {
        let prompt = Self.text(4_092)   // 1,023 tokens
        #expect(simulator.process(prompt, model: model, at: .zero).cachedTokens == 0)
        #expect(simulator.process(prompt, model: model, at: .seconds(1)) == .init(promptTokens: 1_023, cachedTokens: 0))
        #expect(simulator.count == 0)
    }

    @Test(arguments: [0, 10, 4_095])
    func aChangedByteWithinTheFirst1024TokensReadsNothing(position: Int) {
        let prompt = Self.text(8_000)
        var changed = prompt
        changed[position] = changed[position] == UInt8(ascii: "z") ? UInt8(ascii: "y") : UInt8(ascii: "z")
        _ = simulator.process(prompt, model: model, at: .zero)
        #expect(simulator.process(changed, model: model, at: .seconds(1)).cachedTokens == 0)
        // A change after the first 1,024 tokens keeps the steps before it.
        var late = prompt
        late[4_096 + 128 * 4 + 1] = UInt8(ascii: "#")
        #expect(simulator.process(late, model: model, at: .seconds(2)).cachedTokens == 1_024 + 128)
    }

    @Test func entriesExpireAfterFiveMinutesWithoutUseAndEachUseKeepsThemAlive() {
        let prompt = Self.text(5_000)   // 1,250 tokens: steps 1,024 and 1,152
        _ = simulator.process(prompt, model: model, at: .zero)
        #expect(simulator.process(prompt, model: model, at: .seconds(299)).cachedTokens == 1_152)
        #expect(simulator.process(prompt, model: model, at: .seconds(598)).cachedTokens == 1_152, "the last use counts")
        #expect(simulator.process(prompt, model: model, at: .seconds(899)).cachedTokens == 0, "five minutes and a second unused")
    }

    @Test func eachModelHasItsOwnCache() {
        let prompt = Self.text(6_000)
        _ = simulator.process(prompt, model: "gpt-4.1-mini", at: .zero)
        #expect(simulator.process(prompt, model: "gpt-4.1", at: .seconds(1)).cachedTokens == 0)
        #expect(simulator.process(prompt, model: "gpt-4.1-mini", at: .seconds(2)).cachedTokens == 1_408)
    }

    @Test func memoryIsBoundedAndTheLeastRecentlyUsedPrefixGoesFirst() {
        let small = PromptCacheSimulator(rules: .init(capacity: 16))
        let kept = Self.text(4_096, seed: 99)   // exactly 1,024 tokens: one prefix
        _ = small.process(kept, model: model, at: .zero)
        for index in 0..<40 {
            _ = small.process(Self.text(4_096, seed: UInt64(index)), model: model, at: .milliseconds(index + 1))
            if index % 4 == 0 { _ = small.process(kept, model: model, at: .milliseconds(index + 1)) }
            #expect(small.count <= 16)
        }
        #expect(small.process(kept, model: model, at: .seconds(1)).cachedTokens == 1_024, "used recently, so kept")
        #expect(small.process(Self.text(4_096, seed: 0), model: model, at: .seconds(1)).cachedTokens == 0, "the oldest was dropped")
    }

    @Test func concurrentRequestsSeeOneCache() async {
        let prompt = Self.text(6_000)
        let cached = await withTaskGroup(of: Int.self) { group in
            for _ in 0..<32 { group.addTask { simulator.process(prompt, model: model, at: .zero).cachedTokens } }
            return await group.reduce(into: [Int]()) { $0.append($1) }
        }
        // Exactly one request found the cache empty; every other read all 1,408 tokens.
        #expect(cached.sorted() == [0] + Array(repeating: 1_408, count: 31))
    }

    @Test func aChatCompletionIsReadAsSchemaSystemThenMessages() throws {
        let request = try JSONValue.parse(#"""
            {"model": "m", "stream": true,
             "response_format": {"type": "json_schema", "json_schema": {"name": "atom", "schema": {"type": "object"}, "strict": true}},
             "messages": [{"role": "system", "content": "Be brief."},
                          {"role": "user", "content": [{"type": "text", "text": "Plan."}, {"type": "text", "text": " Task."}]},
                          {"role": "assistant", "content": "ok"}]}
            """#)
        let (bytes, instructions) = PromptCacheSimulator.promptBytes(ofChatCompletion: request)
        let format = try #require(request["response_format"]).serializedBytes()
        #expect(String(decoding: bytes, as: UTF8.self) == String(decoding: format, as: UTF8.self)
                + "system\nBe brief.\nuser\nPlan. Task.\nassistant\nok\n")
        #expect(instructions == format.count + "system\nBe brief.\n".utf8.count)
    }
}
