import Foundation
import JSON
import PlanCore
import Postgres
import Store

extension APIApplication {
    /// `GET /reviews`.
    func listReviews(_ ctx: RequestContext) throws -> HTTPResponse {
        let status = try ctx.queryWord(.reviewStatus)
        let planID = try ctx.queryUUID(.planID)
        return .page(try ReviewQueries(try database()).list(ownerID: ctx.currentUser.id, status: status, planID: planID,
                                                            page: try ctx.page(ReviewQueries.listKey)))
    }

    /// `GET /reviews/{id}`.
    func getReview(_ ctx: RequestContext) throws -> HTTPResponse {
        let id = try ctx.id(of: "review")
        guard let review = try ReviewQueries(try database()).review(id: id, ownerID: ctx.currentUser.id) else {
            throw Problem.notFound("review")
        }
        return .json(review)
    }

    /// `POST /reviews/{id}/approve | reject | edit | regenerate | waive`: records the reviewer's decision
    /// (`ReviewStatus` decides whether it is still possible) and makes sure the plan has a live
    /// execution job, because applying it — committing accepted or edited content, a new attempt,
    /// failing the task — is the executor's work. 202 with the review and the job.
    func resolveReview(_ ctx: RequestContext, _ event: ReviewEvent) throws -> HTTPResponse {
        let user = ctx.currentUser
        let reviewID = try ctx.id(of: "review")
        var fields = BodyFields(try ctx.body(), allowed: Self.bodyFields(of: event))
        let feedbackRequired = event == .reject || event == .regenerate
        let feedback = event == .waive ? nil : fields.string("feedback", maxLength: BodyLimits.feedback)
        let content = event == .edit ? fields.string("content", required: true, maxLength: BodyLimits.reviewContent, allowBlank: true) : nil
        let waiverReason = event == .waive ? fields.string("reason", required: true, maxLength: BodyLimits.waiverReason) : nil
        if feedbackRequired && feedback == nil && !fields.has("feedback") {
            fields.fail("feedback", "is required to \(event.rawValue): say what is wrong")
        }
        try fields.check()

        let db = try database()
        let (review, jobID, planID) = try db.transaction { db -> (JSONValue, UUID, UUID) in
            let reviews = ReviewQueries(db)
            guard let record = try reviews.lockReview(id: reviewID, ownerID: user.id) else { throw Problem.notFound("review") }
            guard let current = ReviewStatus(rawValue: record.status) else {
                throw Problem.illegalTransition(IllegalTransition(subject: "review", state: record.status,
                                                                  event: event.rawValue, allowedEvents: []))
            }
            let next: ReviewStatus
            do throws(IllegalTransition) {
                next = try current.applying(event)
            } catch {
                throw Problem.illegalTransition(error)
            }
            if event == .waive, !(record.blocking && record.blocksFailedGate) {
                throw Problem.notWaivable(
                    record.blocking
                        ? "this review blocks a wave whose atoms did not pass validation, not a failing Gate S: there are no failing tests to waive; approve, edit, regenerate or reject it"
                        : "only a review that blocks a wave whose acceptance tests still fail can be waived; this one is a low-confidence review: approve, edit, regenerate or reject it")
            }
            try reviews.resolve(id: record.id, status: next.rawValue, reviewerID: user.id, feedback: feedback, editedContent: content,
                                waiverReason: waiverReason)
            let job = try JobQueue(db).ensureExecution(planID: record.planID,
                                                       payload: ["review_id": .string(record.id.uuidString.lowercased())])
            let plans = PlanQueries(db)
            try plans.appendHistory(planID: record.planID, actor: "user", actorID: user.id, event: "review_\(next.rawValue)",
                                    data: ["review_id": .string(record.id.uuidString.lowercased())])
            try EventFeed(db).emit(.reviewResolved(.init(reviewID: record.id, status: next, kind: record.kind, atomID: record.atomID)),
                                   ownerID: user.id, planID: record.planID)
            guard let json = try reviews.review(id: record.id, ownerID: user.id) else { throw Problem.notFound("review") }
            return (json, job.id, record.planID)
        }
        return .json([
            "review": review,
            "job_id": .string(jobID.uuidString.lowercased()),
            "plan_id": .string(planID.uuidString.lowercased()),
        ], status: 202)
    }

    /// The body members a resolution reads: the new content (and feedback) for edit, a reason for
    /// waive, feedback for the rest (required for reject and regenerate).
    static func bodyFields(of event: ReviewEvent) -> [String] {
        switch event {
        case .edit: ["content", "feedback"]
        case .waive: ["reason"]
        default: ["feedback"]
        }
    }

    /// `GET /usage?since=…`.
    func usage(_ ctx: RequestContext) throws -> HTTPResponse {
        let since = try ctx.queryTime(.since)
        return .json(try UsageQueries(try database()).usage(ownerID: ctx.currentUser.id, since: since))
    }
}
