import Foundation
import JSON
import PlanCore
import Postgres

/// The columns of a plan that execution decides from.
public struct ExecutionPlanRecord: Sendable {
    public var id: UUID
    public var ownerID: UUID
    public var status: PlanStatus
    public var statusReason: String?
    public var projectName: String
    public var techStack: JSONValue
    public var workspacePath: String?
    public var budgetUSD: Double
    public var actualCostUSD: Double
}

/// One row of `atoms`: its database id and PlanCore's `AtomKey` (its task's number and its file), the
/// one identity `ExecutionPlan.index(of:)` and the decider's facts use.
public struct StoredAtom: Sendable, Hashable {
    public var id: UUID
    public var taskID: UUID
    public var key: AtomKey
    public var wave: Int
    public var status: AtomStatus
    public var attempts: Int
    public var confidence: Double?
    public var finalSHA256: String?
    /// Whether one of its attempts was accepted (its content is the file's content in the workspace).
    public var hasAcceptedAttempt: Bool

    /// `AtomStatus.isDone`: its accepted content is the recorded content hash.
    public var isDone: Bool { status.isDone(hasAcceptedContent: finalSHA256 != nil) }

    public var taskNumber: Int { key.taskNumber }
    public var path: String { key.path }
}

/// One row of `waves`.
public struct StoredWave: Sendable, Hashable {
    public var id: UUID
    public var number: Int
    public var atomCount: Int
    public var status: WaveStatus
    public var repairRounds: Int
    public var commitSHA: String?
}

/// An approved acceptance test with the numbers of the tasks it covers.
public struct StoredTest: Sendable, Hashable {
    public var id: UUID
    public var name: String
    public var priority: String
    public var file: String
    public var code: String
    /// The hash recorded when the plan was approved (nil when the test was never frozen).
    public var frozenSHA256: String?
    public var coveredTasks: [Int]
}

/// A resolved review the executor has not carried out yet.
public struct ResolvedReview: Sendable, Hashable {
    public var id: UUID
    public var kind: String
    public var atomID: UUID?
    public var waveID: UUID?
    public var status: ReviewStatus
    public var feedback: String?
    public var editedContent: String?
    public var blocking: Bool
    public var reviewerID: UUID?
}

/// One attempt of an atom as it is recorded.
public struct AtomAttemptRecord: Sendable {
    public var attempt: Int
    public var origin: String
    public var temperature: Double?
    public var promptDigest: String?
    public var output: String?
    public var validation: JSONValue
    public var errorFeedback: String?
    public var inputTokens: Int
    public var outputTokens: Int
    public var costUSD: Double
    public var accepted: Bool

    public init(attempt: Int, origin: String, temperature: Double?, promptDigest: String?, output: String?, validation: JSONValue,
                errorFeedback: String?, inputTokens: Int, outputTokens: Int, costUSD: Double, accepted: Bool) {
        self.attempt = attempt
        self.origin = origin
        self.temperature = temperature
        self.promptDigest = promptDigest
        self.output = output
        self.validation = validation
        self.errorFeedback = errorFeedback
        self.inputTokens = inputTokens
        self.outputTokens = outputTokens
        self.costUSD = costUSD
        self.accepted = accepted
    }
}

/// A review to create for an atom.
public struct NewAtomReview: Sendable {
    public var confidence: Double
    public var reason: String
    public var priority: String
    public var aiSuggestions: JSONValue?
    /// The wave it stops, for a blocking review; nil for a low-confidence one.
    public var blockingWaveID: UUID?

    public init(confidence: Double, reason: String, priority: String, aiSuggestions: JSONValue?, blockingWaveID: UUID?) {
        self.confidence = confidence
        self.reason = reason
        self.priority = priority
        self.aiSuggestions = aiSuggestions
        self.blockingWaveID = blockingWaveID
    }
}

/// SQL of the executor's execution job: atoms and waves, attempts, test runs, Gate S results,
/// reviews and the plan's progress. Every method that changes state emits its event(s) through
/// `masterplan_emit_event` as the last statements of one transaction, so state and events never
/// disagree, even across a crash.
public struct ExecutionStore {
    public let connection: Connection

    public init(_ connection: Connection) { self.connection = connection }

    // MARK: plan

    public func plan(id: UUID) throws -> ExecutionPlanRecord? {
        guard let row = try connection.query(
            """
            SELECT id, owner_id, status, status_reason, coalesce(project_name, '') AS project_name, tech_stack, workspace_path,
                   budget_usd::float8 AS budget, actual_cost_usd::float8 AS spent
            FROM masterplans WHERE id = $1
            """, [id]).first else { return nil }
        return ExecutionPlanRecord(id: try row.decode(UUID.self, "id"), ownerID: try row.decode(UUID.self, "owner_id"),
                                   status: try Self.status(row, "status"),
                                   statusReason: try row.decode(String?.self, "status_reason"),
                                   projectName: try row.decode(String.self, "project_name"),
                                   techStack: try row.decode(JSONValue.self, "tech_stack"),
                                   workspacePath: try row.decode(String?.self, "workspace_path"),
                                   budgetUSD: try row.decode(Double.self, "budget"), actualCostUSD: try row.decode(Double.self, "spent"))
    }

    /// The plan's status alone (checked between atoms for pause and cancel).
    public func status(planID: UUID) throws -> PlanStatus? {
        try connection.query("SELECT status FROM masterplans WHERE id = $1", [planID]).first.map { try Self.status($0, "status") }
    }

    /// A status column's word as its lifecycle status; a word the status does not have is a decoding error
    /// (the table's CHECK constraint allows none).
    static func status<Status: LifecycleStatus>(_ row: Row, _ column: String) throws -> Status {
        let word = try row.decode(String.self, column)
        guard let status = Status(rawValue: word) else {
            throw PostgresError(kind: .decoding, message: "column \(column) has the unknown \(Status.lifecycle.subject) status \(word)")
        }
        return status
    }

    /// The plan's status with what it has cost and may cost, in one query (checked before atoms start);
    /// nil when the plan no longer exists.
    public func runState(planID: UUID) throws -> (status: PlanStatus, spent: Double, budget: Double)? {
        guard let row = try connection.query(
            "SELECT status, actual_cost_usd::float8 AS spent, budget_usd::float8 AS budget FROM masterplans WHERE id = $1",
            [planID]).first else { return nil }
        return (try Self.status(row, "status"), try row.decode(Double.self, "spent"), try row.decode(Double.self, "budget"))
    }

    /// Makes the plan's status `change` with a history entry (actor `system`, the word of
    /// `ProgressEvent.PlanStatusChanged.Action.historyEvent`) and a `plan_status_changed` event
    /// (`details` with the change's from, to, action and reason), plus `extraEvents` after it; false
    /// (and nothing done) when the status was no longer `change.from`.
    @discardableResult
    public func transition(planID: UUID, ownerID: UUID, _ change: StatusChange<PlanStatus>,
                           action: ProgressEvent.PlanStatusChanged.Action, reason: String?,
                           details: ProgressEvent.PlanStatusChanged = .details(), extraEvents: [ProgressEvent] = []) throws -> Bool {
        try connection.transaction { c in
            let plans = PlanQueries(c)
            guard try plans.changeStatus(id: planID, from: change.from.rawValue, to: change.to.rawValue, reason: reason) else { return false }
            var event = details
            event.from = change.from
            event.to = change.to
            event.action = action
            event.reason = reason
            try plans.appendHistory(planID: planID, actor: "system", actorID: nil, event: action.historyEvent, data: event.json)
            let feed = EventFeed(c)
            try feed.emit(.planStatusChanged(event), ownerID: ownerID, planID: planID)
            for event in extraEvents { try feed.emit(event, ownerID: ownerID, planID: planID) }
            return true
        }
    }

    /// Records the workspace folder of the plan.
    public func setWorkspacePath(planID: UUID, path: String) throws {
        try connection.execute("UPDATE masterplans SET workspace_path = $2 WHERE id = $1 AND workspace_path IS DISTINCT FROM $2",
                               [planID, path])
    }

    /// Emits one event for the plan in its own transaction.
    public func emit(_ event: ProgressEvent, planID: UUID, ownerID: UUID) throws {
        try connection.transaction { c in _ = try EventFeed(c).emit(event, ownerID: ownerID, planID: planID) }
    }

    /// Whether the plan already has an event of this type (e.g. the one `cost_warning`).
    public func hasEvent(_ type: String, planID: UUID) throws -> Bool {
        try connection.query("SELECT EXISTS (SELECT 1 FROM events WHERE plan_id = $1 AND type = $2)", [planID, type])
            .first!.decode(Bool.self, 0)
    }

    // MARK: atoms and waves

    /// Stores the plan's atoms, their dependencies and its waves, once: false when they exist already.
    /// `atoms` are (key, wave) in `ExecutionPlan.atoms` order; `dependencies` index into `atoms`.
    @discardableResult
    public func materialize(planID: UUID, atoms: [(key: AtomKey, wave: Int)], waveSizes: [Int],
                            dependencies: [(atom: Int, dependsOn: Int, kind: String)]) throws -> Bool {
        try connection.transaction { c in
            _ = try c.query("SELECT 1 FROM masterplans WHERE id = $1 FOR UPDATE", [planID])
            if try c.query("SELECT 1 FROM waves WHERE plan_id = $1 LIMIT 1", [planID]).first != nil { return false }
            try c.execute(
                """
                INSERT INTO waves (plan_id, number, atom_count)
                SELECT $1, n, size FROM unnest($2::text[]::int[]) WITH ORDINALITY AS w(size, n)
                """, [planID, waveSizes.map(String.init)])
            let ids = try c.query(
                """
                INSERT INTO atoms (plan_id, task_id, file_path, wave)
                SELECT $1, t.id, a.path, a.wave
                FROM unnest($2::text[]::int[], $3::text[], $4::text[]::int[]) WITH ORDINALITY AS a(task, path, wave, position)
                JOIN tasks t ON t.plan_id = $1 AND t.number = a.task
                ORDER BY a.position
                RETURNING id
                """, [planID, atoms.map { String($0.key.taskNumber) }, atoms.map(\.key.path), atoms.map { String($0.wave) }]).rows
                .map { try $0.decode(UUID.self, 0) }
            guard ids.count == atoms.count else {
                throw PlanWriter.Refusal(description: "the plan's tasks changed while its atoms were stored")
            }
            if !dependencies.isEmpty {
                try c.execute(
                    """
                    INSERT INTO atom_dependencies (plan_id, atom_id, depends_on_atom_id, kind)
                    SELECT $1, a, d, k FROM unnest($2::text[]::uuid[], $3::text[]::uuid[], $4::text[]) AS x(a, d, k)
                    ON CONFLICT DO NOTHING
                    """, [planID, dependencies.map { ids[$0.atom].uuidString }, dependencies.map { ids[$0.dependsOn].uuidString },
                          dependencies.map(\.kind)])
            }
            try c.execute("UPDATE masterplans SET total_atoms = $2, total_waves = $3 WHERE id = $1",
                          [planID, atoms.count, waveSizes.count])
            return true
        }
    }

    public func atoms(planID: UUID) throws -> [StoredAtom] {
        try connection.query(Self.atomSelect + " WHERE a.plan_id = $1 ORDER BY a.wave, t.number, a.file_path", [planID]).rows
            .map(Self.storedAtom)
    }

    /// The atoms of one wave, as they are now.
    public func atoms(planID: UUID, wave: Int) throws -> [StoredAtom] {
        try connection.query(Self.atomSelect + " WHERE a.plan_id = $1 AND a.wave = $2 ORDER BY t.number, a.file_path", [planID, wave])
            .rows.map(Self.storedAtom)
    }

    /// Whether a reviewer rejected one of the plan's atoms (and it was not run again since).
    public func hasRejectedAtom(planID: UUID) throws -> Bool {
        try connection.query("SELECT EXISTS (SELECT 1 FROM atoms WHERE plan_id = $1 AND status = $2)",
                             [planID, AtomStatus.rejected.rawValue]).first!.decode(Bool.self, 0)
    }

    /// One atom of the plan, as it is now.
    public func atom(id: UUID, planID: UUID) throws -> StoredAtom? {
        try connection.query(Self.atomSelect + " WHERE a.plan_id = $1 AND a.id = $2", [planID, id]).first.map(Self.storedAtom)
    }

    static let atomSelect = """
        SELECT a.id, a.task_id, t.number, a.file_path, a.wave, a.status, a.attempts, a.confidence, a.final_content_sha256,
               EXISTS (SELECT 1 FROM atom_attempts x WHERE x.atom_id = a.id AND x.accepted) AS accepted
        FROM atoms a JOIN tasks t ON t.id = a.task_id
        """

    static func storedAtom(_ row: Row) throws -> StoredAtom {
        StoredAtom(id: try row.decode(UUID.self, 0), taskID: try row.decode(UUID.self, 1),
                   key: AtomKey(taskNumber: try row.decode(Int.self, 2), path: try row.decode(String.self, 3)), wave: try row.decode(Int.self, 4), status: try status(row, "status"),
                   attempts: try row.decode(Int.self, 6), confidence: try row.decode(Double?.self, 7),
                   finalSHA256: try row.decode(String?.self, 8), hasAcceptedAttempt: try row.decode(Bool.self, 9))
    }

    public func waves(planID: UUID) throws -> [StoredWave] {
        try connection.query(
            "SELECT id, number, atom_count, status, repair_rounds, commit_sha FROM waves WHERE plan_id = $1 ORDER BY number",
            [planID]).rows.map { row in
            StoredWave(id: try row.decode(UUID.self, 0), number: try row.decode(Int.self, 1), atomCount: try row.decode(Int.self, 2),
                       status: try Self.status(row, "status"), repairRounds: try row.decode(Int.self, 4),
                       commitSHA: try row.decode(String?.self, 5))
        }
    }

    /// Atoms left `running` by an executor that stopped or crashed go back to `pending` (`AtomEvent.requeue`);
    /// returns how many.
    @discardableResult
    public func requeueRunningAtoms(planID: UUID) throws -> Int {
        let change = try StatusChange<AtomStatus>(from: .running, .requeue)
        return try connection.execute("UPDATE atoms SET status = $3, started_at = NULL WHERE plan_id = $1 AND status = $2",
                                      [planID, change.from.rawValue, change.to.rawValue])
    }

    /// The accepted content of an atom (its accepted attempt's output, the latest one).
    public func acceptedContent(atomID: UUID) throws -> String? {
        try connection.query(
            "SELECT output FROM atom_attempts WHERE atom_id = $1 AND accepted ORDER BY attempt DESC LIMIT 1", [atomID])
            .first?.decode(String?.self, 0)
    }

    /// The latest attempt's output and validation, accepted or not.
    public func latestAttempt(atomID: UUID) throws -> (output: String?, validation: JSONValue)? {
        guard let row = try connection.query(
            "SELECT output, validation FROM atom_attempts WHERE atom_id = $1 ORDER BY attempt DESC LIMIT 1", [atomID]).first else {
            return nil
        }
        return (try row.decode(String?.self, 0), try row.decode(JSONValue.self, 1))
    }

    /// Starts a pending wave (`WaveEvent.start`, once) and emits `wave_execution_start`; returns its new status.
    @discardableResult
    public func startWave(planID: UUID, ownerID: UUID, wave: StoredWave, totalWaves: Int) throws -> WaveStatus {
        let change = try StatusChange<WaveStatus>(from: wave.status, .start)
        return try connection.transaction { c in
            guard try c.execute("UPDATE waves SET status = $3, started_at = now() WHERE id = $1 AND status = $2",
                                [wave.id, change.from.rawValue, change.to.rawValue]) == 1 else { return change.to }
            try c.execute("UPDATE masterplans SET current_wave = $2 WHERE id = $1", [planID, wave.number])
            try EventFeed(c).emit(.waveExecutionStart(ProgressEvent.WaveExecutionStart(wave: wave.number, atomCount: wave.atomCount,
                                                                                        totalWaves: totalWaves)),
                                  ownerID: ownerID, planID: planID)
            return change.to
        }
    }

    /// Marks an atom running (a first run, a retry after a review, a gate repair: `AtomStatus.eventsToStart`
    /// from `status`, the status it was loaded with) and returns the highest attempt number recorded for it
    /// (0 when none), in one statement.
    @discardableResult
    public func startAtom(_ atomID: UUID, from status: AtomStatus) throws -> Int {
        let change = try StatusChange(from: status, events: status.eventsToStart)
        return try connection.query(
            """
            UPDATE atoms SET status = $2, started_at = now(), finished_at = NULL WHERE id = $1
            RETURNING greatest(attempts, (SELECT coalesce(max(attempt), 0) FROM atom_attempts WHERE atom_id = $1))
            """, [atomID, change.to.rawValue]).first?.decode(Int.self, 0) ?? 0
    }

    /// Records one attempt (not accepted: `finishAtom` accepts one) and emits `atom_execution_progress`,
    /// in one transaction and one round trip.
    public func recordAttempt(planID: UUID, ownerID: UUID, atom: StoredAtom, _ attempt: AtomAttemptRecord,
                              progress: ProgressEvent.AtomExecutionProgress) throws {
        var attempt = attempt
        attempt.accepted = false
        try connection.pipeline([
            Self.attemptInsertion(attempt, planID: planID, atomID: atom.id),
            PipelinedStatement("UPDATE atoms SET attempts = greatest(attempts, $2) WHERE id = $1", [atom.id, attempt.attempt]),
            EventFeed.emission(.atomExecutionProgress(progress), ownerID: ownerID, planID: planID),
        ])
    }

    static func attemptInsertion(_ attempt: AtomAttemptRecord, planID: UUID, atomID: UUID) -> PipelinedStatement {
        PipelinedStatement(
            """
            INSERT INTO atom_attempts (plan_id, atom_id, attempt, origin, temperature, prompt_digest, output, validation,
                                       error_feedback, input_tokens, output_tokens, cost_usd, accepted, finished_at)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, now())
            """,
            [planID, atomID, attempt.attempt, attempt.origin, attempt.temperature, attempt.promptDigest, attempt.output,
             attempt.validation, attempt.errorFeedback, attempt.inputTokens, attempt.outputTokens, attempt.costUSD, attempt.accepted])
    }

    /// The highest attempt number recorded for the atom (0 when none).
    public func lastAttemptNumber(atomID: UUID) throws -> Int {
        try connection.query("SELECT coalesce(max(attempt), 0) FROM atom_attempts WHERE atom_id = $1", [atomID]).first!.decode(Int.self, 0)
    }

    /// Ends an atom: its status, confidence and accepted content hash; the accepted attempt marked;
    /// an optional review created; then `atom_execution_complete` (and `review_created`). Returns the
    /// review's id. With `attempt` (and its `progress` event), the attempt that ends the atom is
    /// recorded in the same transaction, as `recordAttempt` would, and its event comes first.
    /// `masterplans.completed_atoms` follows through the atoms_count_completed trigger (0009).
    ///
    /// One transaction in one round trip (`Connection.pipeline`; the review's id is chosen here so
    /// its event needs no answer first): the plan row the trigger locks and the events lock are held
    /// for the server's work alone, not across round trips, while every other atom of the plan waits.
    @discardableResult
    public func finishAtom(planID: UUID, ownerID: UUID, atomID: UUID, _ change: StatusChange<AtomStatus>, confidence: Double?,
                           acceptedAttempt: Int?, contentSHA256: String?, review: NewAtomReview?,
                           event: ProgressEvent.AtomExecutionComplete, attempt: AtomAttemptRecord? = nil,
                           progress: ProgressEvent.AtomExecutionProgress? = nil) throws -> UUID? {
        var statements: [PipelinedStatement] = []
        if let acceptedAttempt, acceptedAttempt > 1 || attempt == nil {
            // One accepted attempt per atom (a unique index): a repair or a review's new content
            // replaces the one accepted before. (An atom's first attempt has nothing before it.)
            statements.append(PipelinedStatement("UPDATE atom_attempts SET accepted = false WHERE atom_id = $1 AND accepted AND attempt <> $2",
                                                 [atomID, acceptedAttempt]))
        }
        var inserted = false
        if var attempt {
            attempt.accepted = attempt.attempt == acceptedAttempt
            statements.append(Self.attemptInsertion(attempt, planID: planID, atomID: atomID))
            inserted = attempt.accepted
        }
        if let acceptedAttempt, !inserted {
            statements.append(PipelinedStatement("UPDATE atom_attempts SET accepted = true WHERE atom_id = $1 AND attempt = $2",
                                                 [atomID, acceptedAttempt]))
        }
        let reviewID = review.map { _ in UUID() }
        if let review, let reviewID {
            statements.append(PipelinedStatement(
                """
                INSERT INTO reviews (id, plan_id, kind, atom_id, wave_id, confidence, reason, priority, ai_suggestions, blocking)
                VALUES ($1, $2, 'atom', $3, $4, $5, $6, $7, $8, $9)
                """, [reviewID, planID, atomID, review.blockingWaveID, review.confidence, review.reason, review.priority,
                      review.aiSuggestions, review.blockingWaveID != nil]))
        }
        // Last before the events: through the atoms_count_completed trigger this locks the plan's row.
        statements.append(PipelinedStatement(
            """
            UPDATE atoms SET status = $2, confidence = coalesce($3, confidence),
                   final_content_sha256 = coalesce($4, final_content_sha256), finished_at = now(),
                   attempts = greatest(attempts, $5)
            WHERE id = $1
            """, [atomID, change.to.rawValue, confidence, contentSHA256, attempt?.attempt ?? 0]))
        if change.to == .approved {
            // A reviewer accepted it: its task may be complete now.
            statements.append(PipelinedStatement(Self.taskProgressSQL, [planID, nil as Int?, AtomStatus.holdingAcceptedContent.map(\.rawValue)]))
            statements.append(PipelinedStatement(Self.taskCountersSQL, [planID]))
        }
        var completion = event
        completion.reviewID = reviewID
        if let progress { statements.append(EventFeed.emission(.atomExecutionProgress(progress), ownerID: ownerID, planID: planID)) }
        statements.append(EventFeed.emission(.atomExecutionComplete(completion), ownerID: ownerID, planID: planID))
        if let reviewID, let review {
            let created = ProgressEvent.ReviewCreated(reviewID: reviewID, atom: event.atom, priority: review.priority,
                                                      confidence: review.confidence, reason: review.reason,
                                                      blocking: review.blockingWaveID != nil, gate: false)
            statements.append(EventFeed.emission(.reviewCreated(created), ownerID: ownerID, planID: planID))
        }
        try connection.pipeline(statements)
        return reviewID
    }

    /// Changes an atom's status without other changes (a gate repair that kept the content, a reviewer's rejection).
    public func changeAtom(_ atomID: UUID, _ change: StatusChange<AtomStatus>) throws {
        try connection.execute("UPDATE atoms SET status = $2 WHERE id = $1", [atomID, change.to.rawValue])
    }

    /// Stores the wave's commit.
    public func setWaveCommit(waveID: UUID, sha: String) throws {
        try connection.execute("UPDATE waves SET commit_sha = $2 WHERE id = $1", [waveID, sha])
    }

    /// Marks the wave gating (its atoms finished, or a failed wave gated again).
    public func startGate(waveID: UUID, _ change: StatusChange<WaveStatus>) throws {
        try connection.execute("UPDATE waves SET status = $3, gate_started_at = now() WHERE id = $1 AND status = $2",
                               [waveID, change.from.rawValue, change.to.rawValue])
    }

    /// Counts a repair round.
    public func setRepairRounds(waveID: UUID, _ rounds: Int) throws {
        try connection.execute("UPDATE waves SET repair_rounds = $2 WHERE id = $1", [waveID, rounds])
    }

    /// The status of the latest mutation run of `testID` with removed files of digest `filesSHA256`, if any.
    public func mutationStatus(testID: UUID, filesSHA256: String) throws -> String? {
        try connection.query(
            """
            SELECT status FROM test_runs WHERE test_id = $1 AND kind = 'mutation' AND files_sha256 = $2
            ORDER BY created_at DESC LIMIT 1
            """, [testID, filesSHA256]).first?.decode(String.self, 0)
    }

    /// Records one test run and, with `event`, emits `acceptance_test_result`. A mutation run
    /// (`kind` "mutation") names the digest of the files it ran without.
    public func recordTestRun(planID: UUID, ownerID: UUID, test: StoredTest, sha256: String, waveID: UUID, repairRound: Int,
                              status: String, exitCode: Int32?, durationMilliseconds: Int64, outputTail: String,
                              cases: JSONValue = .array([]), reason: String? = nil, kind: String = "gate",
                              filesSHA256: String? = nil, event: ProgressEvent.AcceptanceTestResult?) throws {
        try connection.transaction { c in
            try c.execute(
                """
                INSERT INTO test_runs (plan_id, test_id, test_sha256, wave_id, repair_round, status, exit_code, duration_ms, output_tail,
                                       cases, reason, kind, files_sha256)
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
                """, [planID, test.id, sha256, waveID, repairRound, status, exitCode.map(Int.init), Int(durationMilliseconds),
                      outputTail, cases, reason.map { String(decoding: $0.utf8.prefix(4000), as: UTF8.self) }, kind, filesSHA256])
            if let event { try EventFeed(c).emit(.acceptanceTestResult(event), ownerID: ownerID, planID: planID) }
        }
    }

    /// Records a Gate S evaluation and emits `gate_validation_result`; with `passedWave` (the wave's change
    /// to passed), also ends the wave as passed and emits `wave_execution_complete` with its event.
    public func recordGate(planID: UUID, ownerID: UUID, waveID: UUID, repairRound: Int, mustTotal: Int, mustPassed: Int,
                           shouldTotal: Int, shouldPassed: Int, passed: Bool, event: ProgressEvent.GateValidationResult,
                           passedWave: (change: StatusChange<WaveStatus>, event: ProgressEvent.WaveExecutionComplete)?, waveNumber: Int? = nil,
                           commitSHA: String? = nil, final: Bool = false) throws {
        try connection.transaction { c in
            try c.execute(
                """
                INSERT INTO gate_results (plan_id, wave_id, repair_round, must_total, must_passed, should_total, should_passed,
                                          passed, failing_tests, commit_sha, final)
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
                ON CONFLICT (wave_id, repair_round) DO UPDATE SET must_total = EXCLUDED.must_total,
                    must_passed = EXCLUDED.must_passed, should_total = EXCLUDED.should_total,
                    should_passed = EXCLUDED.should_passed, passed = EXCLUDED.passed, failing_tests = EXCLUDED.failing_tests,
                    commit_sha = EXCLUDED.commit_sha, final = EXCLUDED.final
                """, [planID, waveID, repairRound, mustTotal, mustPassed, shouldTotal, shouldPassed, passed,
                      JSONValue.array(event.failingTests.map(\.json)), commitSHA, final])
            if let passedWave {
                // A wave of a plan cancelled meanwhile stays cancelled.
                try c.execute("UPDATE waves SET status = $2, finished_at = now() WHERE id = $1 AND status <> 'cancelled'",
                              [waveID, passedWave.change.to.rawValue])
                try updateTaskProgress(planID: planID, wave: waveNumber, on: c)
                let feed = EventFeed(c)
                try feed.emit(.gateValidationResult(event), ownerID: ownerID, planID: planID)
                try feed.emit(.waveExecutionComplete(passedWave.event), ownerID: ownerID, planID: planID)
            } else {
                try EventFeed(c).emit(.gateValidationResult(event), ownerID: ownerID, planID: planID)
            }
        }
    }

    /// The plan's latest final gate (one that evaluated every test): the commit it ran on, its wave and
    /// round, and each test's outcome in that round (nil when the test did not run).
    public func latestFinalGate(planID: UUID) throws
        -> (commit: String?, waveID: UUID, repairRound: Int, results: [(testID: UUID, name: String, priority: String, status: String?)])? {
        guard let gate = try connection.query(
            """
            SELECT wave_id, repair_round, commit_sha FROM gate_results WHERE plan_id = $1 AND final
            ORDER BY created_at DESC, repair_round DESC LIMIT 1
            """, [planID]).first else { return nil }
        let waveID = try gate.decode(UUID.self, 0)
        let round = try gate.decode(Int.self, 1)
        let results = try connection.query(
            """
            SELECT t.id, t.name, t.priority,
                   (SELECT r.status FROM test_runs r WHERE r.test_id = t.id AND r.wave_id = $2 AND r.repair_round = $3
                      AND r.kind = 'gate' ORDER BY r.created_at DESC LIMIT 1)
            FROM acceptance_tests t WHERE t.plan_id = $1 ORDER BY t.file_path, t.name
            """, [planID, waveID, round]).rows.map {
                (try $0.decode(UUID.self, 0), try $0.decode(String.self, 1), try $0.decode(String.self, 2), try $0.decode(String?.self, 3))
            }
        return (try gate.decode(String?.self, 2), waveID, round, results)
    }

    /// Every test waiver of the plan, oldest first: test, reason, who (a user id) and when (ISO 8601).
    public func waivers(planID: UUID) throws -> [(testID: UUID, reason: String, waivedBy: UUID?, waivedAt: String)] {
        try connection.query(
            """
            SELECT test_id, reason, waived_by, to_char(waived_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')
            FROM test_waivers WHERE plan_id = $1 ORDER BY waived_at, id
            """, [planID]).rows.map {
                (try $0.decode(UUID.self, 0), try $0.decode(String.self, 1), try $0.decode(UUID?.self, 2), try $0.decode(String.self, 3))
            }
    }

    /// Completes the plan (`executing` → `completed`) recording how it was proven, with its history
    /// entry, `plan_status_changed` and `masterplan_execution_complete`; false when it was not executing.
    public func complete(planID: UUID, ownerID: UUID, summary: ProgressEvent.MasterplanExecutionComplete) throws -> Bool {
        let change = try StatusChange<PlanStatus>(from: .executing, .complete)
        return try connection.transaction { c in
            guard try transition(planID: planID, ownerID: ownerID, change, action: .complete, reason: nil,
                                 details: .details(verification: summary.verification),
                                 extraEvents: [.masterplanExecutionComplete(summary)]) else { return false }
            try c.execute("UPDATE masterplans SET verification = $2 WHERE id = $1", [planID, summary.verification])
            return true
        }
    }

    /// Ends a wave whose gate failed as `waived` (reviewers accepted the failing tests with a reason):
    /// each test that failed its last gate evaluation gets a `test_waivers` row, and the history entry
    /// and `wave_execution_complete` say so. A waived wave is never `passed`.
    public func waiveWave(planID: UUID, ownerID: UUID, waveID: UUID, _ change: StatusChange<WaveStatus>, reviewID: UUID?,
                          reviewerID: UUID?, reason: String, waveEvent: ProgressEvent.WaveExecutionComplete) throws {
        try connection.transaction { c in
            try c.execute("UPDATE waves SET status = $2, finished_at = now() WHERE id = $1", [waveID, change.to.rawValue])
            // Every test that failed the wave's last gate evaluation is waived, with the reviewers' reason.
            try c.execute(
                """
                INSERT INTO test_waivers (plan_id, test_id, wave_id, review_id, reason, waived_by)
                SELECT $1, (f->>'test_id')::uuid, $2, $3, $4, $5
                FROM gate_results g CROSS JOIN LATERAL jsonb_array_elements(g.failing_tests) f
                WHERE g.wave_id = $2 AND g.repair_round = (SELECT max(repair_round) FROM gate_results WHERE wave_id = $2)
                ON CONFLICT (test_id, wave_id) DO UPDATE SET reason = EXCLUDED.reason, review_id = EXCLUDED.review_id,
                                                              waived_by = EXCLUDED.waived_by, waived_at = now()
                """, [planID, waveID, reviewID, reason, reviewerID])
            try updateTaskProgress(planID: planID, on: c)
            try PlanQueries(c).appendHistory(planID: planID, actor: "user", actorID: reviewerID, event: "gate_waived", data: waveEvent.json)
            try EventFeed(c).emit(.waveExecutionComplete(waveEvent), ownerID: ownerID, planID: planID)
        }
    }

    /// Marks the wave failed (its gate failed after the repair rounds, or an atom never validated).
    public func failWave(waveID: UUID, _ change: StatusChange<WaveStatus>) throws {
        try connection.execute("UPDATE waves SET status = $3, finished_at = now() WHERE id = $1 AND status = $2",
                               [waveID, change.from.rawValue, change.to.rawValue])
    }

    /// A task whose atoms are all done (`AtomStatus.isDone`) is `completed` when every one of them is
    /// accepted (`atoms.accepted`, `AtomStatus.isAccepted`), and `needs_review` while a review of one of
    /// them waits; a task still being worked on keeps its status, so a repair round never takes a
    /// completed task back. The plan's counters follow. With `wave`, only the tasks with an atom in that
    /// wave are looked at (a task completes with its last atom, so a passing wave can only complete its own tasks).
    func updateTaskProgress(planID: UUID, wave: Int? = nil, on c: Connection) throws {
        let changed = try c.execute(Self.taskProgressSQL, [planID, wave, AtomStatus.holdingAcceptedContent.map(\.rawValue)])
        if wave != nil && changed == 0 { return }
        try c.execute(Self.taskCountersSQL, [planID])
    }

    static let taskProgressSQL = """
        UPDATE tasks t SET status = s.next
        FROM (SELECT a.task_id, CASE WHEN bool_and(a.accepted) THEN 'completed' ELSE 'needs_review' END AS next
              FROM atoms a WHERE a.plan_id = $1
              GROUP BY a.task_id
              HAVING bool_and(a.status = ANY($3::text[]) AND a.final_content_sha256 IS NOT NULL)) s
        WHERE t.id = s.task_id AND t.plan_id = $1 AND t.status NOT IN ('failed', 'cancelled') AND t.status <> s.next
          AND ($2::integer IS NULL OR t.id IN (SELECT task_id FROM atoms WHERE plan_id = $1 AND wave = $2))
        """

    static let taskCountersSQL = """
        UPDATE masterplans SET completed_tasks = (SELECT count(*) FROM tasks WHERE plan_id = $1 AND status = 'completed'),
                               failed_tasks = (SELECT count(*) FROM tasks WHERE plan_id = $1 AND status = 'failed')
        WHERE id = $1
        """

    /// Marks a task failed (a reviewer rejected one of its atoms).
    public func failTask(taskID: UUID, planID: UUID) throws {
        try connection.transaction { c in
            try c.execute("UPDATE tasks SET status = 'failed' WHERE id = $1", [taskID])
            try updateTaskProgress(planID: planID, on: c)
        }
    }

    // MARK: tests

    public func tests(planID: UUID) throws -> [StoredTest] {
        try connection.query(
            """
            SELECT x.id, x.name, x.priority, x.file_path, x.code, x.sha256,
                   coalesce((SELECT array_agg(DISTINCT t.number::text) FROM acceptance_test_criteria tc
                             JOIN acceptance_criteria ac ON ac.id = tc.criterion_id JOIN tasks t ON t.id = ac.task_id
                             WHERE tc.test_id = x.id), '{}') AS tasks
            FROM acceptance_tests x WHERE x.plan_id = $1 ORDER BY x.file_path, x.name
            """, [planID]).rows.map { row in
            StoredTest(id: try row.decode(UUID.self, 0), name: try row.decode(String.self, 1), priority: try row.decode(String.self, 2),
                       file: try row.decode(String.self, 3), code: try row.decode(String.self, 4),
                       frozenSHA256: try row.decode(String?.self, 5),
                       coveredTasks: try row.decode([String].self, 6).compactMap { Int($0) }.sorted())
        }
    }

    // MARK: reviews

    /// Resolved reviews of the plan not yet carried out, oldest resolution first.
    public func unappliedReviews(planID: UUID) throws -> [ResolvedReview] {
        try connection.query(
            """
            SELECT id, kind, atom_id, wave_id, status, feedback, edited_content, blocking, reviewer_id
            FROM reviews WHERE plan_id = $1 AND status <> 'pending' AND applied_at IS NULL ORDER BY resolved_at, id
            """, [planID]).rows.map { row in
            ResolvedReview(id: try row.decode(UUID.self, 0), kind: try row.decode(String.self, 1), atomID: try row.decode(UUID?.self, 2),
                           waveID: try row.decode(UUID?.self, 3), status: try Self.status(row, "status"),
                           feedback: try row.decode(String?.self, 5), editedContent: try row.decode(String?.self, 6),
                           blocking: try row.decode(Bool.self, 7), reviewerID: try row.decode(UUID?.self, 8))
        }
    }

    /// Marks a resolution as carried out.
    public func markApplied(reviewID: UUID) throws {
        try connection.execute("UPDATE reviews SET applied_at = now() WHERE id = $1 AND applied_at IS NULL", [reviewID])
    }

    /// Pending reviews of the plan, blocking and all.
    public func pendingReviewCounts(planID: UUID) throws -> ExecutionFacts.PendingReviews {
        let row = try connection.query(
            "SELECT count(*) FILTER (WHERE blocking), count(*) FROM reviews WHERE plan_id = $1 AND status = $2",
            [planID, ReviewStatus.pending.rawValue]).first!
        return ExecutionFacts.PendingReviews(blocking: try row.decode(Int.self, 0), all: try row.decode(Int.self, 1))
    }

    /// The latest blocking reviews of a wave: their statuses, waiver reasons and reviewers.
    public func blockingReviews(waveID: UUID) throws -> [ExecutionFacts.BlockingReview<UUID, UUID>] {
        try connection.query(
            """
            SELECT r.id, r.status, r.waiver_reason, r.reviewer_id FROM reviews r
            WHERE r.wave_id = $1 AND r.blocking
              AND r.created_at >= (SELECT max(created_at) FROM reviews WHERE wave_id = $1 AND blocking) - interval '1 second'
            ORDER BY r.created_at, r.id
            """, [waveID]).rows.map {
                ExecutionFacts.BlockingReview(id: try $0.decode(UUID.self, 0), status: try Self.status($0, "status"),
                                              waiverReason: try $0.decode(String?.self, 2), reviewer: try $0.decode(UUID?.self, 3))
            }
    }

    /// The pending review of an atom, if any.
    public func pendingReview(atomID: UUID) throws -> UUID? {
        try connection.query("SELECT id FROM reviews WHERE atom_id = $1 AND status = 'pending' LIMIT 1", [atomID]).first?.decode(UUID.self, 0)
    }

    /// The feedback of the latest rejection of an atom.
    public func latestRejection(atomID: UUID) throws -> String? {
        try connection.query(
            "SELECT feedback FROM reviews WHERE atom_id = $1 AND status = 'rejected' ORDER BY resolved_at DESC LIMIT 1", [atomID])
            .first?.decode(String?.self, 0)
    }
}

extension ExecutionStore {
    /// Whether the plan's history has an entry with this event (e.g. the one `budget_paused`).
    public func hasHistory(_ event: String, planID: UUID) throws -> Bool {
        try connection.query("SELECT EXISTS (SELECT 1 FROM plan_history WHERE plan_id = $1 AND event = $2)", [planID, event])
            .first!.decode(Bool.self, 0)
    }

    /// How many Gate S evaluations the wave has had.
    public func gateResultCount(waveID: UUID) throws -> Int {
        try connection.query("SELECT count(*) FROM gate_results WHERE wave_id = $1", [waveID]).first!.decode(Int.self, 0)
    }

    /// Sends an atom to review without ending it again (a gate that still fails after its repair
    /// rounds, an edit that did not validate): `change` leads to `needs_review`, the review is created,
    /// `review_created` emitted.
    @discardableResult
    public func sendToReview(planID: UUID, ownerID: UUID, atomID: UUID, _ change: StatusChange<AtomStatus>, review: NewAtomReview,
                             atom: ProgressEvent.AtomReference, gate: Bool) throws -> UUID {
        try connection.transaction { c in
            try c.execute("UPDATE atoms SET status = $2 WHERE id = $1", [atomID, change.to.rawValue])
            let id = try c.query(
                """
                INSERT INTO reviews (plan_id, kind, atom_id, wave_id, confidence, reason, priority, ai_suggestions, blocking)
                VALUES ($1, 'atom', $2, $3, $4, $5, $6, $7, $8) RETURNING id
                """, [planID, atomID, review.blockingWaveID, review.confidence, review.reason, review.priority,
                      review.aiSuggestions, review.blockingWaveID != nil]).first!.decode(UUID.self, 0)
            let created = ProgressEvent.ReviewCreated(reviewID: id, atom: atom, priority: review.priority, confidence: review.confidence,
                                                      reason: review.reason, blocking: review.blockingWaveID != nil, gate: gate)
            try EventFeed(c).emit(.reviewCreated(created), ownerID: ownerID, planID: planID)
            return id
        }
    }

    /// Records a reviewer's edited content as an attempt (origin `review_edit`, not yet accepted:
    /// `finishAtom` accepts it when it validated); returns the attempt number.
    public func recordEdit(planID: UUID, atomID: UUID, content: String, validation: JSONValue) throws -> Int {
        try connection.transaction { c in
            let next = try c.query("SELECT coalesce(max(attempt), 0) + 1 FROM atom_attempts WHERE atom_id = $1", [atomID])
                .first!.decode(Int.self, 0)
            try c.execute(
                """
                INSERT INTO atom_attempts (plan_id, atom_id, attempt, origin, output, validation, accepted, finished_at)
                VALUES ($1, $2, $3, 'review_edit', $4, $5, false, now())
                """, [planID, atomID, next, content, validation])
            try c.execute("UPDATE atoms SET attempts = greatest(attempts, $2) WHERE id = $1", [atomID, next])
            return next
        }
    }
}

extension ExecutionStore {
    /// A failed task whose rejected atom is produced again goes back to pending.
    public func reopenTask(taskID: UUID) throws {
        try connection.execute("UPDATE tasks SET status = 'pending' WHERE id = $1 AND status = 'failed'", [taskID])
        try connection.execute(
            """
            UPDATE masterplans p SET failed_tasks = (SELECT count(*) FROM tasks WHERE plan_id = p.id AND status = 'failed')
            WHERE p.id = (SELECT plan_id FROM tasks WHERE id = $1)
            """, [taskID])
    }
}

extension ExecutionStore {
    /// Appends a system entry to the plan's history (a dependency install, a waived gate).
    public func appendHistory(planID: UUID, event: String, data: JSONObject) throws {
        try PlanQueries(connection).appendHistory(planID: planID, actor: "system", actorID: nil, event: event, data: data)
    }
}
