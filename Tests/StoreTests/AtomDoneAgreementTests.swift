import Foundation
import JSON
import PlanCore
import Postgres
@testable import Store
import Testing
import TestSupport

/// "An atom is done" is written once, as `AtomStatus.isDone`, and "an atom is accepted" as
/// `AtomStatus.isAccepted`; the SQL that counts accepted atoms (the atoms_set_accepted and
/// atoms_count_completed triggers, migrations 0009 and 0019) and the task progress in `ExecutionStore`
/// must agree with them on every status, with and without accepted content.
@Suite(.dedicatedThreads) struct AtomDoneAgreementTests {
    let connection: Connection
    let owner: UUID

    init() throws {
        connection = try Connection(try TestDatabase.migrated())
        owner = try TestDatabase.insertUser("done", on: connection)
    }

    static let sha = String(repeating: "cd", count: 32)

    static let combinations: [(AtomStatus, Bool)] = AtomStatus.allCases.flatMap { status in [(status, false), (status, true)] }

    @Test("the trigger's counter and the task progress agree with AtomStatus.isDone", arguments: combinations)
    func sqlAgreesWithSwift(_ combination: (AtomStatus, Bool)) throws {
        let (status, hasContent) = combination
        let (planID, atoms) = try TodoPlanFixture.materialised(owner: owner, on: connection)
        let store = ExecutionStore(connection)
        let atom = try #require(atoms.first { $0.taskNumber == 1 })

        let update = {
            try connection.execute(
                """
                UPDATE atoms SET status = $2, final_content_sha256 = $3, confidence = 0.5, started_at = now() WHERE id = $1
                """, [atom.id, status.rawValue, hasContent ? Self.sha : nil])
        }
        // The table refuses succeeded or approved without content; the rule never sees such a row.
        if !hasContent && (status == .succeeded || status == .approved) {
            #expect(throws: PostgresError.self) { try update() }
            return
        }
        _ = try update()
        let done = status.isDone(hasAcceptedContent: hasContent)
        // From pending (never accepted before).
        let accepted = status.isAccepted(hasAcceptedContent: hasContent, wasAccepted: false)

        let counted = try connection.query("SELECT completed_atoms FROM masterplans WHERE id = $1", [planID]).first!.decode(Int.self, 0)
        #expect(counted == (accepted ? 1 : 0), "the trigger counts \(status.rawValue) with content \(hasContent) as \(counted)")

        let stored = try #require(try store.atom(id: atom.id, planID: planID))
        #expect(stored.isDone == done)

        try store.updateTaskProgress(planID: planID, on: connection)
        let task = try connection.query("SELECT status FROM tasks WHERE plan_id = $1 AND number = 1", [planID]).first!.decode(String.self, 0)
        let expected = !done ? "pending" : accepted ? "completed" : "needs_review"
        #expect(task == expected, "task 1 is \(task) with its one atom \(status.rawValue), content \(hasContent)")
    }

    /// Every pair of statuses an atom with content moves between: the trigger's `accepted` is
    /// `AtomStatus.isAccepted` given what the atom was, so a repair round (accepted → running) keeps the
    /// count and a regeneration after a review or a rejection does not make the atom accepted.
    @Test("an atom produced again keeps what it was", arguments: AtomStatus.allCases)
    func runningAgainKeepsAcceptance(_ before: AtomStatus) throws {
        guard before != .pending else { return }
        let (planID, atoms) = try TodoPlanFixture.materialised(owner: owner, on: connection)
        let atom = try #require(atoms.first { $0.taskNumber == 1 })
        try connection.execute("UPDATE atoms SET status = $2, final_content_sha256 = $3, confidence = 0.5, started_at = now() WHERE id = $1",
                               [atom.id, before.rawValue, Self.sha])
        let wasAccepted = before.isAccepted(hasAcceptedContent: true, wasAccepted: false)
        try connection.execute("UPDATE atoms SET status = 'running' WHERE id = $1", [atom.id])
        let counted = try connection.query("SELECT completed_atoms FROM masterplans WHERE id = $1", [planID]).first!.decode(Int.self, 0)
        let expected = AtomStatus.running.isAccepted(hasAcceptedContent: true, wasAccepted: wasAccepted)
        #expect(counted == (expected ? 1 : 0), "\(before.rawValue) → running counts \(counted)")
        #expect(expected == (before == .succeeded || before == .approved))
    }
}
