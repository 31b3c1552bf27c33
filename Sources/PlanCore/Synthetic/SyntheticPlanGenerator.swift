/// Builds large, valid, realistic-looking plans from a seed, for `masterplan bench plancore` and for tests.
///
/// Tasks are numbered in dependency order and depend on up to `maxDependencies` of the 50 tasks before
/// them (so the graph is deep as well as wide, like a real project); about one file in five is shared with
/// an earlier task (so same-file ordering is exercised); every task has one MUST and one SHOULD criterion.
public struct SyntheticPlanGenerator: Sendable {
    public var taskCount: Int
    public var subtasksPerTask: Int
    public var filesPerTask: ClosedRange<Int>
    public var maxDependencies: Int
    public var phaseCount: Int
    public var milestonesPerPhase: Int
    public var seed: UInt64

    public init(taskCount: Int = 1_000, subtasksPerTask: Int = 5, filesPerTask: ClosedRange<Int> = 1...3,
                maxDependencies: Int = 3, phaseCount: Int = 3, milestonesPerPhase: Int = 5, seed: UInt64 = 42) {
        precondition(taskCount >= 1 && phaseCount >= 1 && milestonesPerPhase >= 1 && filesPerTask.lowerBound >= 1)
        self.taskCount = taskCount
        self.subtasksPerTask = subtasksPerTask
        self.filesPerTask = filesPerTask
        self.maxDependencies = maxDependencies
        self.phaseCount = phaseCount
        self.milestonesPerPhase = milestonesPerPhase
        self.seed = seed
    }

    public func generate() -> MasterPlan {
        var random = SplitMix64(seed: seed)
        let complexities = Complexity.allCases
        let folders = ["src/api", "src/domain", "src/store", "src/auth", "src/jobs", "tests/unit", "docs"]
        var writtenFiles: [String] = []
        var tasks: [PlanTask] = []
        tasks.reserveCapacity(taskCount)
        for number in 1...taskCount {
            var dependencies: [Int] = []
            if number > 1 {
                let window = max(1, number - 50)..<number
                for _ in 0..<Int.random(in: 0...maxDependencies, using: &random) {
                    let dependency = Int.random(in: window, using: &random)
                    if !dependencies.contains(dependency) { dependencies.append(dependency) }
                }
            }
            var files: [String] = []
            for f in 0..<Int.random(in: filesPerTask, using: &random) {
                if !writtenFiles.isEmpty, Int.random(in: 0..<5, using: &random) == 0 {
                    let shared = writtenFiles[Int.random(in: 0..<writtenFiles.count, using: &random)]
                    if !files.contains(shared) { files.append(shared); continue }
                }
                let folder = folders[Int.random(in: 0..<folders.count, using: &random)]
                let file = "\(folder)/module_\(number)_\(f).py"
                files.append(file)
                writtenFiles.append(file)
            }
            let subtasks = (0..<subtasksPerTask).map { s in
                Subtask(number: s + 1, name: "Step \(s + 1) of task \(number)",
                        description: "Implement part \(s + 1) of the behaviour of task \(number), with input checks and error handling.")
            }
            tasks.append(PlanTask(
                number: number, name: "Task \(number): build component \(number)",
                description: "Build component \(number) of the service, wire it to its dependencies and cover it with unit tests.",
                complexity: complexities[Int.random(in: 0..<complexities.count, using: &random)],
                dependsOn: dependencies, files: files, subtasks: subtasks,
                acceptance: [
                    AcceptanceCriterion(priority: .must, text: "Component \(number) answers its documented requests correctly."),
                    AcceptanceCriterion(priority: .should, text: "Component \(number) logs each failure with its cause."),
                ]))
        }

        let milestoneCount = phaseCount * milestonesPerPhase
        let perMilestone = (taskCount + milestoneCount - 1) / milestoneCount
        var phases: [Phase] = []
        var next = 0
        for p in 0..<phaseCount {
            var milestones: [Milestone] = []
            for m in 0..<milestonesPerPhase where next < tasks.count {
                let slice = Array(tasks[next..<min(next + perMilestone, tasks.count)])
                next += slice.count
                milestones.append(Milestone(number: m + 1, name: "Milestone \(p + 1).\(m + 1)",
                                            description: "A deliverable slice of the service.", tasks: slice))
            }
            if milestones.isEmpty { break }
            let kind: PhaseKind = p == 0 ? .setup : (p == phaseCount - 1 ? .polish : .core)
            phases.append(Phase(number: p + 1, kind: kind, name: "Phase \(p + 1)", description: "Stage \(p + 1) of the project.",
                                milestones: milestones))
        }
        return MasterPlan(projectName: "Synthetic service (\(taskCount) tasks)",
                          summary: "A generated plan used to measure and test planning; not a real project.",
                          techStack: TechStack(language: "Python 3.11", framework: "FastAPI", database: "PostgreSQL",
                                               testCommand: "pytest -q", other: ["SQLAlchemy", "pydantic"]),
                          phases: phases)
    }
}
