import ArgumentParser
import Foundation
import PlanCore

/// `masterplan bench plancore`: parse + validate + atomise + waves for a large generated plan.
struct BenchPlanCoreCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plancore",
        abstract: "Time parse + validate + atomise + waves of a generated plan (target: under 50 ms for 1,000 tasks).",
        discussion: "Build with -c release for meaningful figures; a debug build is several times slower."
    )

    @Option(help: "Tasks in the generated plan.")
    var tasks: Int = 1_000

    @Option(help: "Subtasks per task.")
    var subtasksPerTask: Int = 5

    @Option(help: "Timed runs (after one untimed warm-up run).")
    var repetitions: Int = 15

    @Option(help: "Seed of the generated plan.")
    var seed: UInt64 = 42

    @Flag(help: "Serialise the plan without whitespace (as structured-output APIs return it) instead of indented.")
    var compact = false

    static let targetMilliseconds = 50.0

    func validate() throws {
        guard tasks >= 1 else { throw ValidationError("--tasks must be at least 1, got \(tasks)") }
        guard subtasksPerTask >= 0 else { throw ValidationError("--subtasks-per-task must not be negative") }
        guard repetitions >= 1 else { throw ValidationError("--repetitions must be at least 1, got \(repetitions)") }
    }

    func run() throws {
        let generator = SyntheticPlanGenerator(taskCount: tasks, subtasksPerTask: subtasksPerTask, seed: seed)
        let plan = generator.generate()
        // Shaped like a model's answer: prose around a fenced object, so extraction is part of the figure.
        let answer = "Here is the plan you asked for.\n\n```json\n" + (try plan.jsonValue.serialized(compact ? .compact : .pretty)) + "\n```\n"
        let limits = PlanLimits(maxTasks: max(tasks, PlanLimits.default.maxTasks), maxTasksPerMilestone: max(tasks, 250),
                                maxSubtasksPerTask: max(subtasksPerTask, 25),
                                maxSubtasks: max(tasks * subtasksPerTask, 20_000), maxAtoms: max(tasks * 3, 10_000))
        let parser = PlanParser(limits: limits)
        let clock = ContinuousClock()

        var totals: [Double] = [], parsing: [Double] = [], planning: [Double] = []
        var last: (ValidatedPlan, ExecutionPlan)?
        for run in 0...repetitions {
            let start = clock.now
            let validated = try parser.parsePlan(answer)
            let parsed = clock.now
            let executionPlan = ExecutionPlan(validated)
            let end = clock.now
            guard run > 0 else { continue }  // the warm-up run
            totals.append(BenchFigures.milliseconds(end - start))
            parsing.append(BenchFigures.milliseconds(parsed - start))
            planning.append(BenchFigures.milliseconds(end - parsed))
            last = (validated, executionPlan)
        }
        guard let (validated, executionPlan) = last else { return }
        let median = BenchFigures.median(totals)
        print("plan:    \(validated.tasks.count) tasks, \(validated.subtaskCount) subtasks, \(executionPlan.atoms.count) atoms, "
              + "\(executionPlan.graph.edgeCount) edges, \(executionPlan.waves.count) waves, critical path "
              + "\(executionPlan.criticalPathLength) atoms; answer \(answer.utf8.count) bytes")
        print("total:   parse + validate + atomise + waves: median \(BenchFigures.format(median)) ms, "
              + "min \(BenchFigures.format(totals.min()!)) ms over \(repetitions) runs")
        print("stages:  extract + parse + validate \(BenchFigures.format(BenchFigures.median(parsing))) ms, "
              + "atoms + graph + waves \(BenchFigures.format(BenchFigures.median(planning))) ms (medians)")
        print("target:  under \(BenchFigures.format(Self.targetMilliseconds)) ms: \(median < Self.targetMilliseconds ? "met" : "NOT met")")
    }
}
