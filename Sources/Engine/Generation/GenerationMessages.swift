import Foundation
import JSON
import PlanCore
import Postgres
import Store

/// What the assistant says in a conversation when a plan it started is ready or could not be made,
/// and the `chat_message` event that shows it.
enum GenerationMessages {
    /// The plan is stored as a draft.
    static func ready(_ plan: ValidatedPlan, tests: [AcceptanceTest], estimate: PlanEstimate, version: Int,
                      regeneration: Bool, sameAs: Int? = nil) -> String {
        if let sameAs {
            return "Version \(version) of the plan “\(plan.plan.projectName)” is the same as version \(sameAs): the model returned "
                + "the same plan and tests. Say more precisely what should change, or edit the tasks yourself."
        }
        let phases = plan.plan.phases.count
        let tasks = plan.tasks.count
        let must = tests.count(where: { $0.priority == .must })
        var text = regeneration
            ? "Version \(version) of the plan “\(plan.plan.projectName)” is ready for review."
            : "The plan “\(plan.plan.projectName)” is ready for review."
        text += " It has \(count(tasks, "task")) in \(count(phases, "phase")) and \(count(tests.count, "acceptance test"))"
        text += " (\(must) must pass). "
        text += "Executing it is estimated at \(String(format: "$%.2f", estimate.costUSD)) over \(count(estimate.atoms, "generated file"))."
        text += " Approve it, edit its tasks, or ask for changes with feedback."
        return text
    }

    /// Discovery has questions: the plan waits for the person's answers.
    static func questions(_ discovery: Discovery) -> String {
        let questions = discovery.clarifications
        var text = questions.count == 1
            ? "Before I plan, one question. I assumed the answer shown: answer it with the plan above (or on the plan page), or keep my assumption."
            : "Before I plan, \(questions.count) questions. I assumed the answers shown: answer them with the plan above (or on the plan page), or keep my assumptions."
        for (index, clarification) in questions.enumerated() {
            text += "\n\n\(index + 1). \(clarification.question)\n   Assumed: \(clarification.assumedAnswer)"
        }
        return text
    }

    /// Generation gave up.
    static func failed(_ failure: GenerationFailure) -> String {
        "I could not generate the plan. \(failure.reason)"
            + (failure.isTransient ? "" : " You can ask for it again with feedback that narrows the request.")
    }

    /// Emits `chat_message` for a message just added, in the shape the API uses
    /// (`{"conversation_id", "message"}`), plus the plan it is about, or for a chat reply the plan
    /// request it proposes and the message it answers. Call it last in the transaction.
    static func emitChatMessage(_ message: JSONValue, conversationID: UUID, ownerID: UUID, planID: UUID?,
                                reply: ProgressEvent.ChatMessage.Reply? = nil, on connection: Connection) throws {
        try EventFeed(connection).emit(.chatMessage(.init(conversationID: conversationID, message: message, planID: planID,
                                                          reply: reply)),
                                       ownerID: ownerID, planID: planID, conversationID: conversationID)
    }

    private static func count(_ number: Int, _ noun: String) -> String {
        "\(number) \(noun)\(number == 1 ? "" : "s")"
    }
}
