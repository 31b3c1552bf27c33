import Foundation
import JSON
import PlanCore

/// One event of the progress feed (`events`, streamed as SSE), with its typed payload: the event's
/// name (`kind`, the SSE `event:` line and `events.type`) and the object a browser reads as `data`.
///
/// Each case carries one payload struct whose `json` is the object stored in `events.payload`;
/// `EventFeed.emit(_:ownerID:planID:conversationID:)` writes it. The catalogue of names is
/// `ProgressEvent.Kind`: the rows of `event_types`, the `Event` schema of the OpenAPI document and
/// `EVENT_TYPES` in `static/js/events.js` are checked against it by tests.
public enum ProgressEvent: Sendable, Equatable {
    case discoveryGenerationStart(DiscoveryGenerationStart)
    case discoveryTokensProgress(TokensProgress)
    case discoveryGenerationComplete(DiscoveryGenerationComplete)
    case masterplanGenerationStart(MasterplanGenerationStart)
    case masterplanTokensProgress(TokensProgress)
    case masterplanGenerationComplete(MasterplanGenerationComplete)
    case masterplanGenerationFailed(MasterplanGenerationFailed)
    case planStatusChanged(PlanStatusChanged)
    case masterplanExecutionStart(MasterplanExecutionStart)
    case waveExecutionStart(WaveExecutionStart)
    case atomExecutionProgress(AtomExecutionProgress)
    case atomExecutionComplete(AtomExecutionComplete)
    case waveExecutionComplete(WaveExecutionComplete)
    case acceptanceTestResult(AcceptanceTestResult)
    case gateValidationResult(GateValidationResult)
    case reviewCreated(ReviewCreated)
    case reviewResolved(ReviewResolved)
    case costWarning(CostWarning)
    case masterplanExecutionComplete(MasterplanExecutionComplete)
    case chatMessage(ChatMessage)
    case chatReplyProgress(ChatReplyProgress)

    /// Every event name the feed accepts, in the order `Migrations/0006_events.sql` registers them.
    public enum Kind: String, CaseIterable, Sendable {
        case discoveryGenerationStart = "discovery_generation_start"
        case discoveryTokensProgress = "discovery_tokens_progress"
        case discoveryGenerationComplete = "discovery_generation_complete"
        case masterplanGenerationStart = "masterplan_generation_start"
        case masterplanTokensProgress = "masterplan_tokens_progress"
        case masterplanGenerationComplete = "masterplan_generation_complete"
        case masterplanGenerationFailed = "masterplan_generation_failed"
        case planStatusChanged = "plan_status_changed"
        case masterplanExecutionStart = "masterplan_execution_start"
        case waveExecutionStart = "wave_execution_start"
        case atomExecutionProgress = "atom_execution_progress"
        case atomExecutionComplete = "atom_execution_complete"
        case waveExecutionComplete = "wave_execution_complete"
        case acceptanceTestResult = "acceptance_test_result"
        case gateValidationResult = "gate_validation_result"
        case reviewCreated = "review_created"
        case reviewResolved = "review_resolved"
        case costWarning = "cost_warning"
        case masterplanExecutionComplete = "masterplan_execution_complete"
        case chatMessage = "chat_message"
        case chatReplyProgress = "chat_reply_progress"
    }

    /// The event's name.
    public var kind: Kind {
        switch self {
        case .discoveryGenerationStart: .discoveryGenerationStart
        case .discoveryTokensProgress: .discoveryTokensProgress
        case .discoveryGenerationComplete: .discoveryGenerationComplete
        case .masterplanGenerationStart: .masterplanGenerationStart
        case .masterplanTokensProgress: .masterplanTokensProgress
        case .masterplanGenerationComplete: .masterplanGenerationComplete
        case .masterplanGenerationFailed: .masterplanGenerationFailed
        case .planStatusChanged: .planStatusChanged
        case .masterplanExecutionStart: .masterplanExecutionStart
        case .waveExecutionStart: .waveExecutionStart
        case .atomExecutionProgress: .atomExecutionProgress
        case .atomExecutionComplete: .atomExecutionComplete
        case .waveExecutionComplete: .waveExecutionComplete
        case .acceptanceTestResult: .acceptanceTestResult
        case .gateValidationResult: .gateValidationResult
        case .reviewCreated: .reviewCreated
        case .reviewResolved: .reviewResolved
        case .costWarning: .costWarning
        case .masterplanExecutionComplete: .masterplanExecutionComplete
        case .chatMessage: .chatMessage
        case .chatReplyProgress: .chatReplyProgress
        }
    }

    /// The object stored as the event's payload (the SSE `data`'s `data` member).
    public var payload: JSONObject {
        switch self {
        case .discoveryGenerationStart(let payload): payload.json
        case .discoveryTokensProgress(let payload): payload.json
        case .discoveryGenerationComplete(let payload): payload.json
        case .masterplanGenerationStart(let payload): payload.json
        case .masterplanTokensProgress(let payload): payload.json
        case .masterplanGenerationComplete(let payload): payload.json
        case .masterplanGenerationFailed(let payload): payload.json
        case .planStatusChanged(let payload): payload.json
        case .masterplanExecutionStart(let payload): payload.json
        case .waveExecutionStart(let payload): payload.json
        case .atomExecutionProgress(let payload): payload.json
        case .atomExecutionComplete(let payload): payload.json
        case .waveExecutionComplete(let payload): payload.json
        case .acceptanceTestResult(let payload): payload.json
        case .gateValidationResult(let payload): payload.json
        case .reviewCreated(let payload): payload.json
        case .reviewResolved(let payload): payload.json
        case .costWarning(let payload): payload.json
        case .masterplanExecutionComplete(let payload): payload.json
        case .chatMessage(let payload): payload.json
        case .chatReplyProgress(let payload): payload.json
        }
    }
}

extension UUID {
    /// The id as the feed writes it: lowercase, as PostgreSQL prints a `uuid`.
    var feedJSON: JSONValue { .string(uuidString.lowercased()) }
}
