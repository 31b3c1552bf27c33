@testable import PlanCore

/// Random plans for property tests, built from plain integers so that PropertyBased can shrink them.
enum RandomPlans {
    static let filePool = ["main.py", "models.py", "api.py", "db.py", "util.py", "README.md"]

    /// A plan of `taskCount` tasks whose dependencies always point from a later rank to an earlier one,
    /// so there is no cycle. Ranks are a shuffle (from `rankSeed`) of the tasks, so a task may depend on a
    /// higher-numbered one. Each task writes one to three files from a small pool, so files are shared often.
    static func acyclic(taskCount: Int, edges: [(Int, Int)], fileChoices: [Int], rankSeed: UInt64) -> MasterPlan {
        var random = SplitMix64(seed: rankSeed)
        let rank = Array(0..<taskCount).shuffled(using: &random)
        var dependencies = [[Int]](repeating: [], count: taskCount)
        for (x, y) in edges {
            let a = x % taskCount, b = y % taskCount
            guard a != b else { continue }
            let (earlier, later) = rank[a] < rank[b] ? (a, b) : (b, a)
            if !dependencies[later].contains(earlier + 1) { dependencies[later].append(earlier + 1) }
        }
        let tasks = (0..<taskCount).map { index -> PlanTask in
            let choice = fileChoices.isEmpty ? index : fileChoices[index % fileChoices.count]
            let count = 1 + choice % 3
            let files = (0..<count).map { filePool[(choice / 3 + $0 * 2 + index) % filePool.count] }
            var unique: [String] = []
            for file in files where !unique.contains(file) { unique.append(file) }
            return TestPlans.task(index + 1, dependsOn: dependencies[index], files: unique)
        }
        return TestPlans.plan(tasks)
    }

    /// The same plan with a circle added through `length` distinct tasks picked by `seed`: each depends on the next.
    static func withCycle(_ plan: MasterPlan, length: Int, seed: UInt64) -> (plan: MasterPlan, circle: [Int]) {
        var random = SplitMix64(seed: seed)
        let numbers = plan.tasks.map(\.number).shuffled(using: &random)
        let circle = Array(numbers.prefix(max(2, min(length, numbers.count))))
        var result = plan
        for (i, number) in circle.enumerated() {
            let next = circle[(i + 1) % circle.count]
            result.updateTask(number: number) { if !$0.dependsOn.contains(next) { $0.dependsOn.append(next) } }
        }
        return (result, circle)
    }

    /// Tasks that lie on some cycle, found the slow, obvious way: a task is on a cycle when it can reach itself.
    static func tasksOnCycles(_ plan: MasterPlan) -> Set<Int> {
        var dependencies: [Int: [Int]] = [:]
        for task in plan.tasks { dependencies[task.number] = task.dependsOn }
        var result: Set<Int> = []
        for start in dependencies.keys {
            var seen: Set<Int> = []
            var stack = dependencies[start] ?? []
            while let node = stack.popLast() {
                if node == start { result.insert(start); break }
                if seen.insert(node).inserted { stack.append(contentsOf: dependencies[node] ?? []) }
            }
        }
        return result
    }
}
