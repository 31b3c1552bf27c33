import Foundation
import JSON
import LLM
import PlanCore
import Store

extension PlanRun {
    /// What an atom's production is for.
    enum Production: Sendable {
        /// The atom's first run in its wave.
        case generate
        /// A reviewer asked for a new version (or rejected it and the plan was resumed).
        case regenerate(feedback: String)
        /// A Gate S repair round: the failing tests and their output.
        case gateRepair(failingTests: String, output: String)

        var origin: String {
            switch self {
            case .generate: "generate"
            case .regenerate: "review_regenerate"
            case .gateRepair: "gate_repair"
            }
        }
    }

    /// How an atom's production ended.
    enum ProductionOutcome: Sendable {
        case accepted(confidence: Double)
        case review(confidence: Double)
        case failed
        /// A gate repair that did not validate: the previous content stays.
        case unchanged
    }

    /// Runs the atoms the decider starts (`ExecutionDecider.atomsToStart`: the pending atoms of the first
    /// unfinished wave, longest remaining path first), at most `concurrency` at once. False when the run
    /// stopped early (pause, cancel, budget) — unstarted atoms stay pending.
    func runPendingAtoms(of wave: StoredWave) async throws -> Bool {
        let atoms = try await store { try $0.atoms(planID: self.planID, wave: wave.number) }
        let waves = try await store { try $0.waves(planID: self.planID) }
        let byID = Dictionary(atoms.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        let pending = decider.atomsToStart(atoms.map(facts), waves: waves.map(\.facts)).compactMap { byID[$0.id] }
        guard !pending.isEmpty else { return true }
        return try await withThrowingTaskGroup(of: Void.self, returning: Bool.self) { group in
            var next = 0
            var inFlight = 0
            var stopped = false
            while next < pending.count || inFlight > 0 {
                // One check of the plan (pause, cancel, budget, lease) before each batch of starts: at
                // the wave's start the whole first batch, then each atom that takes a freed slot.
                if !stopped && next < pending.count && inFlight < settings.concurrency {
                    stopped = try await !mayContinue()
                }
                while !stopped && next < pending.count && inFlight < settings.concurrency {
                    let atom = pending[next]
                    next += 1
                    inFlight += 1
                    group.addTask { _ = try await self.produce(atom, .generate) }
                }
                if inFlight == 0 { break }
                try await group.next()
                inFlight -= 1
            }
            return !stopped
        }
    }

    /// Produces an atom's file: up to `maxAttempts` LLM answers, each written through the safe writer
    /// and validated in the sandbox, each retry carrying the previous errors at a lower temperature;
    /// then the confidence score decides between accepting it and a review. An atom that never
    /// validates gets its previous content back and a blocking review.
    ///
    /// Provider failures (after the client's own retries) are not attempts: they end the job, which
    /// the daemon retries later; the atom goes back to pending then.
    @discardableResult
    func produce(_ atom: StoredAtom, _ production: Production, blockingWaveID: UUID? = nil) async throws -> ProductionOutcome {
        guard let task = task(atom.taskNumber) else {
            throw ExecutionHandler.Refusal(description: "atom \(atom.id) names task \(atom.taskNumber), which the plan does not have")
        }
        let index = execution.index(of: atom.key)
        var attemptNumber = try await store { try $0.startAtom(atom.id, from: atom.status) }
        let previous: String? = try? await pool.run { () throws(WorkspaceError) -> String in try self.workspace.read(atom.path) }
        let dependencyFiles = try await readDependencyFiles(of: index)
        let promptContext = AtomPrompts.Context(plan: planContext, task: task, path: atom.path,
                                                dependencyFiles: dependencyFiles, fileCharacters: settings.promptFileCharacters)
        var lastContent = previous ?? ""
        var lastErrors = ""
        var lastValidation: [ValidatorResult] = []
        var success: (attempt: Int, content: String, validation: [ValidatorResult], tries: Int, record: AtomAttemptRecord,
                      progress: ProgressEvent.AtomExecutionProgress)?

        for (position, temperature) in settings.temperatures.enumerated() {
            try context.checkpoint()
            attemptNumber += 1
            let request: LLMRequest
            if position == 0 {
                switch production {
                case .generate:
                    request = try AtomPrompts.generate(promptContext, currentContent: previous, temperature: temperature,
                                                       maxTokens: settings.atomMaxTokens)
                case .regenerate(let feedback):
                    request = try AtomPrompts.repair(promptContext, attempt: attemptNumber, previousContent: lastContent,
                                                     errors: "A reviewer asked for a new version: \(feedback)", temperature: temperature,
                                                     maxTokens: settings.atomMaxTokens)
                case .gateRepair(let failing, let output):
                    request = try AtomPrompts.gateRepair(promptContext, currentContent: lastContent, failingTests: failing,
                                                         testOutput: output, temperature: temperature, maxTokens: settings.atomMaxTokens)
                }
            } else {
                request = try AtomPrompts.repair(promptContext, attempt: attemptNumber, previousContent: lastContent, errors: lastErrors,
                                                 temperature: temperature, maxTokens: settings.atomMaxTokens)
            }
            // An answer that breaks its schema is a failed attempt like any invalid answer: its
            // violations go back to the model as the next attempt's errors.
            let result: LLMResult
            var schemaViolations: [String] = []
            do {
                result = try await llm.complete(request, attribution: attribution)
            } catch {
                guard error.kind == .invalidAnswer, let answer = error.answer else { throw error }
                result = answer
                schemaViolations = error.violations
            }

            let checked = await check(answer: result.text, for: atom, schemaViolations: schemaViolations)
            let passed = checked.errors.isEmpty
            let record = AtomAttemptRecord(
                attempt: attemptNumber, origin: position == 0 ? production.origin : "retry", temperature: temperature,
                promptDigest: AtomPrompts.digest(request), output: checked.storedOutput,
                validation: ValidatorResult.jsonArray(checked.validation),
                errorFeedback: passed ? nil : checked.errors.joined(separator: "\n"),
                inputTokens: result.usage.inputTokens ?? 0, outputTokens: result.usage.outputTokens ?? 0,
                costUSD: result.costUSD ?? 0, accepted: false)
            let progress = ProgressEvent.AtomExecutionProgress(
                atom: ProgressEvent.AtomReference(atom), attempt: attemptNumber, temperature: temperature, passed: passed,
                origin: record.origin, validators: checked.validation.map { .init(name: $0.name, passed: $0.passed) },
                errors: checked.errors.prefix(5).map { AtomPrompts.cut($0, to: 500) })
            if passed, let content = checked.content {
                // Recorded with the atom's end, in one transaction.
                success = (attemptNumber, content, checked.validation, position + 1, record, progress)
                break
            }
            let progressEvent = progress
            try await store { try $0.recordAttempt(planID: self.planID, ownerID: self.ownerID, atom: atom, record, progress: progressEvent) }
            if let content = checked.content { lastContent = content }
            lastErrors = checked.errors.joined(separator: "\n")
            lastValidation = checked.validation
        }

        if let success {
            let score = ConfidenceScore(ConfidenceInput(
                validatorsPassed: success.validation.filter(\.passed).count, validatorsRun: success.validation.count,
                attempts: success.tries, complexity: task.complexity), policy: settings.confidence)
            var review: NewAtomReview?
            let change: StatusChange<AtomStatus>
            switch score.decision {
            case .accept:
                change = try StatusChange(from: .running, .succeed)
            case .review(let priority):
                change = try StatusChange(from: .running, .requestReview)
                let reason = String(format: "confidence %.2f is below %.2f (%d attempt(s), %@ complexity)", score.value,
                                    settings.confidence.reviewThreshold, success.tries, task.complexity.rawValue)
                review = NewAtomReview(confidence: score.value, reason: reason, priority: priority.rawValue,
                                       aiSuggestions: await suggestions(task: task, atom: atom, reason: reason, confidence: score.value,
                                                                        validation: success.validation, content: success.content),
                                       blockingWaveID: blockingWaveID)
            }
            let completion = ProgressEvent.AtomExecutionComplete(atom: ProgressEvent.AtomReference(atom), status: change.to,
                                                                 origin: production.origin, attempts: success.tries, confidence: score.value)
            let sha = AtomPrompts.sha256(success.content)
            let chosen = review
            try await store {
                try $0.finishAtom(planID: self.planID, ownerID: self.ownerID, atomID: atom.id, change, confidence: score.value,
                                  acceptedAttempt: success.attempt, contentSHA256: sha, review: chosen, event: completion,
                                  attempt: success.record, progress: success.progress)
            }
            return review == nil ? .accepted(confidence: score.value) : .review(confidence: score.value)
        }

        // Never validated: the file goes back to what it was before this production.
        try await pool.run { () throws(WorkspaceError) in
            if let previous { try self.workspace.write(previous, to: atom.path) } else { try self.workspace.remove(atom.path) }
        }
        if case .gateRepair = production {
            // The content stays, and with it the status it had (succeeded for an atom that was running).
            let restored = try StatusChange(from: .running, reaching: atom.status == .running ? .succeeded : atom.status)
            try await store { try $0.changeAtom(atom.id, restored) }
            return .unchanged
        }
        let score = ConfidenceScore(ConfidenceInput(
            validatorsPassed: lastValidation.filter(\.passed).count, validatorsRun: lastValidation.count,
            attempts: settings.maxAttempts, complexity: task.complexity), policy: settings.confidence)
        let reason = "did not pass validation after \(settings.maxAttempts) attempts: " + AtomPrompts.cut(lastErrors, to: 2_000)
        let wave = try await blockingWave(for: atom, given: blockingWaveID)
        let review = NewAtomReview(confidence: score.value, reason: reason, priority: ReviewPriority.high.rawValue,
                                   aiSuggestions: await suggestions(task: task, atom: atom, reason: reason, confidence: score.value,
                                                                    validation: lastValidation, content: lastContent),
                                   blockingWaveID: wave)
        let change = try StatusChange<AtomStatus>(from: .running, .requestReview)
        let completion = ProgressEvent.AtomExecutionComplete(atom: ProgressEvent.AtomReference(atom), status: change.to,
                                                             attempts: settings.maxAttempts, confidence: score.value, validated: false)
        try await store {
            try $0.finishAtom(planID: self.planID, ownerID: self.ownerID, atomID: atom.id, change, confidence: score.value,
                              acceptedAttempt: nil, contentSHA256: nil, review: review, event: completion)
        }
        return .failed
    }

    /// The wave a failed atom's review blocks: the one given, else the atom's own.
    func blockingWave(for atom: StoredAtom, given: UUID?) async throws -> UUID? {
        if let given { return given }
        return try await store { try $0.waves(planID: self.planID) }.first { $0.number == atom.wave }?.id
    }

    /// What an answer gave: the content (when it is a file this atom may write), the errors to send
    /// back, the validator results, and what to store as the attempt's output.
    struct CheckedAnswer: Sendable {
        var content: String?
        var errors: [String]
        var validation: [ValidatorResult]
        var storedOutput: String?
    }

    /// Parses an atom answer and, when it is acceptable, writes and validates it. Refused: an answer
    /// that is not the JSON document, a file other than the atom's (a path outside the workspace
    /// included), content over the size cap, and content that is not text.
    func check(answer text: String, for atom: StoredAtom, schemaViolations: [String] = []) async -> CheckedAnswer {
        let cap = settings.workspaceLimits.maxFileBytes
        let stored = text.utf8.count <= cap && !text.utf8.contains(0) ? text : AtomPrompts.cut(String(decoding: text.utf8.prefix(4096), as: UTF8.self).replacingOccurrences(of: "\u{0}", with: "\\0"), to: 4096) + "\n… (answer of \(text.utf8.count) bytes not stored)"
        if !schemaViolations.isEmpty {
            return CheckedAnswer(content: nil, errors: ["The answer does not follow the requested JSON schema: "
                                                        + schemaViolations.prefix(5).joined(separator: "; ")],
                                 validation: [], storedOutput: stored)
        }
        let answer: AtomFileAnswer
        do {
            answer = try AnswerParser.atomFile(text)
        } catch {
            return CheckedAnswer(content: nil, errors: ["The answer was not the requested JSON document: \(error.message)"],
                                 validation: [], storedOutput: stored)
        }
        let asked = atom.path
        var given = answer.file
        while given.hasPrefix("./") { given.removeFirst(2) }
        guard given == asked else {
            return CheckedAnswer(content: nil, errors: ["The answer is for the file \"\(AtomPrompts.cut(answer.file, to: 200))\", but the file to write is \(asked); answer with exactly that file."],
                                 validation: [], storedOutput: stored)
        }
        let bytes = answer.content.utf8.count
        guard bytes <= cap else {
            return CheckedAnswer(content: nil, errors: ["The file is \(bytes) bytes; the limit is \(cap) bytes. Write a smaller file."],
                                 validation: [], storedOutput: stored)
        }
        guard !answer.content.utf8.contains(0) else {
            return CheckedAnswer(content: nil, errors: ["The content has NUL bytes: only text files are accepted."],
                                 validation: [], storedOutput: stored)
        }
        do {
            try await pool.run { () throws(WorkspaceError) in try self.workspace.write(answer.content, to: asked) }
        } catch {
            return CheckedAnswer(content: nil, errors: ["The file could not be written: \(error.description)"], validation: [],
                                 storedOutput: answer.content)
        }
        let validation = await pool.run { self.validators.validate(asked, in: self.workspace) }
        let errors = validation.filter { !$0.passed }.map { "\($0.name): \($0.message)" }
        return CheckedAnswer(content: answer.content, errors: errors, validation: validation, storedOutput: answer.content)
    }

    /// The current content of the files the atom's dependencies wrote.
    func readDependencyFiles(of index: Int?) async throws -> [(path: String, content: String)] {
        guard let index else { return [] }
        let paths = execution.inputFiles(of: index)
        return await pool.run {
            paths.compactMap { path in (try? self.workspace.read(path)).map { (path: path, content: $0) } }
        }
    }

    /// Suggestions for a review from an LLM call; nil (and the review goes on without them) when the
    /// call or its answer fails.
    func suggestions(task: PlanTask, atom: StoredAtom, reason: String, confidence: Double, validation: [ValidatorResult],
                     content: String) async -> JSONValue? {
        guard settings.reviewSuggestions else { return nil }
        do {
            let text = validation.map { "\($0.passed ? "passed" : "FAILED") \($0.name)\($0.message.isEmpty ? "" : ": " + $0.message)" }
                .joined(separator: "\n")
            let request = try AtomPrompts.suggestions(task: task, path: atom.path, reason: reason, confidence: confidence,
                                                      validation: text, content: content, fileCharacters: settings.promptFileCharacters)
            let result = try await llm.complete(request, attribution: attribution)
            return try AnswerParser.reviewSuggestions(result.text).json
        } catch {
            handler.log.warning("review suggestions unavailable", ["plan.id": planID.uuidString.lowercased(),
                                                                  "atom.id": atom.id.uuidString.lowercased(),
                                                                  "error": AtomPrompts.cut(String(describing: error), to: 300)])
            return ["error": .string("no AI suggestions: \(AtomPrompts.cut(String(describing: error), to: 300))")]
        }
    }
}
