import Foundation
import JSON
import LLM
import PlanCore
import Store

extension PlanRun {
    /// Carries out the reviewers' resolutions, each once:
    /// - approve (or waive, for a wave whose Gate S failed): the atom is accepted as it is (an atom
    ///   that never validated gets its last attempt's content, on the reviewer's word);
    /// - edit: the reviewer's content is written, validated and accepted; content that does not
    ///   validate goes back to review with the validator output;
    /// - regenerate: a new production with the reviewer's feedback, scored again;
    /// - reject: the atom is rejected and its task failed; the plan fails until it is resumed, which
    ///   regenerates the atom with the rejection's feedback.
    ///
    /// Returns whether a rejection was applied (the plan then fails).
    @discardableResult
    func applyResolvedReviews() async throws -> Bool {
        let resolved = try await store { try $0.unappliedReviews(planID: self.planID) }
        guard !resolved.isEmpty else { return false }
        var rejected = false
        for review in resolved {
            try context.checkpoint()
            guard review.kind == "atom", let atomID = review.atomID,
                  let atom = try await store({ try $0.atom(id: atomID, planID: self.planID) }) else {
                try await store { try $0.markApplied(reviewID: review.id) }
                continue
            }
            switch review.status {
            case .approved, .waived:
                // A waiver accepts the atom as it is, like an approval; the wave's failing tests are
                // waived when the wave is picked up again (runWave).
                try await applyApproval(atom)
            case .edited:
                try await applyEdit(atom, content: review.editedContent ?? "", blockingWaveID: review.blocking ? review.waveID : nil)
            case .regenerated:
                try await produce(atom, .regenerate(feedback: review.feedback ?? "make it better"),
                                  blockingWaveID: review.blocking ? review.waveID : nil)
            case .rejected:
                rejected = true
                let change = try StatusChange(from: atom.status, .reject, orReaching: .rejected)
                try await store {
                    try $0.changeAtom(atom.id, change)
                    try $0.failTask(taskID: atom.taskID, planID: self.planID)
                }
            case .pending:
                break
            }
            try await store { try $0.markApplied(reviewID: review.id) }
        }
        return rejected
    }

    /// A reviewer accepted the atom.
    func applyApproval(_ atom: StoredAtom) async throws {
        let change = try StatusChange(from: atom.status, .approve, orReaching: .approved)
        let payload = ProgressEvent.AtomExecutionComplete(atom: ProgressEvent.AtomReference(atom), status: change.to,
                                                          origin: "review_approve")
        if atom.hasAcceptedAttempt, let sha = atom.finalSHA256 {
            try await store {
                try $0.finishAtom(planID: self.planID, ownerID: self.ownerID, atomID: atom.id, change,
                                  confidence: nil, acceptedAttempt: nil, contentSHA256: sha, review: nil, event: payload)
            }
            return
        }
        // It never validated: the reviewer takes its last attempt as it is.
        let latest = try await store { try $0.latestAttempt(atomID: atom.id) }
        let content = latest?.output ?? ""
        try await pool.run { () throws(WorkspaceError) in try self.workspace.write(content, to: atom.path) }
        let number = try await store { try $0.lastAttemptNumber(atomID: atom.id) }
        let sha = AtomPrompts.sha256(content)
        try await store {
            try $0.finishAtom(planID: self.planID, ownerID: self.ownerID, atomID: atom.id, change,
                              confidence: nil, acceptedAttempt: number > 0 ? number : nil, contentSHA256: sha, review: nil, event: payload)
        }
    }

    /// A reviewer wrote the content: written through the safe writer, validated, accepted when valid.
    func applyEdit(_ atom: StoredAtom, content: String, blockingWaveID: UUID?) async throws {
        let previous: String? = try? await pool.run { () throws(WorkspaceError) -> String in try self.workspace.read(atom.path) }
        var validation: [ValidatorResult] = []
        var problem: String?
        do {
            try await pool.run { () throws(WorkspaceError) in try self.workspace.write(content, to: atom.path) }
            validation = await pool.run { self.validators.validate(atom.path, in: self.workspace) }
            let failed = validation.filter { !$0.passed }
            if !failed.isEmpty { problem = failed.map { "\($0.name): \($0.message)" }.joined(separator: "\n") }
        } catch {
            problem = "the edited content could not be written: \(error.description)"
        }
        let results = ValidatorResult.jsonArray(validation)
        let attempt = try await store {
            try $0.recordEdit(planID: self.planID, atomID: atom.id, content: content, validation: results)
        }
        if let problem {
            try await pool.run { () throws(WorkspaceError) in
                if let previous { try self.workspace.write(previous, to: atom.path) } else { try self.workspace.remove(atom.path) }
            }
            let reason = "the reviewer's edited content did not pass validation:\n" + AtomPrompts.cut(problem, to: 2_000)
            let change = try StatusChange(from: atom.status, .requestReview, orReaching: .needsReview)
            let review = NewAtomReview(confidence: atom.confidence ?? 0, reason: reason, priority: ReviewPriority.high.rawValue,
                                       aiSuggestions: nil, blockingWaveID: blockingWaveID)
            try await store {
                try $0.sendToReview(planID: self.planID, ownerID: self.ownerID, atomID: atom.id, change, review: review,
                                    atom: ProgressEvent.AtomReference(atom), gate: false)
            }
            return
        }
        let change = try StatusChange(from: atom.status, .edit, orReaching: .approved)
        let sha = AtomPrompts.sha256(content)
        let payload = ProgressEvent.AtomExecutionComplete(atom: ProgressEvent.AtomReference(atom), status: change.to,
                                                          origin: "review_edit", attempt: attempt)
        try await store {
            try $0.finishAtom(planID: self.planID, ownerID: self.ownerID, atomID: atom.id, change,
                              confidence: nil, acceptedAttempt: attempt, contentSHA256: sha, review: nil, event: payload)
        }
    }

    /// A plan resumed after a rejection: each rejected atom is produced again with the reviewer's
    /// feedback. False when the run must stop.
    func reviveRejectedAtoms() async throws -> Bool {
        let rejected = try await store { try $0.atoms(planID: self.planID) }.filter { $0.status == .rejected }
        for atom in rejected {
            guard try await mayContinue() else { return false }
            let feedback = try await store { try $0.latestRejection(atomID: atom.id) } ?? "the reviewer rejected this file"
            try await store { try $0.reopenTask(taskID: atom.taskID) }
            try await produce(atom, .regenerate(feedback: feedback))
        }
        return true
    }
}
