import Foundation
import JSON
import PlanCore
import Postgres
import Store
import Testing
import TestSupport

/// masterplans.completed_atoms follows the atoms through the atoms_count_completed trigger (0009),
/// whichever statement changes them.
@Suite(.dedicatedThreads) struct AtomCounterTests {
    let connection: Connection
    let owner: UUID

    init() throws {
        connection = try Connection(try TestDatabase.migrated())
        owner = try TestDatabase.insertUser("counter", on: connection)
    }

    func completed(_ plan: UUID) throws -> Int {
        try connection.query("SELECT completed_atoms FROM masterplans WHERE id = $1", [plan]).first!.decode(Int.self, 0)
    }

    static let sha = String(repeating: "ab", count: 32)

    func completion(_ atom: StoredAtom, _ status: AtomStatus) -> ProgressEvent.AtomExecutionComplete {
        ProgressEvent.AtomExecutionComplete(atom: ProgressEvent.AtomReference(atom), status: status)
    }

    @Test func theCounterFollowsEveryChangeOfAnAtomsAcceptedState() throws {
        let (plan, atoms) = try TodoPlanFixture.materialised(owner: owner, on: connection)
        let store = ExecutionStore(connection)
        #expect(atoms.count == 2)
        #expect(try completed(plan) == 0)

        // Running is not completed; starting returns the attempts so far.
        #expect(try store.startAtom(atoms[0].id, from: .pending) == 0)
        #expect(try completed(plan) == 0)

        // Finished with accepted content (the attempt recorded in the same transaction): counted once.
        let attempt = AtomAttemptRecord(attempt: 1, origin: "generate", temperature: 0.7, promptDigest: Self.sha, output: "x = 1\n",
                                        validation: .array([]), errorFeedback: nil, inputTokens: 1, outputTokens: 1, costUSD: 0,
                                        accepted: false)
        try store.finishAtom(planID: plan, ownerID: owner, atomID: atoms[0].id, try StatusChange(from: .running, .succeed),
                             confidence: 0.9, acceptedAttempt: 1, contentSHA256: Self.sha, review: nil, event: completion(atoms[0], .succeeded), attempt: attempt,
                             progress: ProgressEvent.AtomExecutionProgress(atom: ProgressEvent.AtomReference(atoms[0]), attempt: 1,
                                                                           temperature: 0.7, passed: true, origin: "generate",
                                                                           validators: [], errors: []))
        #expect(try completed(plan) == 1)
        #expect(try store.startAtom(atoms[0].id, from: .succeeded) == 1, "the attempt recorded with the atom's end is seen by the next start")
        #expect(try completed(plan) == 1, "running again (a repair round): its accepted content stands, the count does not go back")
        try store.finishAtom(planID: plan, ownerID: owner, atomID: atoms[0].id, try StatusChange(from: .running, .succeed),
                             confidence: 0.9, acceptedAttempt: 1, contentSHA256: Self.sha, review: nil,
                             event: completion(atoms[0], .succeeded))
        #expect(try completed(plan) == 1)

        // Waiting for review is not accepted, even with content; the reviewer's approval accepts it.
        try store.changeAtom(atoms[0].id, try StatusChange(from: .succeeded, .requestReview))
        #expect(try completed(plan) == 0)
        try store.changeAtom(atoms[0].id, try StatusChange(from: .needsReview, .approve))
        #expect(try completed(plan) == 1)
        // Rejected no longer counts; requeued neither.
        try store.changeAtom(atoms[0].id, try StatusChange(from: .approved, reaching: .rejected))
        #expect(try completed(plan) == 0)

        // An atom that never validated goes to review without content: not counted.
        try store.startAtom(atoms[1].id, from: .pending)
        try store.finishAtom(planID: plan, ownerID: owner, atomID: atoms[1].id, try StatusChange(from: .running, .requestReview),
                             confidence: 0.2, acceptedAttempt: nil, contentSHA256: nil, review: nil,
                             event: completion(atoms[1], .needsReview))
        #expect(try completed(plan) == 0)
        try store.changeAtom(atoms[0].id, try StatusChange(from: .rejected, reaching: .approved))
        #expect(try completed(plan) == 1)

        // The counter equals the count of the rows, as the old recount computed it.
        let recount = try connection.query(
            """
            SELECT count(*) FROM atoms WHERE plan_id = $1 AND status IN ('succeeded', 'approved', 'needs_review')
                                        AND final_content_sha256 IS NOT NULL
            """, [plan]).first!.decode(Int.self, 0)
        #expect(try completed(plan) == recount)

        // The attempts: one accepted, and the events in order (progress before complete).
        #expect(try connection.query("SELECT count(*) FROM atom_attempts WHERE atom_id = $1 AND accepted", [atoms[0].id])
            .first!.decode(Int.self, 0) == 1)
        let types = try connection.query("SELECT type FROM events WHERE plan_id = $1 AND type LIKE 'atom_%' ORDER BY id", [plan])
            .rows.map { try $0.decode(String.self, 0) }
        #expect(types == ["atom_execution_progress", "atom_execution_complete", "atom_execution_complete", "atom_execution_complete"])
    }
}
