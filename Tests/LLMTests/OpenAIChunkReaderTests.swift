import Foundation
import JSON
@testable import LLM
import Testing
import TestSupport

/// `OpenAIChunkReader` must give the full parse's answer or none: every test here runs the decoder
/// with the reader and without it (`consumeParsingInFull`) and compares what each returns, throws
/// and remembers.
@Suite(.dedicatedThreads) struct OpenAIChunkReaderTests {
    /// Data of `data:` events from real and replayed streams, and of chunks the reader must leave alone.
    static let corpus: [[UInt8]] = {
        var texts: [String] = []
        let streams = [OpenAIFixture.answer(["print(", "'hi'", ")"], usage: (120, 9, 64)),
                       OpenAIFixture.answer(["a\"b\\c", "\n\t", "é 漢字 🚀"], finish: "length", usage: nil),
                       OpenAIFixture.llamaCppAnswer(["Hel", "lo"])]
        for events in streams {
            texts += events.map { $0.replacingOccurrences(of: "data: ", with: "").trimmingCharacters(in: .newlines) }
        }
        let replay = ReplayAnswer(id: "chatcmpl-replay-7", created: 1_764_000_000, model: "gpt-4.1-mini",
                                  entry: CassetteEntry(purpose: "atom", key: "k", response: ##"{"file":"a.md","content":"# A\n\"q\" \\ é"}"##,
                                                       usage: LLMUsage(inputTokens: 9, outputTokens: 4), chunkCharacters: 5))
        texts += replay.streamEvents(includeUsage: true).map {
            String(decoding: $0.readableBytesView, as: UTF8.self).replacingOccurrences(of: "data: ", with: "")
                .trimmingCharacters(in: .newlines)
        }
        texts += [
            #"{"choices":[{"index":0,"delta":{"content":"a\"b\\c\/d\b\f\n\r\t"}}]}"#,
            #"{"choices":[{"index":0,"delta":{"content":"\u00e9\ud83d\ude80"}}]}"#,
            #"{"choices":[{"index":0,"delta":{"content":"\ud800"}}]}"#,
            #"{"choices":[{"index":0,"delta":{"content":"\u0000"}}]}"#,
            "{\"choices\":[{\"index\":0,\"delta\":{\"content\":\"raw\ttab and\nnewline\"}}]}",
            #"{"choices":[{"index":1,"delta":{"content":"other"}},{"index":0,"delta":{"content":"mine","refusal":"no"}}]}"#,
            #"{"choices":[{"index":0.0,"delta":{"content":"x"}}]}"#,
            #"{"choices":[{"index":"0","delta":{"content":"x"}}]}"#,
            #"{"choices":[{"index":-1,"delta":{"content":"x"}}]}"#,
            #"{"choices":[{"index":-0,"delta":{"content":"x"}}]}"#,
            #"{"choices":[{"delta":{"content":"x"},"finish_reason":"stop"}]}"#,
            #"{"choices":[{"index":0,"delta":null,"finish_reason":"length"}]}"#,
            #"{"choices":[{"index":0,"delta":{"content":null},"finish_reason":5}]}"#,
            #"{"choices":[{"index":0,"delta":5}]}"#,
            #"{"choices":[{"index":0,"delta":{"content":5}}]}"#,
            #"{"choices":[{"index":0,"delta":{"refusal":5,"role":"assistant","tool_calls":[{"id":"c","function":{"arguments":"{}"}}]}}]}"#,
            #"{"choices":[5,"x",null]}"#,
            #"{"choices":{}}"#, #"{"choices":null}"#, #"{"choices":[]}"#, "{}", "[]", #""str""#, "5", "null", "{", "}",
            #"{"error":{"message":"boom","type":"server_error"}}"#,
            #"{"error":"plain"}"#,
            #"{"error":null,"choices":[{"index":0,"delta":{"content":"x"}}]}"#,
            #"{"usage":{"prompt_tokens":3,"completion_tokens":4,"prompt_tokens_details":{"cached_tokens":1}},"choices":[]}"#,
            #"{"usage":7,"choices":[{"index":0,"delta":{"content":"x"}}]}"#,
            #"{"usage":null,"choices":[{"index":0,"delta":{"content":"x"}}]}"#,
            #"{"choices":[],"choices":[]}"#,
            #"{"choices":[{"index":0,"index":0}]}"#,
            #"{"x":{"a":1,"a":2},"choices":[]}"#,
            #"{"a":{"k":1},"b":{"k":1},"choices":[{"index":0,"delta":{"content":"same keys in sibling objects"}}]}"#,
            #"{"created":12345678901234567890,"choices":[]}"#,
            #"{"created":123456789012345678,"choices":[]}"#,
            #"{"created":1.5e3,"choices":[]}"#, #"{"created":1e999,"choices":[]}"#, #"{"created":01,"choices":[]}"#,
            #"{"created":-,"choices":[]}"#, #"{"created":+1,"choices":[]}"#,
            " { \"choices\" : [ { \"index\" : 0 ,\r\n \"delta\" : { \"content\" : \"x\" } } ] } \n",
            #"{"choices":[]} x"#, #"{"choices":[]}{}"#, #"{"choices":[],}"#, #"{"choices":[{"index":0,}]}"#,
            #"{"choices":[{"index":0,"delta":{"content":"x"#,
            #"{"choices":[{"index":0,"delta":{"refusal":"I can't"}}]}"#,
            #"{"model":"m1","choices":[]}"#, #"{"model":5,"choices":[]}"#, #"{"model":"m\u0031"}"#,
            "{\"x\":" + String(repeating: "[", count: 40) + String(repeating: "]", count: 40) + ",\"choices\":[]}",
            "{\"x\":" + String(repeating: "[", count: 600) + String(repeating: "]", count: 600) + "}",
            #"{"a":true,"b":false,"c":null,"choices":[]}"#, #"{"a":tru}"#, #"{"a":nulll}"#, #"{"a":True}"#,
            #"{"ch\u006fices":[{"index":0,"delta":{"content":"escaped key"}}]}"#,
            #"{"":1,"choices":[]}"#,
            #"{"choices":[{"index":0,"delta":{"content":"\x"}}]}"#,
            "\u{A0}{\"choices\":[{\"index\":0,\"delta\":{\"content\":\"nbsp\"}}]}\u{3000}",
            "[DONE]", " [DONE]\t", "\u{A0}[DONE]", "[DONE] x", "", "   ", "\t",
        ]
        var corpus = texts.map { Array($0.utf8) }
        // Bytes that are not UTF-8 (the full parse reads them as U+FFFD), and UTF-8's edge cases.
        for bad: [UInt8] in [[0xFF], [0xC3], [0xC0, 0x80], [0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80], [0xE0, 0x9F, 0xBF],
                             [0xF0, 0x8F, 0xBF, 0xBF], [0xEF, 0xBF, 0xBF], [0xF4, 0x8F, 0xBF, 0xBF], [0xED, 0x9F, 0xBF], [0xC2, 0x80]] {
            corpus.append(Array(#"{"choices":[{"index":0,"delta":{"content":"a"#.utf8) + bad + Array(#"b"}}]}"#.utf8))
            corpus.append(Array(#"{"id":"a"#.utf8) + bad + Array(#"","choices":[]}"#.utf8))
            corpus.append(Array(#"{"choices":[]}"#.utf8) + bad)
        }
        return corpus
    }()

    /// What a decoder did with an event: its pieces or its error, and everything it remembers.
    static func outcome(_ data: [UInt8], after earlier: [UInt8]?, inFull: Bool) -> String {
        var decoder = OpenAIStreamDecoder()
        decoder.structured = true
        var log = ""
        for bytes in [earlier, data].compactMap({ $0 }) {
            let event = ServerSentEvent(event: nil, dataBytes: bytes)
            do {
                log += "\(inFull ? try decoder.consumeParsingInFull(event) : try decoder.consume(event)) "
            } catch {
                log += "error \(error) "
            }
        }
        return log + String(describing: decoder)
    }

    /// The data (shown as text) for which the decoder with the reader and the decoder without it differ.
    static func mismatch(_ data: [UInt8]) -> String? {
        let first = Array(OpenAIFixture.chunk(#"{"role":"assistant","content":""}"#).dropFirst(6).dropLast(2).utf8)
        for earlier in [nil, first] {
            let read = outcome(data, after: earlier, inFull: false)
            let parsed = outcome(data, after: earlier, inFull: true)
            if read != parsed { return "\(String(decoding: data, as: UTF8.self).debugDescription): \(read) ≠ \(parsed)" }
        }
        return nil
    }

    @Test func everyChunkOfTheCorpusGivesTheFullParsesOutcome() {
        #expect(Self.corpus.compactMap(Self.mismatch) == [])
    }

    @Test func everyChunkWithOneByteChangedGivesTheFullParsesOutcome() async throws {
        // Thousands of parses: off the cooperative pool, which the tests' HTTP servers need (2 threads here).
        let mismatches = try await offPool {
            let replacements = Array(#""\{}[],:0-.eEnu tf"#.utf8) + [0x0A, 0x00, 0x1F, 0x7F, 0x80, 0xBF, 0xC3, 0xE2, 0xF0, 0xFF]
            var random = SplitMix64(seed: 42)
            var mismatches: [String] = []
            for _ in 0..<4_000 {
                var data = Self.corpus[random.next(below: Self.corpus.count)]
                guard !data.isEmpty else { continue }
                let position = random.next(below: data.count)
                switch random.next(below: 3) {
                case 0: data.remove(at: position)
                case 1: data.insert(replacements[random.next(below: replacements.count)], at: position)
                default: data[position] = replacements[random.next(below: replacements.count)]
                }
                if let mismatch = Self.mismatch(data) { mismatches.append(mismatch) }
            }
            return mismatches
        }
        #expect(mismatches == [])
    }

    @Test func everyPrefixOfAChunkGivesTheFullParsesOutcome() {
        let data = Array(OpenAIFixture.chunk(#"{"content":"a\"b é"}"#, finish: "stop").dropFirst(6).dropLast(2).utf8)
        #expect((0...data.count).compactMap { Self.mismatch(Array(data[..<$0])) } == [])
    }

    /// The point of the reader: the chunks real servers and the replay server send are read, not parsed.
    @Test func theUsualChunksAreReadDirectly() throws {
        let usual = [OpenAIFixture.chunk(#"{"role":"assistant","content":"","refusal":null}"#),
                     OpenAIFixture.chunk(#"{"content":"print('hi') \"é\" 漢字\n"}"#),
                     OpenAIFixture.chunk("{}", finish: "stop")]
            + OpenAIFixture.llamaCppAnswer(["def main():"]).dropLast()
        for event in usual {
            let data = Array(event.replacingOccurrences(of: "data: ", with: "").trimmingCharacters(in: .newlines).utf8)
            #expect(OpenAIChunkReader.read(data[...], wantsModel: true) != nil, "\(event)")
        }
        let chunk = try #require(OpenAIChunkReader.read(Array(OpenAIFixture.chunk(#"{"content":"a\"\\\/\n"}"#, finish: "length")
                                                                .dropFirst(6).dropLast(2).utf8)[...], wantsModel: true))
        #expect(chunk == OpenAIChunkReader.Chunk(model: "gpt-4.1-mini-2025-04-14", choices: [
            OpenAIChunkReader.Choice(index: 0, delta: OpenAIChunkReader.Delta(content: "a\"\\/\n"), finishReason: "length")]))
        let replay = ReplayAnswer(id: "chatcmpl-replay-1", created: 1, model: "m",
                                  entry: CassetteEntry(purpose: "atom", key: "k", response: "some answer text", chunkCharacters: 4))
        for event in replay.streamEvents(includeUsage: true).dropLast() {
            let data = Array(event.readableBytesView.dropFirst(6).dropLast(2))
            #expect(OpenAIChunkReader.read(data[...], wantsModel: false) != nil)
        }
    }

    @Test func whatTheReaderLeavesToTheFullParse() {
        for text in [#"{"choices":[{"index":0,"delta":{"content":"\u00e9"}}]}"#,
                     #"{"usage":{"prompt_tokens":1},"choices":[]}"#,
                     #"{"error":{"message":"x"}}"#,
                     #"{"created":1.5,"choices":[]}"#,
                     #"{"choices":[],"choices":[]}"#,
                     "{\"choices\":[{\"index\":0,\"delta\":{\"content\":\"raw\nnewline\"}}]}",
                     #"{"choices":[]} trailing"#] {
            #expect(OpenAIChunkReader.read(Array(text.utf8)[...], wantsModel: true) == nil, "\(text)")
        }
    }
}
