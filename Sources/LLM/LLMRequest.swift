import JSON

/// One request to a model: what the executor asks, whatever the provider.
public struct LLMRequest: Sendable {
    /// Why the call is made; recorded in `llm_calls.purpose` and used to match replay cassettes.
    public enum Purpose: String, Sendable, CaseIterable {
        case discovery, masterplan
        case planRepair = "plan_repair"
        case acceptanceTests = "acceptance_tests"
        case atom
        case gateRepair = "gate_repair"
        case reviewSuggestions = "review_suggestions"
        case chat
    }

    /// One turn of the conversation sent to the model.
    public struct Message: Sendable, Equatable {
        public enum Role: String, Sendable { case user, assistant }
        public var role: Role
        public var content: String

        public init(role: Role, content: String) {
            self.role = role
            self.content = content
        }
    }

    public var purpose: Purpose
    public var system: String
    public var messages: [Message]
    public var temperature: Double
    public var maxTokens: Int
    /// When set, the answer must be one JSON document conforming to this schema (structured output).
    public var jsonSchema: JSONValue?
    /// Identifies the call within its purpose (e.g. "task-12/attempt-2"): for replay matching and logs.
    public var key: String

    public init(purpose: Purpose, system: String, messages: [Message], temperature: Double = 0.7, maxTokens: Int = 4096,
                jsonSchema: JSONValue? = nil, key: String = "") {
        self.purpose = purpose
        self.system = system
        self.messages = messages
        self.temperature = temperature
        self.maxTokens = maxTokens
        self.jsonSchema = jsonSchema
        self.key = key
    }
}
