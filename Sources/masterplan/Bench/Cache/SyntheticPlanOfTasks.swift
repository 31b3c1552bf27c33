import Foundation
import PlanCore

/// A synthetic plan of a number of tasks: bench executor's plan (Markdown files) cut at the atoms of
/// the first `tasks` tasks (the generator draws each task from those before it only, so they are the
/// same whatever the total).
struct SyntheticPlanOfTasks {
    let plan: SyntheticExecutionPlan

    init(tasks: Int, seed: UInt64) throws {
        let atoms = SyntheticPlanGenerator(taskCount: tasks, subtasksPerTask: 2, seed: seed).generate().tasks.reduce(0) { $0 + $1.files.count }
        plan = try SyntheticExecutionPlan(atoms: atoms, seed: seed)
        guard plan.validated.tasks.count == tasks else {
            throw BenchFailure("the synthetic plan has \(plan.validated.tasks.count) tasks, not \(tasks)")
        }
    }
}
