import Testing
@testable import PlanCore

@Suite("State machines")
struct LifecycleTests {
    /// The plan transitions, written out independently of the implementation's table.
    static let planTransitions: [PlanStatus: [PlanEvent: PlanStatus]] = [
        .generating: [.generationSucceeded: .draft, .generationFailed: .generationFailed, .askQuestions: .awaitingAnswers],
        .awaitingAnswers: [.answer: .generating, .reject: .rejected],
        .draft: [.approve: .approved, .reject: .rejected, .regenerate: .generating, .edit: .draft],
        .generationFailed: [.regenerate: .generating],
        .approved: [.execute: .queued, .cancel: .cancelled],
        .queued: [.start: .executing, .cancel: .cancelled, .fail: .failed],
        .executing: [.complete: .completed, .fail: .failed, .block: .blocked, .pause: .paused, .cancel: .cancelled],
        .blocked: [.resume: .executing, .cancel: .cancelled],
        .paused: [.resume: .executing, .cancel: .cancelled],
        .failed: [.resume: .executing],
        .rejected: [:],
        .completed: [:],
        .cancelled: [:],
    ]

    static func allPairs<S: LifecycleStatus>(_: S.Type) -> [(S, S.Event)] {
        S.allCases.flatMap { state in S.Event.allCases.map { (state, $0) } }
    }

    @Test("every (plan status, event) pair does what the design says", arguments: allPairs(PlanStatus.self))
    func planPair(_ pair: (PlanStatus, PlanEvent)) {
        let (state, event) = pair
        if let expected = Self.planTransitions[state]?[event] {
            #expect(throws: Never.self) { try state.applying(event) }
            #expect((try? state.applying(event)) == expected)
        } else {
            #expect(throws: IllegalTransition.self) { try state.applying(event) }
        }
    }

    @Test("an illegal plan transition names the state, the event and what is allowed instead")
    func illegalPlanTransition() throws {
        let error = try #require(throws: IllegalTransition.self) { try PlanStatus.executing.applying(.approve) }
        #expect(error.subject == "plan")
        #expect(error.state == "executing")
        #expect(error.event == "approve")
        #expect(error.description == "cannot approve a plan that is executing; allowed now: pause, cancel, complete, fail, block")
        let final = try #require(throws: IllegalTransition.self) { try PlanStatus.completed.applying(.resume) }
        #expect(final.description == "cannot resume a plan that is completed; allowed now: nothing (it is final)")
    }

    @Test("the actions offered for a plan are the user's allowed events", arguments: [
        (PlanStatus.generating, [PlanEvent]()),
        (.awaitingAnswers, [.answer, .reject]),
        (.draft, [.approve, .reject, .regenerate, .edit]),
        (.generationFailed, [.regenerate]),
        (.approved, [.execute, .cancel]),
        (.queued, [.cancel]),
        (.executing, [.pause, .cancel]),
        (.blocked, [.resume, .cancel]),
        (.paused, [.resume, .cancel]),
        (.failed, [.resume]),
        (.completed, []), (.rejected, []), (.cancelled, []),
    ])
    func allowedActions(_ sample: (PlanStatus, [PlanEvent])) {
        #expect(sample.0.allowedActions == sample.1)
    }

    @Test("terminal plan states are exactly rejected, completed and cancelled")
    func terminalPlanStates() {
        #expect(Set(PlanStatus.allCases.filter(\.isTerminal)) == [.rejected, .completed, .cancelled])
    }

    @Test("status words match the database's CHECK constraints")
    func rawValues() {
        #expect(PlanStatus.allowedWords == ["generating", "awaiting_answers", "draft", "approved", "rejected", "generation_failed", "queued", "executing",
                                            "completed", "failed", "blocked", "paused", "cancelled"])
        #expect(AtomStatus.allowedWords == ["pending", "running", "succeeded", "failed", "needs_review", "approved", "rejected"])
        #expect(ReviewStatus.allowedWords == ["pending", "approved", "rejected", "edited", "regenerated", "waived"])
        #expect(JobState.allowedWords == ["queued", "running", "done", "failed", "cancelled"])
        #expect(WaveStatus.allowedWords == ["pending", "running", "gating", "passed", "failed", "waived", "cancelled"])
    }

    @Test("atom transitions", arguments: [
        (AtomStatus.pending, AtomEvent.start, AtomStatus?.some(.running)),
        (.running, .succeed, .succeeded), (.running, .fail, .failed), (.running, .requestReview, .needsReview),
        (.running, .requeue, .pending), (.failed, .retry, .pending), (.failed, .requestReview, .needsReview),
        (.needsReview, .approve, .approved), (.needsReview, .edit, .approved), (.needsReview, .reject, .rejected),
        (.needsReview, .regenerate, .pending), (.succeeded, .regenerate, .pending), (.rejected, .regenerate, .pending),
        (.approved, .regenerate, .pending),
        // The executor's after-the-fact reviews and a gate repair that kept approved content.
        (.succeeded, .requestReview, .needsReview), (.approved, .requestReview, .needsReview),
        (.needsReview, .requestReview, .needsReview), (.running, .approve, .approved),
        (.pending, .succeed, nil), (.succeeded, .approve, nil), (.approved, .start, nil), (.rejected, .approve, nil),
        (.running, .start, nil), (.failed, .succeed, nil),
    ])
    func atomTransitions(_ sample: (AtomStatus, AtomEvent, AtomStatus?)) {
        #expect((try? sample.0.applying(sample.1)) == sample.2)
    }

    @Test("a review is resolved once and for all", arguments: ReviewEvent.allCases)
    func reviewResolution(_ event: ReviewEvent) throws {
        let resolved = try ReviewStatus.pending.applying(event)
        #expect(resolved.isTerminal)
        #expect(throws: IllegalTransition.self) { try resolved.applying(event) }
    }

    @Test("job transitions", arguments: [
        (JobState.queued, JobEvent.claim, JobState?.some(.running)), (.queued, .cancel, .cancelled),
        (.running, .finish, .done), (.running, .fail, .failed), (.running, .retry, .queued), (.running, .cancel, .cancelled),
        (.failed, .requeue, .queued),
        (.queued, .finish, nil), (.done, .claim, nil), (.cancelled, .requeue, nil), (.done, .requeue, nil),
    ])
    func jobTransitions(_ sample: (JobState, JobEvent, JobState?)) {
        #expect((try? sample.0.applying(sample.1)) == sample.2)
    }

    @Test("task transitions", arguments: [
        (TaskStatus.pending, TaskEvent.start, TaskStatus?.some(.running)), (.running, .complete, .completed),
        (.running, .requestReview, .needsReview), (.needsReview, .complete, .completed), (.completed, .repair, .running),
        (.failed, .retry, .pending), (.running, .cancel, .cancelled),
        (.pending, .complete, nil), (.completed, .cancel, nil), (.cancelled, .start, nil),
    ])
    func taskTransitions(_ sample: (TaskStatus, TaskEvent, TaskStatus?)) {
        #expect((try? sample.0.applying(sample.1)) == sample.2)
    }

    @Test("wave transitions", arguments: [
        (WaveStatus.pending, WaveEvent.start, WaveStatus?.some(.running)), (.running, .atomsFinished, .gating),
        (.gating, .gatePassed, .passed), (.gating, .gateFailed, .failed), (.failed, .repair, .running), (.failed, .waive, .waived),
        (.running, .atomsFailed, .failed), (.passed, .gateFailed, .failed), (.waived, .gateFailed, .failed),
        (.pending, .gatePassed, nil), (.passed, .repair, nil), (.running, .gatePassed, nil), (.gating, .atomsFailed, nil),
        (.pending, .cancel, .cancelled), (.running, .cancel, .cancelled), (.gating, .cancel, .cancelled),
        (.passed, .cancel, nil), (.failed, .cancel, nil), (.waived, .cancel, nil), (.cancelled, .start, nil),
    ])
    func waveTransitions(_ sample: (WaveStatus, WaveEvent, WaveStatus?)) {
        #expect((try? sample.0.applying(sample.1)) == sample.2)
    }

    @Test("every state of every machine can be reached from its first state")
    func reachability() {
        func reachable<S: LifecycleStatus>(_: S.Type) -> Set<S> {
            var seen: Set<S> = [S.allCases.first!]
            var frontier = [S.allCases.first!]
            while let state = frontier.popLast() {
                for event in state.allowedEvents {
                    if let next = try? state.applying(event), seen.insert(next).inserted { frontier.append(next) }
                }
            }
            return seen
        }
        #expect(reachable(PlanStatus.self) == Set(PlanStatus.allCases))
        #expect(reachable(TaskStatus.self) == Set(TaskStatus.allCases))
        #expect(reachable(AtomStatus.self) == Set(AtomStatus.allCases))
        #expect(reachable(ReviewStatus.self) == Set(ReviewStatus.allCases))
        #expect(reachable(JobState.self) == Set(JobState.allCases))
        #expect(reachable(WaveStatus.self) == Set(WaveStatus.allCases))
    }

    @Test("the article in messages follows the subject")
    func article() {
        let error = IllegalTransition(subject: "atom", state: "approved", event: "start", allowedEvents: ["regenerate"])
        #expect(error.description == "cannot start an atom that is approved; allowed now: regenerate")
    }
}
