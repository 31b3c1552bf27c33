import Engine
import Foundation
import JSON
import LLM
import PlanCore

/// The synthetic plan of the bench: `SyntheticPlanGenerator`'s dependency shape, cut to exactly the
/// number of atoms asked for, with every file a Markdown file.
struct SyntheticExecutionPlan: Sendable {
    let validated: ValidatedPlan
    let execution: ExecutionPlan

    init(atoms: Int, seed: UInt64) throws {
        // The generator draws each task from the tasks before it only, so the first n tasks are the
        // same whatever the total: take the fewest tasks that reach `atoms` files, then trim the last.
        let full = SyntheticPlanGenerator(taskCount: atoms, subtasksPerTask: 2, seed: seed).generate()
        var total = 0, taskCount = 0
        for task in full.tasks {
            taskCount += 1
            total += task.files.count
            if total >= atoms { break }
        }
        var plan = SyntheticPlanGenerator(taskCount: taskCount, subtasksPerTask: 2, seed: seed).generate()
        let excess = total - atoms
        if excess > 0 { plan.updateTask(number: taskCount) { $0.files.removeLast(excess) } }
        for task in plan.tasks {
            plan.updateTask(number: task.number) { task in
                task.files = task.files.map { $0.hasSuffix(".py") ? String($0.dropLast(3)) + ".md" : $0 }
            }
        }
        plan.projectName = "Executor bench (\(atoms) atoms)"
        var limits = PlanLimits.default
        limits.maxTasks = max(limits.maxTasks, taskCount)
        limits.maxTasksPerMilestone = max(limits.maxTasksPerMilestone, taskCount)
        limits.maxSubtasks = max(limits.maxSubtasks, taskCount * 2)
        limits.maxAtoms = max(limits.maxAtoms, atoms)
        do {
            validated = try PlanValidator(limits: limits).validate(plan)
        } catch {
            throw BenchFailure("the synthetic plan does not validate: \(error.repairInstructions(maxListed: 3))")
        }
        execution = ExecutionPlan(validated)
        guard execution.atoms.count == atoms else {
            throw BenchFailure("the synthetic plan has \(execution.atoms.count) atoms, not \(atoms)")
        }
    }

    /// One answer per atom (purpose `atom`, key `task-N/PATH`): the JSON document the atom prompt asks for.
    func cassette(fileCharacters: Int, chunkCharacters: Int?) -> [CassetteEntry] {
        let line = "This section describes the component, its inputs, its outputs and how it fails.\n"
        return execution.atoms.map { atom in
            var content = "# \(atom.path)\n\nWritten for task \(atom.taskNumber).\n\n"
            while content.count < fileCharacters { content += line }
            content = String(content.prefix(fileCharacters - 1)) + "\n"
            let answer = JSONValue(["file": .string(atom.path), "content": .string(content), "notes": "bench"]).jsonText
            return CassetteEntry(purpose: LLMRequest.Purpose.atom.rawValue, key: AtomPrompts.key(taskNumber: atom.taskNumber, path: atom.path),
                                 response: answer, model: "gpt-4.1-mini",
                                 usage: LLMUsage(inputTokens: 900, outputTokens: answer.utf8.count / 4, cachedInputTokens: 0),
                                 chunkCharacters: chunkCharacters)
        }
    }
}
