import ArgumentParser
import Foundation
import JSON
import LLM
import PlanCore
import Store

/// `masterplan llm ask "PROMPT"`: one prompt, the answer streamed, then the usage line.
struct LLMAskCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ask",
        abstract: "Send one prompt to the configured model, stream the answer, then print model, tokens, cost and latency.",
        discussion: """
        The model comes from MASTERPLAN_LLM (anthropic:MODEL, openai:MODEL or openai-compatible:MODEL@BASE_URL) \
        with ANTHROPIC_API_KEY or OPENAI_API_KEY. The last line is
          model=… provider=… input_tokens=… output_tokens=… cached_tokens=… cost_usd=… latency_ms=… stop=…
        where "unknown" marks what the provider did not report or the price table does not know. When a \
        database is configured (--database-url or MASTERPLAN_DATABASE_URL) the call is recorded in llm_calls.
        Exit status: 0 on an answer, 1 when the call failed, 2 when the configuration is wrong.
        """
    )

    @Argument(help: "The prompt.")
    var prompt: String

    @Option(help: "System prompt.")
    var system = "You are a helpful assistant. Answer briefly."

    @Option(help: "Largest answer, in tokens.")
    var maxTokens = 1024

    @Option(help: "Sampling temperature.")
    var temperature = 0.2

    @Option(help: "The call's purpose, as recorded in llm_calls and matched by replay cassettes.")
    var purpose = LLMRequest.Purpose.chat.rawValue

    @Option(help: "The call's key, matched by replay cassettes.")
    var key = "llm-ask"

    @Option(help: "Ask for a structured answer following this JSON Schema file (or: plan, discovery, acceptance-tests).")
    var jsonSchema: String?

    @Option(name: .customLong("database-url"), help: "Record the call in llm_calls of this database (default: $MASTERPLAN_DATABASE_URL; none when unset).")
    var databaseURL: String?

    func validate() throws {
        guard maxTokens >= 1 else { throw ValidationError("--max-tokens must be at least 1, got \(maxTokens)") }
        guard temperature >= 0, temperature <= 2 else { throw ValidationError("--temperature must be between 0 and 2") }
        guard LLMRequest.Purpose(rawValue: purpose) != nil else {
            throw ValidationError("--purpose must be one of \(LLMRequest.Purpose.allCases.map(\.rawValue).joined(separator: ", "))")
        }
    }

    func run() throws {
        let configuration: LLMConfiguration
        do {
            configuration = try LLMConfiguration.fromEnvironment()
        } catch {
            LLMTerminal.standardError("masterplan: \(error.message)")
            throw ExitCode(2)
        }
        let schema = try loadSchema()
        let conninfo = databaseURL ?? ProcessInfo.processInfo.environment["MASTERPLAN_DATABASE_URL"].flatMap { $0.isEmpty ? nil : $0 }
        // Reports wait until the answer is printed, so they never split its lines.
        let reports = HeldReports()
        let client: LLMClient
        do {
            client = try LLMClient(configuration: configuration, callLog: conninfo.map { PostgresLLMCallLog(conninfo: $0, connections: 1) },
                                   diagnostics: reports.diagnostics)
        } catch {
            LLMTerminal.standardError("masterplan: \(error)")
            throw ExitCode(2)
        }
        let request = LLMRequest(purpose: LLMRequest.Purpose(rawValue: purpose)!, system: system,
                                 messages: [.init(role: .user, content: prompt)], temperature: temperature,
                                 maxTokens: maxTokens, jsonSchema: schema, key: key)
        let outcome = LLMTerminal.blockingAsync { () async -> Result<LLMResult, LLMError> in
            do throws(LLMError) {
                let result = try await client.complete(request) { piece in LLMTerminal.standardOutput(piece) }
                try? await client.shutdown()
                return .success(result)
            } catch {
                try? await client.shutdown()
                return .failure(error)
            }
        }
        defer { reports.flush() }
        switch outcome {
        case .success(let result):
            LLMTerminal.standardOutput(result.text.hasSuffix("\n") || result.text.isEmpty ? "" : "\n")
            LLMTerminal.standardOutput(result.usageLine + "\n")
        case .failure(let error):
            LLMTerminal.standardOutput("\n")
            // An answer that arrived but breaks the schema was still paid for: show what it cost
            // and how it was asked for (the structured mode), then every violation.
            if let answer = error.answer { LLMTerminal.standardOutput(answer.usageLine + "\n") }
            LLMTerminal.standardError("masterplan llm ask: \(error)")
            for violation in error.violations.dropFirst(3) { LLMTerminal.standardError("  \(violation)") }
            throw ExitCode(1)
        }
    }

    private func loadSchema() throws -> JSONValue? {
        guard let jsonSchema else { return nil }
        switch jsonSchema {
        case "plan": return PlanJSONSchema.plan
        case "discovery": return PlanJSONSchema.discovery
        case "acceptance-tests": return PlanJSONSchema.acceptanceTests
        default:
            guard let data = FileManager.default.contents(atPath: jsonSchema) else {
                LLMTerminal.standardError("masterplan: cannot read the JSON schema \(jsonSchema)")
                throw ExitCode(2)
            }
            do {
                return try JSONValue.parse([UInt8](data))
            } catch {
                LLMTerminal.standardError("masterplan: the JSON schema \(jsonSchema) is not JSON: \(error)")
                throw ExitCode(2)
            }
        }
    }
}
