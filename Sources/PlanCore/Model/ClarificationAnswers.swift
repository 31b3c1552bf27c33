import JSON

/// The person's answers to a discovery's clarifying questions: each question with the answer the plan
/// is built on, and whether the person gave it or let the discovery's assumed answer stand.
///
/// Generation stops after a discovery that asks questions (`PlanStatus.awaitingAnswers`); these
/// answers move it on, and the planner's prompt carries them above the discovery's own assumptions.
public struct ClarificationAnswers: Sendable, Hashable {
    /// One question and the answer the plan follows.
    public struct Answer: Sendable, Hashable {
        public var question: String
        public var answer: String
        /// True when the person wrote the answer; false when they kept the discovery's assumption.
        public var byPerson: Bool

        public init(question: String, answer: String, byPerson: Bool) {
            self.question = question
            self.answer = answer
            self.byPerson = byPerson
        }
    }

    /// Why the person's answers cannot be taken: one message per bad entry, with its index.
    public struct Refusal: Error, Sendable, Equatable {
        /// `answers` or `answers[i]`.
        public var field: String
        public var message: String

        public init(field: String, message: String) {
            self.field = field
            self.message = message
        }
    }

    /// The longest answer accepted, in characters (it goes into the planner's prompt).
    public static let maxAnswerLength = 2_000

    public var answers: [Answer]

    public init(answers: [Answer]) {
        self.answers = answers
    }

    /// The answers to `discovery`'s questions from `given`, in question order: a nil, blank or missing
    /// entry keeps the discovery's assumed answer, so an empty list means "use your assumptions".
    /// Refuses more entries than questions and answers longer than `maxAnswerLength`.
    public init(for discovery: Discovery, given: [String?]) throws(Refusal) {
        let questions = discovery.clarifications
        guard given.count <= questions.count else {
            throw Refusal(field: "answers", message: "has \(given.count) entries, but the discovery asks \(questions.count) "
                          + "\(questions.count == 1 ? "question" : "questions"); give one answer per question, in order (null keeps the assumed answer)")
        }
        var answers: [Answer] = []
        for (index, clarification) in questions.enumerated() {
            let text = index < given.count ? given[index]?.trimmingWhitespace ?? "" : ""
            guard text.count <= Self.maxAnswerLength else {
                throw Refusal(field: "answers[\(index)]", message: "is \(text.count) characters long; at most \(Self.maxAnswerLength)")
            }
            answers.append(text.isEmpty
                ? Answer(question: clarification.question, answer: clarification.assumedAnswer, byPerson: false)
                : Answer(question: clarification.question, answer: text, byPerson: true))
        }
        self.answers = answers
    }

    /// How many answers the person wrote themselves.
    public var writtenByPerson: Int { answers.filter(\.byPerson).count }

    /// The stored form: `[{question, answer, answered_by: "person" | "assumption"}]`.
    public var jsonValue: JSONValue {
        .array(answers.map {
            .object(["question": .string($0.question), "answer": .string($0.answer),
                     "answered_by": .string($0.byPerson ? "person" : "assumption")])
        })
    }

    /// Reads the stored form; nil when it is not one (a value written by something else).
    public init?(json: JSONValue) {
        guard case .array(let items) = json else { return nil }
        var answers: [Answer] = []
        for item in items {
            guard let question = item["question"]?.stringValue, let answer = item["answer"]?.stringValue,
                  let by = item["answered_by"]?.stringValue, by == "person" || by == "assumption" else { return nil }
            answers.append(Answer(question: question, answer: answer, byPerson: by == "person"))
        }
        self.answers = answers
    }
}

private extension String {
    /// The string without leading and trailing spaces, tabs and line breaks.
    var trimmingWhitespace: String {
        let isSpace: (Character) -> Bool = { $0.isWhitespace }
        guard let first = firstIndex(where: { !isSpace($0) }), let last = lastIndex(where: { !isSpace($0) }) else { return "" }
        return String(self[first...last])
    }
}
