import Foundation
import PlanCore
import Postgres
import Store

/// The two-task todo plan of `PlanWriterTests.answer` in the database: task 1 writes `todo/__init__.py`,
/// task 2 (which depends on it) writes `todo/store.py`, one atom each, in waves 1 and 2.
enum TodoPlanFixture {
    /// A new plan row owned by `owner`, with no version yet.
    static func newPlan(owner: UUID, on connection: Connection) throws -> UUID {
        try connection.query("INSERT INTO masterplans (owner_id, request, budget_usd) VALUES ($1, $2, 5) RETURNING id",
                             [owner, "create a todo API"]).first!.decode(UUID.self, 0)
    }

    /// A new plan with the todo answer stored as its first version and its two atoms and waves
    /// materialised; the stored atoms in materialisation order.
    static func materialised(owner: UUID, on connection: Connection) throws -> (plan: UUID, atoms: [StoredAtom]) {
        let planID = try newPlan(owner: owner, on: connection)
        _ = try PlanWriter(connection: connection).storeGeneratedPlan(
            planID: planID, plan: try PlanParser().parsePlan(PlanWriterTests.answer), tests: [], estimate: nil, changeNote: "first")
        let store = ExecutionStore(connection)
        _ = try store.materialize(planID: planID, atoms: [(key: AtomKey(taskNumber: 1, path: "todo/__init__.py"), wave: 1),
                                                          (key: AtomKey(taskNumber: 2, path: "todo/store.py"), wave: 2)],
                                  waveSizes: [1, 1], dependencies: [(atom: 1, dependsOn: 0, kind: "task")])
        return (planID, try store.atoms(planID: planID))
    }
}
