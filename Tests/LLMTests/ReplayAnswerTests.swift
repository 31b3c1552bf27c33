import JSON
@testable import LLM
import NIOCore
import Testing
import TestSupport

@Suite(.dedicatedThreads) struct ReplayAnswerTests {
    static let texts = [
        "Hello from the cassette!",
        #"{"file":"main.py","content":"print(\"hi\")\n\tx = 'a\\b'\r\n","notes":""}"#,
        "é 漢字 🚀 e\u{301} 👩‍👩‍👧 \r\n CRLF is one character",
        String((0..<0x80).map { Character(Unicode.Scalar(UInt8($0))) }),
        "\u{2028}\u{2029}\u{7F}\u{0}",
        "x",
    ]

    /// The events as `streamEvents` wrote them before it wrote content chunks from a template: every
    /// chunk object serialised whole, the text cut every `size` Characters.
    static func serialisedWhole(_ answer: ReplayAnswer, includeUsage: Bool) -> [String] {
        func event(_ value: JSONValue) -> String { "data: \(value.jsonText)\n\n" }
        var events = [event(answer.chunk(delta: ["role": "assistant", "content": ""], finishReason: nil, includeUsage: includeUsage))]
        let text = answer.entry.response
        let size = answer.entry.chunkCharacters ?? max(16, (text.count + 4095) / 4096)
        var start = text.startIndex
        while start < text.endIndex {
            let end = text.index(start, offsetBy: size, limitedBy: text.endIndex) ?? text.endIndex
            events.append(event(answer.chunk(delta: ["content": .string(String(text[start..<end]))], finishReason: nil,
                                             includeUsage: includeUsage)))
            start = end
        }
        events.append(event(answer.chunk(delta: [:], finishReason: answer.entry.finishReason, includeUsage: includeUsage)))
        if includeUsage, let usage = answer.usageObject {
            events.append(event(["id": .string(answer.id), "object": "chat.completion.chunk", "created": JSONValue(answer.created),
                                 "model": .string(answer.model), "system_fingerprint": "masterplan-replay", "choices": [],
                                 "usage": usage]))
        }
        events.append("data: [DONE]\n\n")
        return events
    }

    @Test(arguments: [nil, 1, 3, 16, 5000])
    func streamedEventsAreTheBytesOfEachChunkSerialisedWhole(_ chunkCharacters: Int?) {
        for text in Self.texts {
            for includeUsage in [false, true] {
                // A model name or id equal to the placeholder's JSON must not be taken for the content.
                for model in ["gpt-4.1-mini", ReplayAnswer.placeholder] {
                    let answer = ReplayAnswer(id: "chatcmpl-replay-3", created: 1_764_000_000, model: model,
                                              entry: CassetteEntry(purpose: "chat", key: "k", response: text, finishReason: "length",
                                                                   usage: LLMUsage(inputTokens: 10, outputTokens: 2, cachedInputTokens: 4),
                                                                   chunkCharacters: chunkCharacters))
                    let events = answer.streamEvents(includeUsage: includeUsage).map { Array($0.readableBytesView) }
                    #expect(events == Self.serialisedWhole(answer, includeUsage: includeUsage).map { Array($0.utf8) },
                            "text \(text.debugDescription), chunks of \(chunkCharacters.map(String.init) ?? "default")")
                }
            }
        }
    }

    @Test func aLongAnswerIsCutIntoAtMost4096Chunks() {
        let answer = ReplayAnswer(id: "i", created: 0, model: "m",
                                  entry: CassetteEntry(purpose: "chat", key: "k", response: String(repeating: "abcdé", count: 20_000)))
        let events = answer.streamEvents(includeUsage: false)
        #expect(events.count - 3 <= 4096)
        #expect(events.map { Array($0.readableBytesView) } == Self.serialisedWhole(answer, includeUsage: false).map { Array($0.utf8) })
    }

    @Test func jsonStringsAreWrittenAsTheSerialiserWritesThem() {
        var every = ""
        for scalar in 0..<0x100 { every.unicodeScalars.append(Unicode.Scalar(UInt8(scalar))) }
        for text in Self.texts + [every, "", "\"", "\\", "\u{1}masterplan-piece\u{1}"] {
            var buffer = ByteBuffer()
            ReplayAnswer.writeJSONString(text[...], to: &buffer)
            #expect(Array(buffer.readableBytesView) == (try? JSONValue.string(text).serializedBytes()), "\(text.debugDescription)")
        }
    }

    @Test func anEmptyAnswerHasNoContentChunks() {
        let answer = ReplayAnswer(id: "i", created: 0, model: "m", entry: CassetteEntry(purpose: "chat", key: "k", response: ""))
        #expect(answer.streamEvents(includeUsage: true).map { Array($0.readableBytesView) }
                == Self.serialisedWhole(answer, includeUsage: true).map { Array($0.utf8) })
    }
}
