import JSON
import PlanCore
import Testing

/// The person's answers to a discovery's questions: what they wrote decides, what they left out keeps
/// the discovery's assumption, and nothing else gets in.
@Suite struct ClarificationAnswersTests {
    let discovery = Discovery(domain: "authentication", boundedContexts: [.init(name: "Identity", description: "Users", responsibilities: [])],
                              clarifications: [.init(question: "Email or username?", assumedAnswer: "A username."),
                                               .init(question: "Refresh tokens?", assumedAnswer: "No.")])

    @Test func writtenAnswersDecideAndTheRestKeepTheAssumption() throws {
        let answers = try ClarificationAnswers(for: discovery, given: ["  An email address.\n", nil])
        #expect(answers.answers == [.init(question: "Email or username?", answer: "An email address.", byPerson: true),
                                    .init(question: "Refresh tokens?", answer: "No.", byPerson: false)])
        #expect(answers.writtenByPerson == 1)
    }

    @Test("no answers, or blank ones, mean: use the assumptions", arguments: [[], [" ", nil], ["\t"]] as [[String?]])
    func noAnswersMeanTheAssumptions(given: [String?]) throws {
        let answers = try ClarificationAnswers(for: discovery, given: given)
        #expect(answers.answers.map(\.answer) == ["A username.", "No."])
        #expect(answers.writtenByPerson == 0)
    }

    @Test func moreAnswersThanQuestionsAreRefused() {
        #expect(throws: ClarificationAnswers.Refusal(field: "answers", message: "has 3 entries, but the discovery asks 2 questions; give one answer per question, in order (null keeps the assumed answer)")) {
            try ClarificationAnswers(for: discovery, given: ["a", "b", "c"])
        }
    }

    @Test func anAnswerLongerThanTheLimitIsRefusedByIndex() {
        let long = String(repeating: "x", count: ClarificationAnswers.maxAnswerLength + 1)
        #expect(throws: ClarificationAnswers.Refusal(field: "answers[1]", message: "is 2001 characters long; at most 2000")) {
            try ClarificationAnswers(for: discovery, given: ["fine", long])
        }
    }

    @Test func theStoredFormReadsBack() throws {
        let answers = try ClarificationAnswers(for: discovery, given: [nil, "Yes, with a 7-day refresh token."])
        #expect(ClarificationAnswers(json: answers.jsonValue) == answers)
        #expect(answers.jsonValue[1]?["answered_by"] == "person")
        #expect(ClarificationAnswers(json: ["question": "q"]) == nil)
        #expect(ClarificationAnswers(json: [["question": "q", "answer": "a", "answered_by": "the model"]]) == nil)
    }

    @Test func onlyAPlanAwaitingAnswersTakesThem() throws {
        #expect(try PlanStatus.generating.applying(.askQuestions) == .awaitingAnswers)
        #expect(try PlanStatus.awaitingAnswers.applying(.answer) == .generating)
        #expect(try PlanStatus.awaitingAnswers.applying(.reject) == .rejected)
        #expect(PlanStatus.awaitingAnswers.allowedActions == [.answer, .reject])
        #expect(throws: IllegalTransition.self) { try PlanStatus.draft.applying(.answer) }
        #expect(throws: IllegalTransition.self) { try PlanStatus.awaitingAnswers.applying(.approve) }
        #expect(!PlanEvent.askQuestions.isUserAction)
    }
}
