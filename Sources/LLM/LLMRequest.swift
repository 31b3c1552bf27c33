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
    /// The start of the first user turn that many calls share word for word (a plan's project, stack,
    /// task list and interfaces, the same for every atom of the plan): sent before that turn's own
    /// text, and marked as a prompt-cache breakpoint where the provider has them, so the prefix up to
    /// here is read from the provider's cache by every later call. Empty when none.
    public var sharedContext: String
    public var messages: [Message]
    public var temperature: Double
    public var maxTokens: Int
    /// When set, the answer must be one JSON document conforming to this schema (structured output).
    public var jsonSchema: JSONValue?
    /// Identifies the call within its purpose (e.g. "task-12/attempt-2"): for replay matching and logs.
    public var key: String

    public init(purpose: Purpose, system: String, sharedContext: String = "", messages: [Message], temperature: Double = 0.7,
                maxTokens: Int = 4096, jsonSchema: JSONValue? = nil, key: String = "") {
        self.purpose = purpose
        self.system = system
        self.sharedContext = sharedContext
        self.messages = messages
        self.temperature = temperature
        self.maxTokens = maxTokens
        self.jsonSchema = jsonSchema
        self.key = key
    }
}

extension LLMRequest {
    /// The separator between the shared context and the first user turn's own text.
    static let sharedContextSeparator = "\n\n"

    /// The messages as a provider without content blocks receives them: the shared context, when
    /// there is one, begins the first user turn.
    public var flattenedMessages: [Message] {
        guard !sharedContext.isEmpty else { return messages }
        var result = messages
        if let first = result.firstIndex(where: { $0.role == .user }) {
            result[first].content = sharedContext + Self.sharedContextSeparator + result[first].content
        } else {
            result.insert(Message(role: .user, content: sharedContext), at: 0)
        }
        return result
    }
}
