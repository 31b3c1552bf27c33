/// The event types generation and chat emit; `PlanWriter` emits
/// `discovery_generation_complete`, `plan_status_changed` and `masterplan_generation_complete` itself,
/// in the transactions that store the discovery and the plan.
enum GenerationEvent: String, Sendable {
    case discoveryStart = "discovery_generation_start"
    case discoveryProgress = "discovery_tokens_progress"
    case planStart = "masterplan_generation_start"
    case planProgress = "masterplan_tokens_progress"
    case planFailed = "masterplan_generation_failed"
    case statusChanged = "plan_status_changed"
    case chatMessage = "chat_message"
}
