import Foundation
@testable import LLM
import Store
import TestSupport
import Testing

/// The two operator commands, run as the built binary.
@Suite(.timeLimit(.minutes(2))) struct CommandTests {
    static let cassette = """
        # scripted model for the command tests
        {"purpose": "chat", "key": "llm-ask", "model": "scripted-demo", "response": "The model answers: all systems go.", "usage": {"input_tokens": 21, "output_tokens": 8, "cached_tokens": 0}}
        """

    func writeCassette() throws -> String {
        let path = NSTemporaryDirectory() + "masterplan-cmd-\(UUID().uuidString).jsonl"
        try Self.cassette.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test func replayLLMPrintsItsAddressAndServesTheCassette() async throws {
        let path = try writeCassette()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let prefix = "replay-llm: listening on http://127.0.0.1:"
        let process = try BackgroundProcess(MasterplanBinary.path, ["replay-llm", "--cassette", path, "--listen", "127.0.0.1:0"],
                                            environment: ["PATH": "/usr/bin:/bin"], outputPath: path + ".out")
        defer {
            process.stop(SIGKILL, seconds: 5)
            try? FileManager.default.removeItem(atPath: path + ".out")
        }
        let first = try #require(try await offPool { process.firstLine { $0.hasPrefix(prefix) } }, "\(process.output)")
        #expect(first.hasPrefix(prefix))
        #expect(first.contains("a scripted model, not a real one"))
        let port = try #require(Int(first.dropFirst(prefix.count).prefix { $0.isNumber }))
        #expect(port > 0)

        let client = try LLMClient.forTest(.openAICompatible, baseURL: "http://127.0.0.1:\(port)/v1", model: "scripted-demo", apiKey: nil)
        let result = try await client.complete(LLMRequest(purpose: .chat, system: "s", messages: [.init(role: .user, content: "status?")],
                                                          key: "llm-ask"))
        try await client.shutdown()
        #expect(result.text == "The model answers: all systems go.")
        #expect(result.usage == LLMUsage(inputTokens: 21, outputTokens: 8, cachedInputTokens: 0))

        let status = try await offPool { process.stop(SIGTERM, seconds: 10) }
        #expect(status == 0, "SIGTERM ends it with status 0 (not by the signal): \(String(describing: status))")
    }

    @Test func replayLLMRefusesANonLoopbackAddress() async throws {
        let path = try writeCassette()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let outcome = try await offPool { try MasterplanBinary.run(["replay-llm", "--cassette", path, "--listen", "0.0.0.0:8089"]) }
        #expect(outcome.status != 0)
        #expect(outcome.output.contains("loopback only"))
    }

    @Test func llmAskStreamsTheAnswerAndPrintsTheUsageLine() async throws {
        let server = try await ReplayServer.bind(cassette: try Cassette.parse(Self.cassette), host: "127.0.0.1", port: 0)
        let serving = Task { try await server.serve() }
        let baseURL = server.baseURL
        let outcome = try await offPool {
            try MasterplanBinary.run(["llm", "ask", "Are you there?"],
                                     environment: ["MASTERPLAN_LLM": "openai-compatible:scripted-demo@\(baseURL)"])
        }
        await server.close()
        try await serving.value
        #expect(outcome.status == 0, "\(outcome.output)")
        let lines = outcome.output.split(separator: "\n").map(String.init)
        #expect(lines.contains("The model answers: all systems go."))
        let usage = try #require(lines.first { $0.hasPrefix("model=") })
        #expect(usage.hasPrefix("model=scripted-demo provider=openai-compatible input_tokens=21 output_tokens=8 cached_tokens=0 cost_usd=unknown latency_ms="))
        #expect(usage.contains("scripted=true"))
        #expect(usage.contains("(model scripted-demo is not in the price table)"))
    }

    @Test func llmAskWithAWrongSettingSaysWhichVariableAndTheForm() async throws {
        let outcome = try await offPool { try MasterplanBinary.run(["llm", "ask", "hi"], environment: ["MASTERPLAN_LLM": "claude"]) }
        #expect(outcome.status == 2)
        #expect(outcome.output.trimmingCharacters(in: .whitespacesAndNewlines)
                == "masterplan: MASTERPLAN_LLM=claude is not valid: expected \(LLMConfiguration.expectedForm)")
    }
}
