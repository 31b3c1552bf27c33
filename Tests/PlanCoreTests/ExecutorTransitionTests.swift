import PropertyBased
import Testing
@testable import PlanCore

/// Every status change the executor (`PlanRun`, `ExecutionHandler`, `ExecutionStore`) makes, each as the
/// `StatusChange` it builds, checked against the state machines: legal, and leading where the executor
/// writes it.
@Suite("The executor's status changes")
struct ExecutorTransitionTests {
    /// (what the executor does, from, events, to).
    static let planChanges: [(String, PlanStatus, [PlanEvent], PlanStatus)] = [
        ("a queued plan starts", .queued, [.start], .executing),
        ("a blocked plan whose reviews are resolved resumes", .blocked, [.resume], .executing),
        ("a wave's atom never validated, or its gate still fails, or the completion waits: the plan blocks", .executing, [.block], .blocked),
        ("a rejected atom fails the plan", .executing, [.fail], .failed),
        ("a blocked plan with a rejection resumes and fails", .blocked, [.resume, .fail], .failed),
        ("the budget is spent: the plan pauses", .executing, [.pause], .paused),
        ("the final gate proves it: the plan completes", .executing, [.complete], .completed),
        ("the job gave up, or the provider refused for good, while executing", .executing, [.fail], .failed),
        ("the job gave up before the plan started", .queued, [.fail], .failed),
    ]

    static let waveChanges: [(String, WaveStatus, [WaveEvent], WaveStatus)] = [
        ("a pending wave starts", .pending, [.start], .running),
        ("its atoms finished: the gate starts", .running, [.atomsFinished], .gating),
        ("a failed wave whose reviews are resolved is gated again", .failed, [.repair, .atomsFinished], .gating),
        ("the gate passes", .gating, [.gatePassed], .passed),
        ("the gate still fails after the repair rounds", .gating, [.gateFailed], .failed),
        ("an atom never validated", .running, [.atomsFailed], .failed),
        ("the final gate fails on a passed last wave", .passed, [.gateFailed], .failed),
        ("the final gate fails on a waived last wave", .waived, [.gateFailed], .failed),
        ("reviewers waived the failing tests", .failed, [.waive], .waived),
    ]

    static let atomChanges: [(String, AtomStatus, [AtomEvent], AtomStatus)] = [
        ("requeue of an atom a crashed run left running", .running, [.requeue], .pending),
        ("first run", .pending, [.start], .running),
        ("a review's regeneration of an atom held for review", .needsReview, [.regenerate, .start], .running),
        ("a rejected atom produced again on resume", .rejected, [.regenerate, .start], .running),
        ("a gate repair of a succeeded atom", .succeeded, [.regenerate, .start], .running),
        ("a gate repair of an approved atom", .approved, [.regenerate, .start], .running),
        ("validated and confident", .running, [.succeed], .succeeded),
        ("validated, confidence below the threshold", .running, [.requestReview], .needsReview),
        ("never validated", .running, [.requestReview], .needsReview),
        ("a gate repair that never validated keeps succeeded", .running, [.succeed], .succeeded),
        ("a gate repair that never validated keeps approved", .running, [.approve], .approved),
        ("a gate repair that never validated keeps needs_review", .running, [.requestReview], .needsReview),
        ("a reviewer approves (or waives)", .needsReview, [.approve], .approved),
        ("a reviewer's edit validates", .needsReview, [.edit], .approved),
        ("a reviewer's edit does not validate", .needsReview, [.requestReview], .needsReview),
        ("a reviewer rejects", .needsReview, [.reject], .rejected),
        ("the gate still fails: a succeeded atom goes to review", .succeeded, [.requestReview], .needsReview),
        ("the gate still fails: an approved atom goes to review", .approved, [.requestReview], .needsReview),
    ]

    @Test("every plan change the executor makes is legal", arguments: planChanges)
    func planChange(_ sample: (String, PlanStatus, [PlanEvent], PlanStatus)) throws {
        #expect(try StatusChange(from: sample.1, events: sample.2).to == sample.3, "\(sample.0)")
    }

    @Test("every wave change the executor makes is legal", arguments: waveChanges)
    func waveChange(_ sample: (String, WaveStatus, [WaveEvent], WaveStatus)) throws {
        #expect(try StatusChange(from: sample.1, events: sample.2).to == sample.3, "\(sample.0)")
        // Where the executor knows only the ends, the route it takes is this one or as short.
        #expect(try StatusChange(from: sample.1, reaching: sample.3).events.count <= sample.2.count)
    }

    @Test("every atom change the executor makes is legal", arguments: atomChanges)
    func atomChange(_ sample: (String, AtomStatus, [AtomEvent], AtomStatus)) throws {
        #expect(try StatusChange(from: sample.1, events: sample.2).to == sample.3, "\(sample.0)")
    }

    @Test("an atom starts from every status by its eventsToStart", arguments: AtomStatus.allCases)
    func eventsToStart(_ status: AtomStatus) throws {
        let change = try StatusChange(from: status, events: status.eventsToStart)
        #expect(change.to == .running)
        #expect(change.events.last == .start)
        #expect(!status.eventsToStart.isEmpty)
    }

    @Test("an atom is done exactly when it holds accepted content in a status that keeps it", arguments: AtomStatus.allCases, [false, true])
    func isDone(_ status: AtomStatus, hasContent: Bool) {
        let expected = hasContent && [.succeeded, .needsReview, .approved].contains(status)
        #expect(status.isDone(hasAcceptedContent: hasContent) == expected)
    }

    @Test("an illegal change is refused with the machine's message")
    func illegalChange() throws {
        #expect(throws: IllegalTransition.self) { try StatusChange<PlanStatus>(from: .completed, .resume) }
        #expect(throws: IllegalTransition.self) { try StatusChange<WaveStatus>(from: .pending, .gatePassed) }
        #expect(throws: IllegalTransition.self) { try StatusChange<AtomStatus>(from: .pending, .succeed) }
        let error = try #require(throws: IllegalTransition.self) { try StatusChange<PlanStatus>(from: .completed, reaching: .executing) }
        #expect(error.description == "cannot become executing a plan that is completed; allowed now: nothing (it is final)")
    }

    @Test("a preferred event is taken when it leads to the target, else the shortest route")
    func preferredEvent() throws {
        #expect(try StatusChange<AtomStatus>(from: .needsReview, .edit, orReaching: .approved).events == [.edit])
        #expect(try StatusChange<AtomStatus>(from: .succeeded, .reject, orReaching: .rejected).events == [.requestReview, .reject])
        #expect(try StatusChange<AtomStatus>(from: .needsReview, .requestReview, orReaching: .needsReview).events == [.requestReview])
        #expect(try StatusChange<AtomStatus>(from: .approved, .approve, orReaching: .approved).events == [])
    }

    static let seeds = Gen.uint64(in: 0...UInt64.max)

    @Test("a route is legal step by step, ends at its target, and is never longer than any walk found at random")
    func routes() async {
        func check<S: LifecycleStatus>(_: S.Type, _ random: inout SplitMix64) {
            // A random walk of legal steps.
            let start = S.allCases.randomElement(using: &random)!
            var state = start
            var walk: [S.Event] = []
            for _ in 0..<Int.random(in: 0...6, using: &random) {
                guard let event = state.allowedEvents.randomElement(using: &random) else { break }
                walk.append(event)
                state = try! state.applying(event)
            }
            guard let route = S.lifecycle.route(from: start, to: state) else {
                Issue.record("no route from \(start) to \(state), but a walk of \(walk.count) steps")
                return
            }
            #expect(route.count <= walk.count)
            #expect((try? S.lifecycle.next(after: route, in: start)) == state)
        }
        await propertyCheck(count: 300, input: Self.seeds) { seed in
            var random = SplitMix64(seed: seed)
            check(PlanStatus.self, &random)
            check(WaveStatus.self, &random)
            check(AtomStatus.self, &random)
            check(ReviewStatus.self, &random)
        }
    }

    @Test("no route leaves a final state")
    func noRouteFromFinal() {
        #expect(PlanStatus.lifecycle.route(from: .completed, to: .executing) == nil)
        #expect(ReviewStatus.lifecycle.route(from: .approved, to: .pending) == nil)
        #expect(PlanStatus.lifecycle.route(from: .draft, to: .draft) == [])
    }
}
