import Foundation
import JSON
import PlanCore
import Store

extension PlanRun {
    /// The end of a run whose waves are all finished: PlanCore's `CompletionDecision` decides from the
    /// facts, and this carries its answer out. A plan completes only when its final gate ran on the
    /// commit that holds exactly the accepted content (the commit the archive is made from): content
    /// accepted after that gate (a review's edit or regeneration, a late approval) is committed and
    /// every test runs again on it first. Otherwise the plan waits for its reviews, blocks on the final
    /// gate with reviews of the failing tests' files, or fails on a rejection.
    func finishPlan() async throws {
        var finalGatesRun = 0
        while true {
            let decision = CompletionDecision(try await completionFacts())
            switch decision {
            case .complete(let verification):
                try await complete(verification)
                return
            case .failed:
                try await failForRejection(try await store { try $0.atoms(planID: self.planID) })
                return
            case .waitingForReviews(let count):
                _ = try await transition(try StatusChange(from: .executing, .block), action: .block,
                                         reason: "every wave passed; waiting for \(count) review(s) before the plan can complete")
                return
            case .incomplete:
                _ = try await transition(try StatusChange(from: .executing, .block), action: .block, reason: decision.description)
                return
            case .needsFinalGate:
                // Once is enough: asked again right after its own final gate, the workspace cannot hold
                // the accepted content, and running it again would loop.
                guard finalGatesRun == 0 else {
                    _ = try await transition(try StatusChange(from: .executing, .block), action: .block, reason: decision.description)
                    return
                }
                finalGatesRun += 1
                guard try await runFinalGate(because: decision.description) else { return }
            case .blockedByGate(let failures):
                try await blockOnFinalGate(failures)
                return
            }
        }
    }

    /// Everything the completion decision reads, gathered now.
    func completionFacts() async throws -> CompletionFacts {
        let stored = try await store { try $0.atoms(planID: self.planID) }
        // Execution order, so that of several writers of one file the last listed wrote its content.
        func position(_ atom: StoredAtom) -> Int { execution.index(of: atom.key) ?? .max }
        let atoms = stored.sorted { position($0) < position($1) }
        let pending = try await store { try $0.pendingReviewCounts(planID: self.planID) }
        let paths = Array(Set(atoms.map(\.path))).sorted()
        let (head, headFiles) = try await pool.run { () throws(WorkspaceError) -> (String?, [String: String]) in
            guard let head = try self.workspace.head() else { return (nil, [:]) }
            let committed = Set(try self.workspace.committedFiles(at: head))
            // A clean working tree holds exactly the head's tracked files: read them from disk rather
            // than one `git show` per file (a plan may have hundreds).
            let clean = try self.workspace.isClean()
            var files: [String: String] = [:]
            for path in paths where committed.contains(path) {
                files[path] = AtomPrompts.sha256(clean ? try self.workspace.read(path) : try self.workspace.committedContent(of: path, at: head))
            }
            return (head, files)
        }
        let gate = try await store { try $0.latestFinalGate(planID: self.planID) }
        let waivers = try await store { try $0.waivers(planID: self.planID) }
        return CompletionFacts(
            atoms: atoms.map { atom in
                CompletionFacts.Atom(key: atom.key, status: atom.status, acceptedSHA256: atom.finalSHA256)
            },
            pendingReviews: pending.all, headCommit: head, headFileSHA256: headFiles,
            finalGate: gate.flatMap { gate in
                gate.commit.map { commit in
                    CompletionFacts.FinalGate(commit: commit, evaluatedEveryTest: true, results: gate.results.map { result in
                        CompletionFacts.TestResult(testID: result.testID.uuidString.lowercased(), name: result.name,
                                                   priority: CriterionPriority(rawValue: result.priority) ?? .must,
                                                   outcome: result.status.flatMap(TestOutcome.init(rawValue:)))
                    })
                }
            },
            waivers: waivers.map { waiver in
                TestWaiver(testID: waiver.testID.uuidString.lowercased(), reason: waiver.reason,
                           waivedBy: waiver.waivedBy?.uuidString.lowercased() ?? "", waivedAt: waiver.waivedAt)
            },
            policy: settings.gate)
    }

    /// Marks the plan completed, saying how it was proven and, with waivers, which tests were waived.
    func complete(_ verification: CompletionDecision.Verification) async throws {
        let atoms = try await store { try $0.atoms(planID: self.planID) }
        let record = try await store { try $0.plan(id: self.planID) }
        let waived: [ProgressEvent.MasterplanExecutionComplete.Waiver] = {
            guard case .acceptedWithWaivers(let waivers) = verification else { return [] }
            return waivers.map { waiver in
                .init(testID: waiver.testID, name: tests.first { $0.id.uuidString.lowercased() == waiver.testID }?.name,
                      reason: waiver.reason, waivedBy: waiver.waivedBy, waivedAt: waiver.waivedAt)
            }
        }()
        let head = try? await pool.run { () throws(WorkspaceError) -> String? in try self.workspace.head() }
        let summary = ProgressEvent.MasterplanExecutionComplete(
            verification: verification.statusLabel, waivers: waived, totalWaves: execution.waves.count, totalAtoms: atoms.count,
            costUSD: record?.actualCostUSD ?? 0, workspace: workspace.root, commit: head ?? nil)
        try await store { _ = try $0.complete(planID: self.planID, ownerID: self.ownerID, summary: summary) }
    }

    /// Content was accepted after the last gate (or no gate ran on the head commit): the accepted content
    /// of every atom is written, committed, and every acceptance test runs on that commit, as one more
    /// round of the last wave's gate. True when the run may go on to decide again.
    func runFinalGate(because reason: String) async throws -> Bool {
        try context.checkpoint()
        let waves = try await store { try $0.waves(planID: self.planID) }
        guard let last = waves.max(by: { $0.number < $1.number }) else { return false }
        try await recoverWorkspace()
        let atoms = try await store { try $0.atoms(planID: self.planID) }
        let files = Array(Set(atoms.map(\.path))).sorted() + tests.map(\.file)
        let commit = try await self.commit(message: "final gate: accepted content after the last gate", files: files, reuseIfHeadIs: nil)
        try await store { try $0.appendHistory(planID: self.planID, event: "final_gate", data: ["reason": .string(reason), "commit": .string(commit)]) }
        let round = try await gateRounds(of: last)
        let results = try await runTests(tests, wave: last, repairRound: round)
        let (gate, gateEvent) = evaluateGate(results, done: doneTasks(atoms), isFinal: true, wave: last.number, round: round)
        var event = gateEvent
        event.finalGateCommit = commit
        let finalEvent = event
        try await store {
            try $0.recordGate(planID: self.planID, ownerID: self.ownerID, waveID: last.id, repairRound: round,
                              mustTotal: gate.mustTotal, mustPassed: gate.mustPassed, shouldTotal: gate.shouldTotal,
                              shouldPassed: gate.shouldPassed, passed: gate.passed, event: finalEvent,
                              passedWave: nil, commitSHA: commit, final: true)
        }
        // The wave's status stays as it was (passed or waived); a failing verdict fails it (blockOnFinalGate).
        return true
    }

    /// The final gate fails on tests nobody waived: the files of their tasks go to blocking reviews on
    /// the last wave, which fails, and the plan blocks until a person edits, regenerates or waives.
    func blockOnFinalGate(_ failures: [CompletionFacts.TestResult]) async throws {
        let waves = try await store { try $0.waves(planID: self.planID) }
        guard let last = waves.max(by: { $0.number < $1.number }) else { return }
        let failingTests = failures.compactMap { failure in tests.first { $0.id.uuidString.lowercased() == failure.testID } }
        let tasks = Set(failingTests.flatMap(\.coveredTasks))
        let atoms = try await store { try $0.atoms(planID: self.planID) }.filter { tasks.contains($0.taskNumber) && $0.hasAcceptedAttempt }
        let names = failures.map { "\($0.name) [\($0.priority.rawValue.uppercased())] \($0.outcome?.rawValue ?? "not run")" }
            .joined(separator: "\n")
        let round = max(0, try await gateRounds(of: last) - 1)
        try await block(wave: last, atoms: atoms, failingNames: names,
                        output: "The final gate, on the commit that holds every accepted file, failed:\n" + names, round: round)
    }
}
