@testable import LLM
import Testing
import TestSupport

@Suite(.dedicatedThreads) struct LLMConfigurationTests {
    @Test func readsEachProviderForm() throws {
        let anthropic = try LLMConfiguration.fromEnvironment(["MASTERPLAN_LLM": "anthropic:claude-sonnet-4-5", "ANTHROPIC_API_KEY": "sk-ant-x"])
        #expect(anthropic.provider == .anthropic)
        #expect(anthropic.model == "claude-sonnet-4-5")
        #expect(anthropic.baseURL == "https://api.anthropic.com")
        #expect(anthropic.apiKey == "sk-ant-x")

        let openai = try LLMConfiguration.fromEnvironment(["MASTERPLAN_LLM": "openai:gpt-4.1-mini", "OPENAI_API_KEY": "sk-y",
                                                          "MASTERPLAN_LLM_RECORD": "/tmp/run.jsonl"])
        #expect(openai.provider == .openai)
        #expect(openai.baseURL == "https://api.openai.com/v1")
        #expect(openai.recordPath == "/tmp/run.jsonl")

        let local = try LLMConfiguration.fromEnvironment(["MASTERPLAN_LLM": "openai-compatible:llama3.2:3b@http://127.0.0.1:11434/v1/"])
        #expect(local.provider == .openAICompatible)
        #expect(local.model == "llama3.2:3b")
        #expect(local.baseURL == "http://127.0.0.1:11434/v1")
        #expect(local.apiKey == nil)
        #expect(local.settingValue == "openai-compatible:llama3.2:3b@http://127.0.0.1:11434/v1")

        let proxied = try LLMConfiguration.fromEnvironment(["MASTERPLAN_LLM": "anthropic:claude-haiku-4-5", "ANTHROPIC_API_KEY": "k",
                                                           "ANTHROPIC_BASE_URL": "http://127.0.0.1:9000/"])
        #expect(proxied.baseURL == "http://127.0.0.1:9000")
    }

    @Test(arguments: [
        ([:], "MASTERPLAN_LLM", "MASTERPLAN_LLM is not set: expected anthropic:MODEL, openai:MODEL or openai-compatible:MODEL@BASE_URL"),
        (["MASTERPLAN_LLM": "gpt-4o"], "MASTERPLAN_LLM", "MASTERPLAN_LLM=gpt-4o is not valid: expected"),
        (["MASTERPLAN_LLM": "gemini:pro"], "MASTERPLAN_LLM", "names the unknown provider \"gemini\""),
        (["MASTERPLAN_LLM": "anthropic:"], "MASTERPLAN_LLM", "has no model name"),
        (["MASTERPLAN_LLM": "openai-compatible:llama3"], "MASTERPLAN_LLM", "has no base URL: expected openai-compatible:MODEL@BASE_URL"),
        (["MASTERPLAN_LLM": "openai-compatible:m@http://user:pw@host/v1"], "MASTERPLAN_LLM", "must not carry a user or password"),
        (["MASTERPLAN_LLM": "anthropic:claude-sonnet-4-5"], "ANTHROPIC_API_KEY", "ANTHROPIC_API_KEY is not set"),
        (["MASTERPLAN_LLM": "openai:gpt-4o"], "OPENAI_API_KEY", "OPENAI_API_KEY is not set"),
        (["MASTERPLAN_LLM": "openai:gpt-4o", "OPENAI_API_KEY": "sk a"], "OPENAI_API_KEY", "contains whitespace"),
        (["MASTERPLAN_LLM": "openai:gpt-4o", "OPENAI_API_KEY": "k", "OPENAI_BASE_URL": "ftp://x"], "OPENAI_BASE_URL", "is not an http:// or https:// URL"),
    ])
    func aWrongValueFailsWithOneLineNamingTheVariable(_ environment: [String: String], _ variable: String, _ fragment: String) {
        do {
            _ = try LLMConfiguration.fromEnvironment(environment)
            Issue.record("accepted \(environment)")
        } catch {
            #expect(error.variable == variable)
            #expect(error.message.contains(fragment), "\(error.message)")
            #expect(!error.message.contains("\n"))
        }
    }

    @Test func theDescriptionNeverShowsTheKey() throws {
        let configuration = try LLMConfiguration.fromEnvironment(["MASTERPLAN_LLM": "openai:gpt-4o", "OPENAI_API_KEY": "sk-secret-123"])
        #expect(!"\(configuration)".contains("sk-secret-123"))
        #expect("\(configuration)".contains("API key set"))
    }
}
