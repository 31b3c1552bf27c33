import Foundation
import JSON
import LLM
import PlanCore
import Store

extension PlanRun {
    /// The end of a wave: commit it, run the acceptance tests that became due, evaluate Gate S; on
    /// failure, repair rounds (the atoms of the failing tests' tasks regenerated with the test output),
    /// and when they are used up, blocking reviews and a blocked plan. True when the wave passed.
    func finishWave(_ wave: StoredWave, atoms waveAtoms: [StoredAtom], totalWaves: Int, allowRepairs: Bool,
                    mayHaveCommitted: Bool) async throws -> Bool {
        try context.checkpoint()
        let files = waveAtoms.map(\.path) + tests.map(\.file)
        let message = Workspace.waveMessage(wave.number, atomCount: waveAtoms.count)
        let sha = try await commit(message: message, files: files, reuseIfHeadIs: mayHaveCommitted || wave.commitSHA != nil ? message : nil)
        try await store { try $0.setWaveCommit(waveID: wave.id, sha: sha) }
        // The commit whose tree the tests run on: the wave's, then each repair round's.
        var gated = sha

        try await installDependencies()
        var round = try await gateRounds(of: wave)
        var repairsDone = wave.repairRounds
        var repairsLeft = allowRepairs ? max(0, settings.repairRounds - repairsDone) : 0
        let isFinal = wave.number == totalWaves
        // The wave's status as this run moves it: gating from the first evaluation on, through repair rounds.
        var status = wave.status
        while true {
            try context.checkpoint()
            if status != .gating {
                let change = try StatusChange(from: status, reaching: .gating)
                try await store { try $0.startGate(waveID: wave.id, change) }
                status = change.to
            }
            // With no acceptance tests nothing is due and no atom is repairable: the wave's atoms do.
            let current = tests.isEmpty ? waveAtoms : try await store { try $0.atoms(planID: self.planID) }
            let done = doneTasks(current)
            let due = tests.filter { isFinal || Set($0.coveredTasks).isSubset(of: done) }
            let results = try await runTests(due, wave: wave, repairRound: round)
            let (gate, gateEvent) = evaluateGate(results, done: done, isFinal: isFinal, wave: wave.number, round: round)
            let passedWave: (change: StatusChange<WaveStatus>, event: ProgressEvent.WaveExecutionComplete)? = gate.passed
                ? (try StatusChange(from: status, .gatePassed),
                   ProgressEvent.WaveExecutionComplete(wave: wave.number, commit: sha,
                                                       outcome: .passed(atoms: waveAtoms.count, repairRounds: round, testsRun: due.count)))
                : nil
            let roundNow = round
            let commitNow = gated
            try await store {
                try $0.recordGate(planID: self.planID, ownerID: self.ownerID, waveID: wave.id, repairRound: roundNow,
                                  mustTotal: gate.mustTotal, mustPassed: gate.mustPassed, shouldTotal: gate.shouldTotal,
                                  shouldPassed: gate.shouldPassed, passed: gate.passed,
                                  event: gateEvent, passedWave: passedWave, waveNumber: isFinal ? nil : wave.number,
                                  commitSHA: commitNow, final: isFinal)
            }
            if gate.passed { return true }

            let failingTests = gate.failures.compactMap { failure in tests.first { $0.id.uuidString.lowercased() == failure.testID } }
            let failingTasks = Set(failingTests.flatMap(\.coveredTasks))
            let output = failingTests.map { test in
                "=== \(test.name) (\(test.file), \(results[test.id]?.outcome.rawValue ?? "not run")) ===\n"
                    + AtomPrompts.cut(results[test.id]?.output ?? (results[test.id]?.reason ?? "the test did not run"),
                                      to: max(500, settings.promptTestOutputCharacters / max(1, failingTests.count)))
            }.joined(separator: "\n\n")
            let names = failingTests.map { "\($0.name) [\($0.priority.uppercased())] in \($0.file)" }.joined(separator: "\n")
            // A test that passes without the code it checks is not fixed by rewriting that code.
            let codeCanFix = Set(failingTests.filter { results[$0.id]?.mutation != "passes_without_the_code" }.flatMap(\.coveredTasks))
            let repairable = current.filter { failingTasks.contains($0.taskNumber) && $0.hasAcceptedAttempt }

            let mayGoOn = try await mayContinue()
            switch decider.afterFailedGate(repairsLeft: repairsLeft, repairableAtoms: repairable.count, codeCanFix: !codeCanFix.isEmpty,
                                           mayGoOn: mayGoOn) {
            case .block:
                guard try await store({ try $0.status(planID: self.planID) }) == .executing else { return false }
                var failing = wave
                failing.status = status
                try await block(wave: failing, atoms: repairable, failingNames: names, output: output, round: round)
                return false
            case .repair:
                break
            }
            repairsLeft -= 1
            round += 1
            repairsDone += 1
            let counted = repairsDone
            try await store { try $0.setRepairRounds(waveID: wave.id, counted) }
            try await withThrowingTaskGroup(of: Void.self) { group in
                var inFlight = 0
                for atom in repairable where codeCanFix.contains(atom.taskNumber) {
                    if inFlight >= settings.concurrency {
                        try await group.next()
                        inFlight -= 1
                    }
                    inFlight += 1
                    group.addTask { _ = try await self.produce(atom, .gateRepair(failingTests: names, output: output)) }
                }
                try await group.waitForAll()
            }
            gated = try await commit(message: "wave \(wave.number): repair round \(round)", files: files, reuseIfHeadIs: nil)
        }
    }

    /// Gate S over the tests' `results`, and the `gate_validation_result` event (whose failing tests
    /// are stored with the result).
    func evaluateGate(_ results: [UUID: AcceptanceTestResult], done: Set<Int>, isFinal: Bool, wave: Int, round: Int)
        -> (gate: GateResult, event: ProgressEvent.GateValidationResult) {
        let gateTests = tests.map { test in
            GateTest(id: test.id.uuidString.lowercased(), priority: CriterionPriority(rawValue: test.priority) ?? .must,
                     coveredTasks: Set(test.coveredTasks), outcome: results[test.id]?.outcome)
        }
        let gate = GateS.evaluate(tests: gateTests, doneTasks: done, isFinalWave: isFinal, policy: settings.gate)
        let failing = gate.failures.map { failure in
            let test = tests.first { $0.id.uuidString.lowercased() == failure.testID }
            return ProgressEvent.FailingTest(testID: failure.testID, name: test?.name, priority: failure.priority.rawValue,
                                             status: results[test?.id ?? UUID()]?.outcome.rawValue ?? "not_run")
        }
        let event = ProgressEvent.GateValidationResult(
            wave: wave, repairRound: round, passed: gate.passed, mustTotal: gate.mustTotal, mustPassed: gate.mustPassed,
            shouldTotal: gate.shouldTotal, shouldPassed: gate.shouldPassed, failingTests: failing, final: isFinal)
        return (gate, event)
    }

    /// Tasks whose every atom is done (`ExecutionDecider.doneTasks`).
    func doneTasks(_ atoms: [StoredAtom]) -> Set<Int> {
        decider.doneTasks(atoms.map(facts))
    }

    /// Runs the tests (each alone, in a throwaway copy of the workspace, without network), records
    /// every run and emits `acceptance_test_result` for each. A test whose code no longer matches the
    /// hash frozen at approval is not run: it is an error.
    func runTests(_ due: [StoredTest], wave: StoredWave, repairRound: Int) async throws -> [UUID: AcceptanceTestResult] {
        guard !due.isEmpty else { return [:] }
        do {
            _ = try TestCommand(parsing: testCommand)
        } catch {
            var results: [UUID: AcceptanceTestResult] = [:]
            for test in due {
                results[test.id] = AcceptanceTestResult(name: test.name, file: test.file, outcome: .error, exitCode: nil, duration: .zero,
                                                        output: "", reason: error.description)
            }
            try await record(results, due: due, wave: wave, repairRound: repairRound)
            return results
        }
        // Every approved test file is written first (a test may import a helper of another).
        let approved = tests.filter { $0.frozenSHA256 != nil && $0.frozenSHA256 == AtomPrompts.sha256($0.code) }
        let writeFailure: String? = await pool.run {
            do throws(WorkspaceError) {
                for test in approved { try self.workspace.write(test.code, to: test.file) }
                return nil
            } catch {
                return "the test file could not be written: \(error.description)"
            }
        }
        var results: [UUID: AcceptanceTestResult] = [:]
        var configured = testRunner
        configured.environment = testEnvironment
        configured.dependencies = testEnvironment["PYTHONPATH"]
        let runner = configured
        try await withThrowingTaskGroup(of: (UUID, AcceptanceTestResult).self) { group in
            for test in due {
                group.addTask {
                    let subject = self.acceptanceTest(test)
                    guard let frozen = test.frozenSHA256 else {
                        return (test.id, Self.notRun(test, "the test was never frozen (approved); only approved tests run"))
                    }
                    guard frozen == AtomPrompts.sha256(test.code) else {
                        return (test.id, Self.notRun(test, "the test's code does not match the hash frozen at approval; it is not run"))
                    }
                    if let writeFailure { return (test.id, Self.notRun(test, writeFailure)) }
                    return (test.id, await self.pool.run { runner.run(subject, in: self.workspace) })
                }
            }
            for try await (id, result) in group { results[id] = result }
        }
        try await checkMutations(of: due, results: &results, runner: runner, wave: wave, repairRound: repairRound)
        try await record(results, due: due, wave: wave, repairRound: repairRound)
        return results
    }

    /// A MUST test counts only if it notices the code it checks: each MUST test that passed runs again
    /// in a copy of the workspace without the files of the tasks it covers, and if it still passes it
    /// proves nothing about them and counts as failing, with that reason. The verdict is stored with
    /// the digest of the removed files' paths and contents and reused while they are unchanged (repair
    /// rounds that touch other files, later waves).
    func checkMutations(of due: [StoredTest], results: inout [UUID: AcceptanceTestResult], runner: AcceptanceTestRunner,
                        wave: StoredWave, repairRound: Int) async throws {
        let candidates = due.filter { $0.priority == CriterionPriority.must.rawValue && results[$0.id]?.outcome == .pass }
        guard !candidates.isEmpty else { return }
        let verdicts = try await withThrowingTaskGroup(of: (UUID, String?).self, returning: [UUID: String].self) { group in
            for test in candidates {
                group.addTask {
                    let files = self.coveredFiles(of: test)
                    guard !files.isEmpty else { return (test.id, nil) }
                    let digest = await self.pool.run { () -> String in
                        AtomPrompts.sha256(files.sorted().map { path in
                            path + "\u{0}" + ((try? self.workspace.read(path)).map(AtomPrompts.sha256) ?? "absent")
                        }.joined(separator: "\n"))
                    }
                    if let cached = try await self.store({ try $0.mutationStatus(testID: test.id, filesSHA256: digest) }) {
                        return (test.id, cached)
                    }
                    let subject = self.acceptanceTest(test)
                    let mutated = await self.pool.run { runner.run(subject, in: self.workspace, removing: files) }
                    if let sha = test.frozenSHA256 {
                        let tail = AtomPrompts.cut(mutated.output, to: 16_000)
                        try await self.store {
                            try $0.recordTestRun(planID: self.planID, ownerID: self.ownerID, test: test, sha256: sha, waveID: wave.id,
                                                 repairRound: repairRound, status: mutated.outcome.rawValue, exitCode: mutated.exitCode,
                                                 durationMilliseconds: mutated.durationMilliseconds, outputTail: tail,
                                                 cases: mutated.report?.casesJSON ?? .array([]), reason: mutated.reason,
                                                 kind: "mutation", filesSHA256: digest, event: nil)
                        }
                    }
                    return (test.id, mutated.outcome.rawValue)
                }
            }
            var verdicts: [UUID: String] = [:]
            for try await (id, verdict) in group { if let verdict { verdicts[id] = verdict } }
            return verdicts
        }
        for test in candidates {
            guard var result = results[test.id] else { continue }
            let removed = coveredFiles(of: test).sorted()
            if verdicts[test.id] == TestOutcome.pass.rawValue {
                let tasks = test.coveredTasks.sorted().map(String.init).joined(separator: ", ")
                result.outcome = .fail
                result.reason = "the test passes even without the files of task(s) \(tasks) (\(removed.prefix(5).joined(separator: ", "))): "
                    + "it proves nothing about them, so it does not count"
                result.output = result.reason! + "\n\n" + result.output
            }
            result.mutation = verdicts[test.id].map { $0 == TestOutcome.pass.rawValue ? "passes_without_the_code" : "fails_without_the_code" }
            results[test.id] = result
        }
    }

    /// The files of the tasks `test` covers: what its mutation run leaves out.
    func coveredFiles(of test: StoredTest) -> Set<String> {
        Set(test.coveredTasks.flatMap { task($0)?.files ?? [] })
    }

    /// The stored test as the runner takes it.
    func acceptanceTest(_ test: StoredTest) -> AcceptanceTest {
        AcceptanceTest(name: test.name, priority: CriterionPriority(rawValue: test.priority) ?? .must, covers: test.coveredTasks,
                       file: test.file, code: test.code)
    }

    static func notRun(_ test: StoredTest, _ reason: String) -> AcceptanceTestResult {
        AcceptanceTestResult(name: test.name, file: test.file, outcome: .error, exitCode: nil, duration: .zero, output: "", reason: reason)
    }

    func record(_ results: [UUID: AcceptanceTestResult], due: [StoredTest], wave: StoredWave, repairRound: Int) async throws {
        for test in due {
            guard let result = results[test.id], let sha = test.frozenSHA256 else { continue }
            // A test that was never frozen cannot have a run row (the foreign key names the frozen hash).
            var tail = result.output
            if let reason = result.reason { tail = tail.isEmpty ? reason : tail + "\n" + reason }
            while tail.utf8.count > 65_000 { tail = String(tail.dropFirst(tail.count / 4)) }
            let event = ProgressEvent.AcceptanceTestResult(
                testID: test.id, name: test.name, file: test.file, priority: test.priority, wave: wave.number,
                repairRound: repairRound, status: result.outcome.rawValue, durationMilliseconds: result.durationMilliseconds,
                reason: result.reason, cases: result.report?.cases.count ?? 0,
                casesPassed: result.report?.cases.filter(\.passed).count ?? 0, mutation: result.mutation)
            let outputTail = tail
            let cases = result.report?.casesJSON ?? .array([])
            try await store {
                try $0.recordTestRun(planID: self.planID, ownerID: self.ownerID, test: test, sha256: sha, waveID: wave.id,
                                     repairRound: repairRound, status: result.outcome.rawValue, exitCode: result.exitCode,
                                     durationMilliseconds: result.durationMilliseconds, outputTail: outputTail,
                                     cases: cases, reason: result.reason, event: event)
            }
        }
    }

    /// The gate still fails: every accepted atom of the failing tests' tasks goes to a blocking
    /// review (with suggestions), the wave is failed and the plan blocked.
    func block(wave: StoredWave, atoms: [StoredAtom], failingNames: String, output: String, round: Int) async throws {
        let reason = "acceptance tests still fail after \(round) repair round(s):\n\(failingNames)"
        for atom in atoms {
            guard let task = task(atom.taskNumber) else { continue }
            if try await store({ try $0.pendingReview(atomID: atom.id) }) != nil { continue }
            let content = (try? await pool.run { () throws(WorkspaceError) -> String in try self.workspace.read(atom.path) }) ?? ""
            let score = ConfidenceScore(ConfidenceInput(validatorsPassed: 1, validatorsRun: 1, attempts: max(1, min(atom.attempts, settings.maxAttempts)),
                                                        complexity: task.complexity, testsPassed: 0, testsRun: 1), policy: settings.confidence)
            let suggestions = await suggestions(task: task, atom: atom, reason: reason + "\n\nTest output:\n" + AtomPrompts.cut(output, to: 4_000),
                                                confidence: score.value, validation: [], content: content)
            let review = NewAtomReview(confidence: score.value, reason: AtomPrompts.cut(reason, to: 4_000), priority: ReviewPriority.high.rawValue,
                                       aiSuggestions: suggestions, blockingWaveID: wave.id)
            let change = try StatusChange(from: atom.status, .requestReview, orReaching: .needsReview)
            try await store {
                try $0.sendToReview(planID: self.planID, ownerID: self.ownerID, atomID: atom.id, change, review: review,
                                    atom: ProgressEvent.AtomReference(atom), gate: true)
            }
        }
        if wave.status != .failed {
            let change = try StatusChange(from: wave.status, .gateFailed, orReaching: .failed)
            try await store { try $0.failWave(waveID: wave.id, change) }
        }
        _ = try await transition(try StatusChange(from: .executing, .block), action: .block,
                                 reason: "wave \(wave.number): Gate S failed after \(round) repair round(s); the reviews of the failing tasks are waiting",
                                 details: .details(wave: wave.number))
    }

    /// Commits the working tree; when the current commit already has `reuseIfHeadIs` as its subject
    /// (a crash came between the commit and recording it), that commit is the wave's.
    func commit(message: String, files: [String], reuseIfHeadIs subject: String?) async throws -> String {
        try await pool.run { () throws(WorkspaceError) -> String in
            if let subject, let head = try self.workspace.head(), let last = try self.workspace.log(limit: 1).first,
               last.subject == subject, try self.workspace.isClean() {
                return head
            }
            return try self.workspace.commit(message: message, forcing: files)
        }
    }
}
