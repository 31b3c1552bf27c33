import Base
import Foundation
import JSON
import LLM
import PlanCore
import Store

/// Runs `regeneration` jobs: the API moved a draft (or a failed generation) back to `generating`
/// with the reviewer's feedback (payload `{"feedback": text|null, "version": n}`); this writes the
/// plan's next version from the existing discovery, the previous version's tree and the feedback, and
/// stores it through the same steps, events and failure rules as `GenerationHandler`. The version's
/// change note and history entry carry the feedback.
///
/// The previous version shown to the model is the plan's current tree (what the reviewer saw, edits
/// included), or the latest stored version when the tree is empty. A plan with no discovery yet (its
/// first generation failed before one was stored) gets one first.
public struct RegenerationHandler: JobHandler {
    public let kind = JobKind.regeneration.rawValue
    let generator: PlanGenerator

    /// Regenerates with `generator`, the one the executor's `GenerationHandler` uses.
    public init(generator: PlanGenerator) {
        self.generator = generator
    }

    public func run(_ job: ClaimedJob, context: JobContext) async throws {
        guard let planID = job.planID else { throw JobPayloadError(jobID: job.id, kind: kind, missing: "plan_id") }
        guard let state = try await generator.generatingPlan(planID, context: context) else { return }
        let feedback = job.payload["feedback"]?.stringValue?.trimmingCharacters(in: .whitespacesAndNewlines)
        let snapshot = try await context.database.run { c -> JSONValue? in
            if let tree = try PlanQueries(c).snapshot(id: planID), tree["phases"]?.arrayValue?.isEmpty == false { return tree }
            return try GenerationQueries(c).latestVersionSnapshot(planID: planID)?.snapshot
        }
        let version = job.payload["version"]?.intValue.map { Int($0) } ?? state.version
        let previous = PlanPrompts.PreviousPlan(version: version, snapshot: snapshot,
                                                feedback: feedback?.isEmpty == false ? feedback : nil)
        try await generator.run(state: state, previous: previous, context: context)
    }
}
