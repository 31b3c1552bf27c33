/// Checks a plan against every semantic rule and reports each broken rule with its JSON path.
///
/// Rules: names present; numbers positive and unique (tasks in the plan, phases in the plan,
/// milestones in their phase, subtasks in their task); every dependency exists, is not the task itself
/// and is listed once; no dependency cycle (named in order, `12 → 15 → 12`); every task writes at
/// least one file; file paths pass `WorkspacePath.projectFileViolation` (safe, and not a file the test
/// runner or the interpreter acts on by its name, such as conftest.py), once per task; at least one MUST
/// criterion; counts and text sizes within `PlanLimits`.
///
/// A task with no files is refused rather than executed as a no-op: the only evidence that a task was
/// done is the code it wrote and the tests over it, and a task that writes nothing would be marked done
/// with no evidence at all — the very failure this project exists to end.
public struct PlanValidator: Sendable {
    public var limits: PlanLimits

    public init(limits: PlanLimits = .default) { self.limits = limits }

    /// The plan as a `ValidatedPlan`, or every problem found.
    public func validate(_ plan: MasterPlan) throws(PlanProblems) -> ValidatedPlan {
        let result = check(plan)
        guard result.problems.isEmpty, let order = result.order else {
            throw PlanProblems(result.problems)
        }
        return ValidatedPlan(plan: plan, tasks: result.tasks, executionOrder: order, graph: result.graph)
    }

    /// Every problem in the plan, in document order, then the plan-wide ones; empty when the plan is valid.
    public func problems(in plan: MasterPlan) -> [PlanProblem] {
        check(plan).problems
    }

    struct CheckResult {
        var problems: [PlanProblem]
        var tasks: [PlanTask]
        var graph: TaskDependencyGraph
        /// Nil when there is a cycle.
        var order: [Int]?
    }

    func check(_ plan: MasterPlan) -> CheckResult {
        var report = ProblemList()
        var tasks: [PlanTask] = []
        var taskPaths: [JSONPath] = []
        let phasesPath = JSONPath.root.appending("phases")

        // Positions of tasks are needed before any dependency can be checked, so collect them first.
        for (p, phase) in plan.phases.enumerated() {
            for (m, milestone) in phase.milestones.enumerated() {
                let tasksPath = phasesPath.appending(p).appending("milestones").appending(m).appending("tasks")
                for (t, task) in milestone.tasks.enumerated() {
                    tasks.append(task)
                    taskPaths.append(tasksPath.appending(t))
                }
            }
        }
        let graph = TaskDependencyGraph(tasks: tasks)

        report.text(plan.projectName, at: .root.appending("project_name"), required: true, limits: limits)
        report.text(plan.summary, at: .root.appending("summary"), required: true, limits: limits)
        let stackPath = JSONPath.root.appending("tech_stack")
        report.text(plan.techStack.language, at: stackPath.appending("language"), required: true, limits: limits)
        report.text(plan.techStack.testCommand, at: stackPath.appending("test_command"), required: true, limits: limits)
        if !plan.techStack.testCommand.isEmpty {
            do {
                let stack = try TestCommand(parsing: plan.techStack.testCommand).stack
                if !plan.techStack.language.isEmpty, !stack.accepts(language: plan.techStack.language) {
                    let typeScript = plan.techStack.language.lowercased().contains("typescript")
                        ? "TypeScript is not supported (Node.js runs no TypeScript without a compile step, and the machine has no Node.js type declarations for tsc): write the project in JavaScript; " : ""
                    report.add(.invalidValue, stackPath.appending("language"),
                               typeScript + "the language \"\(plan.techStack.language)\" is not what the test command \"\(plan.techStack.testCommand)\" runs (\(stack.displayName)); supported: \(StackKind.supportedList)")
                }
            } catch {
                report.add(.invalidValue, stackPath.appending("test_command"), error.description)
            }
        }
        if let framework = plan.techStack.framework {
            report.text(framework, at: stackPath.appending("framework"), required: true, limits: limits)
        }
        if let database = plan.techStack.database {
            report.text(database, at: stackPath.appending("database"), required: true, limits: limits)
        }
        report.list(plan.techStack.other, at: stackPath.appending("other"), limits: limits)

        if plan.phases.count > limits.maxPhases {
            report.add(.outOfBounds, phasesPath, "the plan has \(plan.phases.count) phases, more than the limit of \(limits.maxPhases)")
        }
        var phaseNumbers: [Int: Int] = [:]
        var taskPosition = 0
        for (p, phase) in plan.phases.enumerated() {
            let phasePath = phasesPath.appending(p)
            report.number(phase.number, of: "phase", at: phasePath.appending("number"), firstUse: &phaseNumbers, index: p,
                          limits: limits, describeFirst: { "phases[\($0)]" })
            report.text(phase.name, at: phasePath.appending("name"), required: true, limits: limits)
            report.text(phase.description, at: phasePath.appending("description"), required: false, limits: limits)
            let milestonesPath = phasePath.appending("milestones")
            if phase.milestones.isEmpty {
                report.add(.empty, milestonesPath, "a phase needs at least one milestone")
            } else if phase.milestones.count > limits.maxMilestonesPerPhase {
                report.add(.outOfBounds, milestonesPath,
                           "the phase has \(phase.milestones.count) milestones, more than the limit of \(limits.maxMilestonesPerPhase)")
            }
            var milestoneNumbers: [Int: Int] = [:]
            for (m, milestone) in phase.milestones.enumerated() {
                let milestonePath = milestonesPath.appending(m)
                report.number(milestone.number, of: "milestone", at: milestonePath.appending("number"),
                              firstUse: &milestoneNumbers, index: m, limits: limits, describeFirst: { "milestones[\($0)] of this phase" })
                report.text(milestone.name, at: milestonePath.appending("name"), required: true, limits: limits)
                report.text(milestone.description, at: milestonePath.appending("description"), required: false, limits: limits)
                if milestone.tasks.isEmpty {
                    report.add(.empty, milestonePath.appending("tasks"), "a milestone needs at least one task")
                } else if milestone.tasks.count > limits.maxTasksPerMilestone {
                    report.add(.outOfBounds, milestonePath.appending("tasks"),
                               "the milestone has \(milestone.tasks.count) tasks, more than the limit of \(limits.maxTasksPerMilestone)")
                }
                for _ in milestone.tasks {
                    checkTask(at: taskPosition, tasks: tasks, paths: taskPaths, graph: graph, into: &report)
                    taskPosition += 1
                }
            }
        }

        checkTotals(tasks, into: &report, at: phasesPath)
        let (order, cycles) = graph.orderOrCycles()
        for cycle in cycles {
            let start = graph.position(ofTask: cycle.path[0])!
            let entry = tasks[start].dependsOn.firstIndex(of: cycle.path[1]) ?? 0
            var message = "dependency cycle \(cycle): each task depends on the next, so none of them can ever start; remove one of these dependencies"
            let others = cycle.members.filter { !cycle.path.contains($0) }
            if others.count == 1 {
                message += " (task \(others[0]) is caught in the same tangle)"
            } else if !others.isEmpty {
                message += " (tasks \(others.map(String.init).joined(separator: ", ")) are caught in the same tangle)"
            }
            report.add(.dependencyCycle, taskPaths[start].appending("depends_on").appending(entry), message)
        }
        return CheckResult(problems: report.problems, tasks: tasks, graph: graph, order: order)
    }

    private func checkTask(at position: Int, tasks: [PlanTask], paths: [JSONPath], graph: TaskDependencyGraph,
                           into report: inout ProblemList) {
        let task = tasks[position]
        let path = paths[position]
        if task.number < 1 {
            report.add(.invalidValue, path.appending("number"), "task numbers are positive integers, found \(task.number)")
        } else if task.number > limits.maxNumber {
            report.add(.outOfBounds, path.appending("number"),
                       "task number \(task.number) is more than the largest allowed, \(limits.maxNumber)")
        } else if let first = graph.position(ofTask: task.number), first != position {
            report.add(.duplicate, path.appending("number"), "task number \(task.number) is already used by \(paths[first])")
        }
        report.text(task.name, at: path.appending("name"), required: true, limits: limits)
        report.text(task.description, at: path.appending("description"), required: false, limits: limits)

        let filesPath = path.appending("files")
        if task.files.isEmpty {
            report.add(.empty, filesPath,
                       "a task must name at least one file it creates or changes; a task that writes nothing could never show it was done")
        } else if task.files.count > limits.maxFilesPerTask {
            report.add(.outOfBounds, filesPath, "the task writes \(task.files.count) files, more than the limit of \(limits.maxFilesPerTask); split it")
        }
        var seenFiles: [String: Int] = [:]
        for (i, file) in task.files.enumerated() {
            if let violation = WorkspacePath.projectFileViolation(of: file, limits: limits) {
                report.add(.unsafePath, filesPath.appending(i), violation.description)
            } else if file.lowercased().hasSuffix("_test.go") {
                // Go compiles a package's test files with it: one a task wrote could define TestMain or
                // init and change how the acceptance tests of that package run.
                report.add(.unsafePath, filesPath.appending(i),
                           "\(file.quotedForMessage()) is a Go test file; tasks do not write tests: the acceptance tests are generated from the criteria and run with the engine's own TestMain")
            } else if let first = seenFiles[file] {
                report.add(.duplicate, filesPath.appending(i), "\(file.quotedForMessage()) is already listed as files[\(first)]")
            } else {
                seenFiles[file] = i
            }
        }

        let dependsPath = path.appending("depends_on")
        if task.dependsOn.count > limits.maxDependenciesPerTask {
            report.add(.outOfBounds, dependsPath,
                       "the task has \(task.dependsOn.count) dependencies, more than the limit of \(limits.maxDependenciesPerTask)")
        }
        var seenDependencies: [Int: Int] = [:]
        for (i, number) in task.dependsOn.enumerated() {
            if number == task.number {
                report.add(.dependencyCycle, dependsPath.appending(i), "task \(number) depends on itself")
            } else if graph.position(ofTask: number) == nil {
                report.add(.unknownReference, dependsPath.appending(i), "task \(number) does not exist")
            } else if let first = seenDependencies[number] {
                report.add(.duplicate, dependsPath.appending(i), "task \(number) is already listed as depends_on[\(first)]")
            } else {
                seenDependencies[number] = i
            }
        }

        let subtasksPath = path.appending("subtasks")
        if task.subtasks.count > limits.maxSubtasksPerTask {
            report.add(.outOfBounds, subtasksPath,
                       "the task has \(task.subtasks.count) subtasks, more than the limit of \(limits.maxSubtasksPerTask)")
        }
        var subtaskNumbers: [Int: Int] = [:]
        for (s, subtask) in task.subtasks.enumerated() {
            report.number(subtask.number, of: "subtask", at: subtasksPath.appending(s).appending("number"),
                          firstUse: &subtaskNumbers, index: s, limits: limits, describeFirst: { "subtasks[\($0)] of this task" })
            report.text(subtask.name, at: subtasksPath.appending(s).appending("name"), required: true, limits: limits)
            report.text(subtask.description, at: subtasksPath.appending(s).appending("description"), required: false,
                        limits: limits)
        }

        let acceptancePath = path.appending("acceptance")
        if task.acceptance.count > limits.maxCriteriaPerTask {
            report.add(.outOfBounds, acceptancePath,
                       "the task has \(task.acceptance.count) acceptance criteria, more than the limit of \(limits.maxCriteriaPerTask)")
        }
        for (c, criterion) in task.acceptance.enumerated() {
            report.text(criterion.text, at: acceptancePath.appending(c).appending("criterion"), required: true, limits: limits)
        }
    }

    private func checkTotals(_ tasks: [PlanTask], into report: inout ProblemList, at phasesPath: JSONPath) {
        if tasks.count < limits.minTasks {
            report.add(.outOfBounds, phasesPath,
                       tasks.isEmpty ? "the plan has no tasks" : "the plan has \(tasks.count) tasks, fewer than the minimum of \(limits.minTasks)")
        } else if tasks.count > limits.maxTasks {
            report.add(.outOfBounds, phasesPath,
                       "the plan has \(tasks.count) tasks, more than the limit of \(limits.maxTasks); plan fewer, larger tasks")
        }
        var subtasks = 0, atoms = 0, hasMust = false
        for task in tasks {
            subtasks += task.subtasks.count
            atoms += task.files.count
            if !hasMust { hasMust = task.acceptance.contains { $0.priority == .must } }
        }
        if subtasks > limits.maxSubtasks {
            report.add(.outOfBounds, phasesPath, "the plan has \(subtasks) subtasks, more than the limit of \(limits.maxSubtasks)")
        }
        if atoms > limits.maxAtoms {
            report.add(.outOfBounds, phasesPath,
                       "the plan writes \(atoms) task files (atoms), more than the limit of \(limits.maxAtoms)")
        }
        if !hasMust && !tasks.isEmpty {
            report.add(.missingCriterion, .root,
                       "the plan has no acceptance criterion with priority \"must\"; give at least one task a MUST criterion")
        }
    }
}
