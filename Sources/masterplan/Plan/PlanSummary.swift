import Foundation
import PlanCore

/// The few lines `plan validate` prints for a valid plan.
struct PlanSummary {
    let plan: ValidatedPlan
    let execution: ExecutionPlan
    let estimate: PlanEstimate
    let concurrency: Int

    var lines: [String] {
        let milestones = plan.plan.phases.reduce(0) { $0 + $1.milestones.count }
        let critical = execution.criticalPath.prefix(6).map { execution.atoms[$0].key.description }
        let more = execution.criticalPathLength > 6 ? " → … (\(execution.criticalPathLength - 6) more)" : ""
        return [
            "valid plan \"\(plan.plan.projectName)\"",
            "tasks:         \(plan.tasks.count) in \(plan.plan.phases.count) phases and \(milestones) milestones; "
                + "\(plan.subtaskCount) subtasks; criteria \(plan.criterionCount(.must)) must, \(plan.criterionCount(.should)) should",
            "atoms:         \(execution.atoms.count) (one per task and file), \(execution.graph.edgeCount) dependency edges",
            "waves:         \(execution.waves.count), widest \(execution.widestWave) atoms",
            "critical path: \(execution.criticalPathLength) atoms: \(critical.joined(separator: " → "))\(more)",
            "estimate:      \(estimate.calls) LLM calls, \(Self.tokens(estimate.inputTokens)) input + "
                + "\(Self.tokens(estimate.cachedInputTokens)) cached + \(Self.tokens(estimate.outputTokens)) output tokens, "
                + "about $\(Self.dollars(estimate.costUSD)); about \(Self.duration(estimate.duration)) at concurrency \(concurrency)",
        ]
    }

    static func tokens(_ count: Int) -> String {
        count >= 1_000_000 ? String(format: "%.2f M", Double(count) / 1e6) : String(format: "%.1f k", Double(count) / 1e3)
    }

    static func dollars(_ amount: Double) -> String { String(format: "%.2f", amount) }

    static func duration(_ duration: Duration) -> String {
        let minutes = Int((Double(duration.components.seconds) / 60).rounded(.up))
        return minutes >= 60 ? "\(minutes / 60) h \(minutes % 60) min" : "\(minutes) min"
    }
}
