import Foundation
import JSON
import PlanCore
import Postgres
import Store
import Testing
import TestSupport

/// An atom has one identity from PlanCore to the database: the `AtomKey` `ExecutionStore.materialize`
/// stores is the one `ExecutionStore.atoms` gives back, and it finds the same atom in `ExecutionPlan`.
@Suite(.dedicatedThreads) struct AtomIdentityTests {
    let connection: Connection
    let owner: UUID

    init() throws {
        connection = try Connection(try TestDatabase.migrated())
        owner = try TestDatabase.insertUser("atoms", on: connection)
    }

    @Test func everyStoredAtomsKeyFindsItsAtomAndWaveInTheExecutionPlan() throws {
        // Shared files give same-file edges as well as task edges.
        let plan = SyntheticPlanGenerator(taskCount: 120, subtasksPerTask: 1, filesPerTask: 1...3, maxDependencies: 4, seed: 3).generate()
        let planID = try connection.transaction { c in
            let planID = try c.query("INSERT INTO masterplans (owner_id, request, budget_usd) VALUES ($1, 'a request', 5) RETURNING id",
                                     [owner]).first!.decode(UUID.self, 0)
            try PlanTreeWriter(c).write(plan, planID: planID)
            return planID
        }
        let loaded = try #require(try PlanTreeReader(connection).plan(id: planID))
        let execution = ExecutionPlan(try PlanValidator().validateStored(loaded))
        let store = ExecutionStore(connection)
        var dependencies: [(atom: Int, dependsOn: Int, kind: String)] = []
        for (index, predecessors) in execution.graph.predecessors.enumerated() {
            for predecessor in predecessors { dependencies.append((index, predecessor, "task")) }
        }
        #expect(try store.materialize(planID: planID,
                                      atoms: execution.atoms.enumerated().map { (key: $1.key, wave: execution.waveIndex[$0] + 1) },
                                      waveSizes: execution.waves.map(\.atoms.count), dependencies: dependencies))

        let stored = try store.atoms(planID: planID)
        #expect(stored.count == execution.atoms.count)
        #expect(Set(stored.map(\.key)) == Set(execution.atoms.map(\.key)))
        for atom in stored {
            let index = try #require(execution.index(of: atom.key), "\(atom.key)")
            #expect(execution.waveIndex[index] + 1 == atom.wave, "\(atom.key)")
        }
        // The dependencies joined through the ids the keys were stored under.
        let edges = try connection.query(
            """
            SELECT t.number, a.file_path, dt.number, d.file_path FROM atom_dependencies x
            JOIN atoms a ON a.id = x.atom_id JOIN tasks t ON t.id = a.task_id
            JOIN atoms d ON d.id = x.depends_on_atom_id JOIN tasks dt ON dt.id = d.task_id
            WHERE x.plan_id = $1
            """, [planID]).rows.map { row in
            (AtomKey(taskNumber: try row.decode(Int.self, 0), path: try row.decode(String.self, 1)),
             AtomKey(taskNumber: try row.decode(Int.self, 2), path: try row.decode(String.self, 3)))
        }
        #expect(Set(edges.map { "\($0.0) <- \($0.1)" })
                == Set(dependencies.map { "\(execution.atoms[$0.atom].key) <- \(execution.atoms[$0.dependsOn].key)" }))
    }
}
