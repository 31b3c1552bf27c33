import JSON
import LLM
import PlanCore
import Store

/// Builds the requests of plan generation from the prompt templates (`PromptTemplate`), with the fixed keys
/// of `GenerationKeys`.
///
/// Two kinds of context have no placeholder in `masterplan.txt`: similar approved plans (examples)
/// and, for a regeneration, the previous version. They are appended to the user part as their own
/// sections — or passed as values, should the template gain `{{examples}}` or `{{previous_plan}}`
/// placeholders — so the templates stay the single source of the instructions.
struct PlanPrompts: Sendable {
    let configuration: GenerationConfiguration
    let discoveryTemplate: PromptTemplate
    let masterplanTemplate: PromptTemplate
    let repairTemplate: PromptTemplate
    let testsTemplate: PromptTemplate

    init(configuration: GenerationConfiguration) throws(PromptTemplateError) {
        self.configuration = configuration
        discoveryTemplate = try PromptTemplate.load(.discovery)
        masterplanTemplate = try PromptTemplate.load(.masterplan)
        repairTemplate = try PromptTemplate.load(.planRepair)
        testsTemplate = try PromptTemplate.load(.acceptanceTests)
    }

    /// The plan a regeneration starts from, and what the reviewer asked.
    struct PreviousPlan: Sendable, Equatable {
        /// The version the reviewer saw.
        var version: Int
        /// That version in the plan-answer JSON form (`PlanParser`); nil when none was stored (a plan whose first
        /// generation failed).
        var snapshot: JSONValue?
        var feedback: String?
    }

    /// The domain discovery of `request`.
    func discovery(request: String) throws(PromptTemplateError) -> LLMRequest {
        try discoveryTemplate.request(["request": request], key: GenerationKeys.discovery,
                                      temperature: configuration.generationTemperature,
                                      maxTokens: configuration.discoveryMaxTokens)
    }

    /// The plan for `request`, built on `discovery`, with similar approved plans as examples and, for
    /// a regeneration, the previous version and the reviewer's feedback.
    func masterplan(request: String, discovery: Discovery, answers: ClarificationAnswers? = nil, maxTasks: Int,
                    examples: [SimilarPlan], previous: PreviousPlan?) throws(PromptTemplateError) -> LLMRequest {
        var values = ["request": request, "max_tasks": String(maxTasks), "discovery": Self.pretty(discovery.jsonValue)]
        values["feedback"] = previous?.feedback ?? ""
        var sections: [(placeholder: String, text: String)] = []
        if let answers, !answers.answers.isEmpty { sections.append(("answers", Self.answersSection(answers))) }
        if !examples.isEmpty { sections.append(("examples", Self.examplesSection(examples))) }
        if let previous, let snapshot = previous.snapshot {
            sections.append(("previous_plan", Self.previousSection(snapshot, version: previous.version, feedback: previous.feedback)))
        }
        let user = try render(masterplanTemplate, values, sections: sections)
        return LLMRequest(purpose: masterplanTemplate.kind.purpose, system: masterplanTemplate.system,
                          messages: [.init(role: .user, content: user)], temperature: configuration.generationTemperature,
                          maxTokens: configuration.planMaxTokens, jsonSchema: masterplanTemplate.answerSchema,
                          key: GenerationKeys.masterplan)
    }

    /// A repair of the invalid plan `answer`, with the validator's findings.
    func planRepair(request: String, answer: String, problems: PlanProblems) throws(PromptTemplateError) -> LLMRequest {
        try repairTemplate.request(["request": request, "previous_answer": answer,
                                    "problems": problems.repairInstructions()],
                                   key: GenerationKeys.planRepair, temperature: configuration.repairTemperature,
                                   maxTokens: configuration.planMaxTokens)
    }

    /// The acceptance tests of a validated plan.
    func acceptanceTests(for plan: ValidatedPlan) throws(PromptTemplateError) -> LLMRequest {
        try testsTemplate.request(["plan": Self.pretty(plan.plan.jsonValue)], key: GenerationKeys.acceptanceTests,
                                  temperature: configuration.generationTemperature, maxTokens: configuration.testsMaxTokens)
    }

    /// `request` again with the invalid `answer` and the findings on it as the next two turns: how a
    /// discovery or a test set (which have no repair template of their own) is corrected. Same
    /// purpose and key, so a cassette answers it with the key's next entry.
    func correction(of request: LLMRequest, answer: String, problems: PlanProblems) -> LLMRequest {
        var corrected = request
        corrected.messages += [.init(role: .assistant, content: answer), .init(role: .user, content: problems.repairInstructions())]
        corrected.temperature = configuration.repairTemperature
        return corrected
    }

    // MARK: - Sections

    /// The user part with every value filled; a section whose placeholder the template lacks is
    /// appended after it.
    private func render(_ template: PromptTemplate, _ values: [String: String],
                        sections: [(placeholder: String, text: String)]) throws(PromptTemplateError) -> String {
        var values = values
        var appended: [String] = []
        let placeholders = Set(template.placeholders)
        for section in sections {
            if placeholders.contains(section.placeholder) {
                values[section.placeholder] = section.text
            } else {
                appended.append(section.text)
            }
        }
        return ([try template.renderUser(values)] + appended).joined(separator: "\n\n")
    }

    /// The person's answers to the discovery's questions: they decide where the discovery only assumed.
    static func answersSection(_ answers: ClarificationAnswers) -> String {
        var lines = ["The person answered the discovery's clarifying questions. Their answers decide; where an answer says "
                     + "\"assumed\", they accepted the discovery's assumption. Plan accordingly, even where the discovery above assumed otherwise."]
        for (index, answer) in answers.answers.enumerated() {
            lines.append("\(index + 1). \(answer.question)\n   Answer (\(answer.byPerson ? "the person's" : "assumed")): \(answer.answer)")
        }
        return lines.joined(separator: "\n")
    }

    static func examplesSection(_ examples: [SimilarPlan]) -> String {
        var lines = ["Plans this user approved earlier for similar requests, as examples of the scope and level of detail they accepted. "
                     + "They are examples, not templates: plan for the request above, and reuse a choice only where it fits it."]
        for (index, example) in examples.enumerated() {
            var outline: JSONObject = ["project_name": .string(example.projectName), "summary": .string(example.summary),
                                       "tech_stack": example.techStack]
            outline["tasks"] = .array(example.tasks.map {
                ["number": JSONValue($0.number), "name": .string($0.name), "files": JSONValue($0.files)]
            })
            if example.totalTasks > example.tasks.count { outline["total_tasks"] = JSONValue(example.totalTasks) }
            lines.append("Example \(index + 1):\n" + JSONValue.object(outline).jsonText)
        }
        return lines.joined(separator: "\n\n")
    }

    static func previousSection(_ snapshot: JSONValue, version: Int, feedback: String?) -> String {
        var plan = JSONObject()
        for member in ["project_name", "summary", "tech_stack", "phases"] { plan[member] = snapshot[member] }
        let instruction = feedback == nil
            ? "The reviewer asked for a new version without comments: keep what works and improve what is vague, missing or wrong."
            : "Apply the reviewer's feedback above to it; keep everything the feedback does not ask to change."
        return "The previous version of this plan (version \(version), JSON). \(instruction)\n\n" + pretty(.object(plan))
    }

    static func pretty(_ value: JSONValue) -> String {
        (try? value.serialized(.pretty)) ?? value.jsonText
    }
}
