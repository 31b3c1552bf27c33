import Foundation

/// A job row that lacks what its kind needs (a plan, a conversation, a message id): the API that
/// enqueues jobs never writes one, so it is reported rather than guessed around.
public struct JobPayloadError: Error, Sendable, CustomStringConvertible {
    public var jobID: UUID
    public var kind: String
    /// What is missing, e.g. "a plan_id".
    public var missing: String

    public var description: String { "the \(kind) job \(jobID.uuidString.lowercased()) has no \(missing)" }
}
