import Foundation

/// Whom and what a call is for: the foreign keys of its `llm_calls` row. None of it is sent to the model.
public struct LLMAttribution: Sendable, Hashable {
    /// The user the spending is attributed to (nil only for operator tools such as `masterplan llm ask`).
    public var ownerID: UUID?
    public var planID: UUID?
    public var jobID: UUID?
    public var conversationID: UUID?

    public init(ownerID: UUID? = nil, planID: UUID? = nil, jobID: UUID? = nil, conversationID: UUID? = nil) {
        self.ownerID = ownerID
        self.planID = planID
        self.jobID = jobID
        self.conversationID = conversationID
    }

    /// No owner, plan, job or conversation.
    public static let none = LLMAttribution()
}
