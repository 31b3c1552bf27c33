import Testing
@testable import PlanCore

@Suite("Atoms, graph and waves")
struct ExecutionPlanTests {
    func execution(_ tasks: [PlanTask]) throws -> ExecutionPlan { ExecutionPlan(try TestPlans.validated(tasks)) }

    func keys(_ plan: ExecutionPlan, _ atoms: [Int]) -> [String] { atoms.map { plan.atoms[$0].key.description } }

    @Test("one atom per task and file, in execution order and listing order")
    func atomsPerTaskAndFile() throws {
        let plan = ExecutionPlan(SamplePlan.validated)
        #expect(plan.atoms.map(\.key.description) == [
            "task 1: pyproject.toml", "task 1: app/__init__.py", "task 2: app/settings.py", "task 3: app/models.py",
            "task 4: app/auth.py", "task 4: app/main.py", "task 5: app/todos.py", "task 5: app/main.py",
            "task 6: app/errors.py", "task 7: README.md",
        ])
        #expect(plan.atoms(ofTask: 4) == 4..<6)
        #expect(plan.atoms(ofTask: 99).isEmpty)
        #expect(plan.index(of: AtomKey(taskNumber: 5, path: "app/main.py")) == 7)
        #expect(plan.atoms[4].complexity == .high)
    }

    @Test("every atom of a task depends on every atom of the tasks it depends on")
    func taskDependenciesBecomeAtomEdges() throws {
        let plan = try execution([TestPlans.task(1, files: ["a", "b"]), TestPlans.task(2, dependsOn: [1], files: ["c", "d"])])
        #expect(plan.graph.predecessors == [[], [], [0, 1], [0, 1]])
        #expect(plan.graph.successors == [[2, 3], [2, 3], [], []])
        #expect(plan.graph.edgeCount == 4)
        #expect(plan.waves.map(\.atoms) == [[0, 1], [2, 3]])
    }

    @Test("writers of one file are chained by task number, so no wave holds two of them")
    func sameFileWritersAreOrdered() throws {
        let plan = try execution([TestPlans.task(1, files: ["main.py"]), TestPlans.task(2, files: ["main.py", "b.py"]),
                                  TestPlans.task(3, files: ["main.py"])])
        #expect(plan.graph.edges.map { "\($0.from)→\($0.to)" } == ["0→1", "1→3"])
        #expect(plan.waves.map { keys(plan, $0.atoms) } == [
            ["task 1: main.py", "task 2: b.py"], ["task 2: main.py"], ["task 3: main.py"],
        ])
    }

    @Test("a dependency on a later-numbered writer of the same file orders them by dependency, without a cycle")
    func sameFileFollowsDependencies() throws {
        let plan = try execution([TestPlans.task(5, dependsOn: [8], files: ["shared.py"]), TestPlans.task(8, files: ["shared.py"])])
        #expect(keys(plan, plan.waves.flatMap(\.atoms)) == ["task 8: shared.py", "task 5: shared.py"])
        #expect(plan.waves.count == 2)
        #expect(plan.graph.edgeCount == 1, "the task dependency already orders the writers; no second edge")
    }

    @Test("waves are topological levels; within a wave the longest remaining path goes first")
    func wavesAndOrdering() throws {
        // 1 → 3 → 4 is the long chain; 2 stands alone; both start in wave 1, but 1 leads.
        let plan = try execution([TestPlans.task(2), TestPlans.task(1), TestPlans.task(3, dependsOn: [1]), TestPlans.task(4, dependsOn: [3])])
        #expect(plan.waves.map(\.number) == [1, 2, 3])
        #expect(plan.waves.map { keys(plan, $0.atoms) } == [
            ["task 1: src/task_1.py", "task 2: src/task_2.py"], ["task 3: src/task_3.py"], ["task 4: src/task_4.py"],
        ])
        #expect(plan.remainingPathLength == [3, 1, 2, 1])
        #expect(keys(plan, plan.criticalPath) == ["task 1: src/task_1.py", "task 3: src/task_3.py", "task 4: src/task_4.py"])
        #expect(plan.criticalPathLength == 3)
        #expect(plan.widestWave == 2)
    }

    @Test("ties in remaining path go to the smaller task number")
    func tieBreak() throws {
        let plan = try execution([TestPlans.task(3), TestPlans.task(1), TestPlans.task(2)])
        #expect(plan.waves.map { keys(plan, $0.atoms) } == [["task 1: src/task_1.py", "task 2: src/task_2.py", "task 3: src/task_3.py"]])
    }

    @Test("an atom's prompt files are the files its dependencies wrote, once each")
    func inputFiles() throws {
        let plan = try execution([TestPlans.task(1, files: ["m.py", "n.py"]), TestPlans.task(2, dependsOn: [1], files: ["m.py"])])
        #expect(plan.inputFiles(of: 2) == ["m.py", "n.py"])
        #expect(plan.inputFiles(of: 0).isEmpty)
    }

    @Test("the wave-barrier makespan is the sum of rounds per wave", arguments: [
        (1, 80), (2, 50), (3, 40), (5, 30), (100, 30),
    ])
    func waveBarrierMakespan(_ sample: (concurrency: Int, seconds: Int)) throws {
        // Waves of 5, 2 and 1 atoms: five independent tasks, two after them, one after those.
        let first = (1...5).map { TestPlans.task($0) }
        let plan = try execution(first + [TestPlans.task(6, dependsOn: [1]), TestPlans.task(7, dependsOn: [2]),
                                          TestPlans.task(8, dependsOn: [6, 7])])
        #expect(plan.waves.map(\.atoms.count) == [5, 2, 1])
        #expect(plan.waveBarrierMakespan(concurrency: sample.concurrency, latency: .seconds(10)) == .seconds(sample.seconds))
    }

    @Test("without barriers the bound is the critical path or the atoms per slot, whichever is longer")
    func dependencyBound() throws {
        let plan = try execution((1...5).map { TestPlans.task($0) } + [TestPlans.task(6, dependsOn: [1]), TestPlans.task(7, dependsOn: [2]),
                                                                       TestPlans.task(8, dependsOn: [6, 7])])
        #expect(plan.dependencyMakespanLowerBound(concurrency: 2, latency: .seconds(10)) == .seconds(40))
        #expect(plan.dependencyMakespanLowerBound(concurrency: 8, latency: .seconds(10)) == .seconds(30))
        #expect(plan.waveBarrierMakespan(concurrency: 2, latency: .seconds(10)) == .seconds(50))
    }

    @Test("the same plan always gives the same atoms, edges and waves")
    func deterministic() throws {
        let plan = SyntheticPlanGenerator(taskCount: 200, seed: 7).generate()
        let a = ExecutionPlan(try PlanValidator().validate(plan))
        let b = ExecutionPlan(try PlanValidator().validate(plan))
        #expect(a.atoms == b.atoms)
        #expect(a.graph == b.graph)
        #expect(a.waves == b.waves)
        #expect(a.criticalPath == b.criticalPath)
    }
}
