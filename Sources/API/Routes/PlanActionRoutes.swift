import Base
import Foundation
import JSON
import PlanCore
import Postgres
import Store

extension APIApplication {
    /// `POST /masterplans/{id}/<action>`: one step of the plan's state machine.
    ///
    /// The plan row is locked, `PlanStatus.applying` decides (an illegal step is a 409 naming the
    /// current status and the actions allowed now), and in the same transaction: the status change,
    /// the action's own work (freeze tests, queue a job, cancel queued jobs), a history entry and a
    /// `plan_status_changed` event (last, as `masterplan_emit_event` requires). Actions that need the
    /// executor answer 202 with the job.
    func planAction(_ ctx: RequestContext, _ action: PlanEvent) throws -> HTTPResponse {
        let user = ctx.currentUser
        let planID = try ctx.id(of: "plan")
        var fields = BodyFields(try ctx.body(), allowed: Self.bodyFields(of: action))
        let reason = fields.string("reason", maxLength: BodyLimits.planReason)
        let feedback = fields.string("feedback", maxLength: BodyLimits.feedback)
        let answers = action == .answer
            ? fields.optionalStrings("answers", maxCount: BodyLimits.clarificationAnswers, maxLength: ClarificationAnswers.maxAnswerLength)
            : nil
        try fields.check()

        let db = try database()
        let outcome = try db.transaction { db -> (from: PlanStatus, to: PlanStatus, job: UUID?) in
            let plans = PlanQueries(db)
            guard let plan = try plans.lockPlan(id: planID, ownerID: user.id) else { throw Problem.notFound("plan") }
            guard let current = PlanStatus(rawValue: plan.status) else {
                Log.error("plan has an unknown status", ["plan.id": plan.id.uuidString, "status": plan.status])
                throw Problem.internalError()
            }
            let next: PlanStatus
            do throws(IllegalTransition) {
                next = try current.applying(action)
            } catch {
                throw Problem.illegalPlanAction(action, status: current)
            }

            var jobID: UUID?
            var change = ProgressEvent.PlanStatusChanged(from: current, to: next, action: ProgressEvent.PlanStatusChanged.Action(action),
                                                         reason: reason)
            let jobs = JobQueue(db)
            do {
                switch action {
                case .approve:
                    let unconfirmed = try plans.unconfirmedTestsThatCannotFail(planID: plan.id)
                    if !unconfirmed.isEmpty { throw Problem.testsCannotFail(unconfirmed, planID: plan.id) }
                    change.frozenTests = try plans.freezeAcceptanceTests(planID: plan.id)
                    // The approved version in the form every version has (PlanQueries.versionSnapshot).
                    if let stored = try plans.snapshot(id: plan.id) {
                        let form = (try? MasterPlan(json: stored))?.jsonValue ?? stored
                        change.version = try plans.addVersion(planID: plan.id, snapshot: try plans.versionSnapshot(planID: plan.id, plan: form),
                                                              note: "approved", author: "user", authorID: user.id)
                    }
                case .answer:
                    guard let stored = try plans.lockDiscovery(planID: plan.id), let discovery = try? Discovery(json: stored.discovery) else {
                        Log.error("a plan awaiting answers has no readable discovery", ["plan.id": plan.id.uuidString])
                        throw Problem.internalError()
                    }
                    let taken: ClarificationAnswers
                    do throws(ClarificationAnswers.Refusal) {
                        taken = try ClarificationAnswers(for: discovery, given: answers ?? [])
                    } catch {
                        throw Problem.answersDoNotFit(field: error.field, message: error.message)
                    }
                    try plans.storeAnswers(discoveryID: stored.id, answers: taken)
                    change.answers = taken.answers.count
                    change.answeredByPerson = taken.writtenByPerson
                    jobID = try jobs.enqueue(.generation, planID: plan.id, conversationID: plan.conversationID,
                                             payload: ["answers": JSONValue(taken.answers.count)])
                case .regenerate:
                    change.feedback = feedback
                    jobID = try jobs.enqueue(.regeneration, planID: plan.id, conversationID: plan.conversationID,
                                             payload: ["feedback": JSONValue(feedback), "version": .int(Int64(plan.version))])
                case .execute:
                    jobID = try jobs.enqueue(.execution, planID: plan.id)
                case .resume:
                    jobID = try jobs.ensureExecution(planID: plan.id, payload: ["resumed": true]).id
                case .cancel:
                    change.cancelledJobs = try jobs.cancelQueued(planID: plan.id)
                    // No wave of a cancelled plan is shown as running: the executor stops at its next
                    // checkpoint, and a wave it finishes after this stays cancelled.
                    try plans.cancelUnfinishedWaves(planID: plan.id)
                default:
                    break
                }
            } catch let live as JobAlreadyLive {
                throw Problem.jobAlreadyLive(live.kind.rawValue)
            }
            guard try plans.changeStatus(id: plan.id, from: current.rawValue, to: next.rawValue,
                                         reason: action == .resume ? nil : reason) else {
                throw Problem.internalError()
            }
            change.jobID = jobID
            try plans.appendHistory(planID: plan.id, actor: "user", actorID: user.id, event: change.action?.historyEvent ?? action.rawValue,
                                    data: change.historyData)
            try EventFeed(db).emit(.planStatusChanged(change), ownerID: user.id, planID: plan.id)
            return (current, next, jobID)
        }

        if let job = outcome.job { return Self.accepted(planID: planID, jobID: job, status: outcome.to) }
        return .json([
            "plan_id": .string(planID.uuidString.lowercased()),
            "previous_status": .string(outcome.from.rawValue),
            "status": .string(outcome.to.rawValue),
            "allowed_actions": JSONValue(outcome.to.allowedActions.map { $0.rawValue }),
        ])
    }

    /// The body members an action reads: a reason for reject, pause and cancel, feedback for
    /// regenerate, the answers to the discovery's questions for answer (in question order, null for
    /// "keep the assumed answer"; none at all means "use the assumptions"), none for the rest (an
    /// empty object or no body).
    static func bodyFields(of action: PlanEvent) -> [String] {
        switch action {
        case .reject, .pause, .cancel: ["reason"]
        case .regenerate: ["feedback"]
        case .answer: ["answers"]
        default: []
        }
    }
}
