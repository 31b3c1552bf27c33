import PropertyBased
import Testing
@testable import PlanCore

@Suite("Graph properties on random plans")
struct ExecutionPlanPropertyTests {
    static let taskCounts = Gen.int(in: 1...40)
    static let edges = zip(Gen.int(in: 0...999), Gen.int(in: 0...999)).array(of: 0...120)
    static let fileChoices = Gen.int(in: 0...50).array(of: 1...12)
    static let seeds = Gen.uint64(in: 0...UInt64.max)

    @Test("on random DAGs every edge climbs waves, no wave has two writers of a file, every atom is in exactly one wave")
    func randomDAGs() async throws {
        await propertyCheck(count: 300, input: Self.taskCounts, Self.edges, Self.fileChoices, Self.seeds) { count, edges, files, seed throws in
            let plan = RandomPlans.acyclic(taskCount: count, edges: edges, fileChoices: files, rankSeed: seed)
            let validated = try PlanValidator().validate(plan)
            let execution = ExecutionPlan(validated)

            for (from, to) in execution.graph.edges {
                #expect(execution.waveIndex[from] < execution.waveIndex[to])
            }
            for wave in execution.waves {
                let paths = wave.atoms.map { execution.atoms[$0].path }
                #expect(Set(paths).count == paths.count, "wave \(wave.number) holds two writers of one file")
            }
            let placed = execution.waves.flatMap(\.atoms)
            #expect(placed.count == execution.atoms.count)
            #expect(Set(placed) == Set(execution.atoms.indices))
            for (index, wave) in execution.waves.enumerated() {
                #expect(wave.atoms.allSatisfy { execution.waveIndex[$0] == index })
            }

            // Task dependencies: every atom of a dependency finishes in an earlier wave.
            for task in validated.tasks {
                for dependency in task.dependsOn {
                    for before in execution.atoms(ofTask: dependency) {
                        for after in execution.atoms(ofTask: task.number) {
                            #expect(execution.waveIndex[before] < execution.waveIndex[after])
                        }
                    }
                }
            }
            // One atom per (task, file), nothing more.
            #expect(execution.atoms.count == validated.tasks.reduce(0) { $0 + $1.files.count })
            #expect(Set(execution.atoms.map(\.key)).count == execution.atoms.count)
            // Levels are tight: an atom after the first wave has a dependency in the wave just before.
            for atom in execution.atoms.indices where execution.waveIndex[atom] > 0 {
                #expect(execution.graph.predecessors[atom].contains { execution.waveIndex[$0] == execution.waveIndex[atom] - 1 })
            }
            // Within a wave, the longest remaining path first.
            for wave in execution.waves {
                let lengths = wave.atoms.map { execution.remainingPathLength[$0] }
                #expect(lengths == lengths.sorted(by: >))
            }
            // The critical path is a chain through every wave.
            #expect(execution.criticalPathLength == execution.waves.count)
            for (a, b) in zip(execution.criticalPath, execution.criticalPath.dropFirst()) {
                #expect(execution.graph.hasEdge(from: a, to: b))
            }
            #expect(execution.waveBarrierMakespan(concurrency: 3, latency: .seconds(1))
                    >= execution.dependencyMakespanLowerBound(concurrency: 3, latency: .seconds(1)))
        }
    }

    @Test("graphs with an injected cycle always report it, and every task on any cycle is named")
    func injectedCycles() async throws {
        await propertyCheck(count: 300, input: Self.taskCounts.filter { $0 >= 2 }, Self.edges, Gen.int(in: 2...6), Self.seeds) {
            count, edges, length, seed throws in
            let acyclic = RandomPlans.acyclic(taskCount: count, edges: edges, fileChoices: [0], rankSeed: seed)
            let (plan, circle) = RandomPlans.withCycle(acyclic, length: length, seed: seed &+ 1)

            let problems = PlanValidator().problems(in: plan)
            #expect(problems.contains { $0.kind == .dependencyCycle })
            #expect(throws: PlanProblems.self) { try PlanValidator().validate(plan) }

            let cycles = TaskDependencyGraph(tasks: plan.tasks).cycles()
            #expect(!cycles.isEmpty)
            let dependsOn = Dictionary(uniqueKeysWithValues: plan.tasks.map { ($0.number, Set($0.dependsOn)) })
            for cycle in cycles {
                #expect(cycle.path.first == cycle.path.last)
                #expect(cycle.path.first == cycle.members.first, "a cycle starts at its smallest member")
                for (task, next) in zip(cycle.path, cycle.path.dropFirst()) {
                    #expect(dependsOn[task]?.contains(next) == true, "\(task) does not depend on \(next)")
                }
                #expect(problems.contains { $0.message.contains("dependency cycle \(cycle)") })
            }
            let named = Set(cycles.flatMap(\.members))
            #expect(named == RandomPlans.tasksOnCycles(plan))
            #expect(Set(circle).isSubset(of: named))
        }
    }

    @Test("any plan survives its JSON form")
    func roundTrip() async throws {
        await propertyCheck(count: 100, input: Self.taskCounts, Self.edges, Self.fileChoices, Self.seeds) { count, edges, files, seed throws in
            let plan = RandomPlans.acyclic(taskCount: count, edges: edges, fileChoices: files, rankSeed: seed)
            #expect(try MasterPlan(json: plan.jsonValue) == plan)
            #expect(try PlanParser().parsePlan("```json\n\(plan.jsonValue.serialized(.pretty))\n```").plan == plan)
        }
    }
}
