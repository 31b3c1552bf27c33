import JSON
@testable import LLM
import Testing
import TestSupport

@Suite(.dedicatedThreads) struct RecordingTests {
    @Test func theFingerprintFollowsTheQuestionNotTheModel() {
        let request = LLMRequest(purpose: .atom, system: "s", messages: [.init(role: .user, content: "u")], key: "task-1/attempt-1")
        var other = request
        other.key = "task-1/attempt-2"
        #expect(request.fingerprint.hasPrefix("sha256:"))
        #expect(request.fingerprint.count == 71)
        #expect(request.fingerprint == request.fingerprint)
        #expect(request.fingerprint != other.fingerprint)
    }

    @Test func cassetteEntriesRoundTripThroughTheirLine() throws {
        let entry = CassetteEntry(purpose: "atom", key: "task-2/attempt-1", response: "print(1)\n", model: "scripted-demo",
                                  usage: LLMUsage(inputTokens: 10, outputTokens: 3, cachedInputTokens: 0), delay: .milliseconds(250),
                                  chunkCharacters: 4, fingerprint: "sha256:00", provider: "anthropic", recordedAt: "2026-11-25T09:00:00Z")
        let read = try Cassette.parse(entry.jsonLine).entries
        var expected = entry
        expected.line = 1
        #expect(read == [expected])
    }

    @Test func aHandWrittenCassetteWithCommentsAndScriptedErrors() throws {
        let cassette = try Cassette.parse("""
            # a scripted model
            {"purpose": "chat", "key": "*", "response": "Hi!"}

            {"purpose": "atom", "key": "t", "error": {"status": 429, "message": "slow down", "retry_after": 2}}
            """)
        #expect(cassette.entries.count == 2)
        #expect(cassette.entries[0].line == 2)
        #expect(cassette.entries[0].usage == nil)
        #expect(cassette.entries[1].error == .init(status: 429, message: "slow down", retryAfter: "2"))
    }

    @Test(arguments: [
        (#"{"purpose": "chat"}"#, "line 1: \"key\" is required"),
        (#"{"purpose": "poetry", "key": "k", "response": "x"}"#, "\"purpose\" \"poetry\" is not one of discovery"),
        (#"{"purpose": "chat", "key": "k"}"#, "\"response\" is required"),
        (#"{"purpose": "chat", "key": "k", "response": "x", "colour": "red"}"#, "unknown member \"colour\""),
        (#"{"purpose": "chat", "key": "k", "response": "x", "usage": {"input_tokens": -1}}"#, "\"usage.input_tokens\" must be a whole number"),
        ("{\"purpose\": \"chat\",", "line 1: not a JSON object on one line"),
    ])
    func aBrokenCassetteNamesTheLineAndTheProblem(_ text: String, _ fragment: String) {
        do {
            _ = try Cassette.parse(text)
            Issue.record("accepted \(text)")
        } catch {
            #expect(error.line == 1)
            #expect("line \(error.line): \(error.message)".contains(fragment), "\(error.message)")
        }
    }
}
