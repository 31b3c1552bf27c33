import JSON

/// Turns an LLM's answer into a validated plan, discovery or test set — or into the list of every
/// problem, each with its JSON path, ready to be sent back for repair (`PlanProblems.repairInstructions`).
///
/// The answer may be a bare JSON object, one inside a Markdown code fence, or one surrounded by prose.
/// The schema is strict: wrong types, missing members, unknown members and unknown words are all
/// problems. Every schema problem is reported at once, and so are the semantic ones (duplicates,
/// missing dependencies, cycles, unsafe paths, bounds) — except when a schema problem made part of the
/// document unreadable (an element that is not an object, a task without a readable number): then
/// positions no longer match the document, so the semantic problems are left for the next round rather
/// than reported against the wrong element. A semantic problem at or below a path that already has a
/// schema problem is not repeated.
public struct PlanParser: Sendable {
    public var limits: PlanLimits
    public var options: PlanParseOptions

    public init(limits: PlanLimits = .default, options: PlanParseOptions = .default) {
        self.limits = limits
        self.options = options
    }

    /// Parses and validates a plan answer.
    public func parsePlan(_ answer: String) throws(PlanProblems) -> ValidatedPlan {
        let json = try rawJSON(in: answer)
        var reader = SchemaReader()
        let plan = MasterPlan.read(json, at: .root, with: &reader)
        guard let plan, !reader.lostElements else { throw PlanProblems(reader.problems) }
        let result = PlanValidator(limits: limits).check(plan)
        let problems = Self.merge(schema: reader.problems, semantic: result.problems)
        guard problems.isEmpty, let order = result.order else { throw PlanProblems(problems) }
        return ValidatedPlan(plan: plan, tasks: result.tasks, executionOrder: order, graph: result.graph)
    }

    /// Parses and validates a discovery answer.
    public func parseDiscovery(_ answer: String) throws(PlanProblems) -> Discovery {
        let json = try rawJSON(in: answer)
        var reader = SchemaReader()
        let discovery = Discovery.read(json, at: .root, with: &reader)
        guard let discovery, !reader.lostElements else { throw PlanProblems(reader.problems) }
        let problems = Self.merge(schema: reader.problems, semantic: DiscoveryValidator(limits: limits).problems(in: discovery))
        guard problems.isEmpty else { throw PlanProblems(problems) }
        return discovery
    }

    /// Parses and validates an acceptance-test answer (`{"tests": [...]}`) written for `plan`.
    public func parseAcceptanceTests(_ answer: String, for plan: ValidatedPlan) throws(PlanProblems) -> [AcceptanceTest] {
        let json = try rawJSON(in: answer)
        var reader = SchemaReader()
        let tests = AcceptanceTest.readSet(json, at: .root, with: &reader)
        guard let tests, !reader.lostElements else { throw PlanProblems(reader.problems) }
        let semantic = AcceptanceTestValidator(limits: limits).problems(in: tests, for: plan)
        let problems = Self.merge(schema: reader.problems, semantic: semantic)
        guard problems.isEmpty else { throw PlanProblems(problems) }
        return tests
    }

    /// Finds the JSON object in the answer and parses it; line and column in a syntax problem count from
    /// the start of the answer.
    public func jsonObject(in answer: String) throws(PlanProblems) -> JSONValue {
        try rawJSON(in: answer).jsonValue
    }

    func rawJSON(in answer: String) throws(PlanProblems) -> RawJSON {
        var text = answer
        let result: Result<RawJSON, PlanProblems> = text.withUTF8 { buffer in
            if buffer.count > options.maxAnswerBytes {
                return .failure(PlanProblems([PlanProblem(.invalidJSON, at: .root,
                    "the answer is \(buffer.count) bytes, more than the limit of \(options.maxAnswerBytes); plan fewer, larger tasks")]))
            }
            guard let span = JSONObjectLocator.locate(in: buffer) else {
                return .failure(PlanProblems([PlanProblem(.noJSON, at: .root,
                    "the answer contains no JSON object; answer with exactly one JSON object that starts with {")]))
            }
            do throws(AnswerJSONReader.Failure) {
                return .success(try AnswerJSONReader.read(buffer, in: span.start..<span.end, maxDepth: options.maxDepth,
                                                          allowControlCharacters: options.allowControlCharactersInStrings))
            } catch {
                return .failure(PlanProblems([Self.syntaxProblem(error, span: span, in: buffer)]))
            }
        }
        return try result.get()
    }

    /// Schema problems first, then the semantic problems not already covered by a schema problem at or above their path.
    static func merge(schema: [PlanProblem], semantic: [PlanProblem]) -> [PlanProblem] {
        guard !schema.isEmpty else { return semantic }
        return schema + semantic.filter { problem in !schema.contains { $0.path.isPrefix(of: problem.path) } }
    }

    /// Describes a JSON syntax error at its place in the whole answer, with a hint when the answer was cut off.
    static func syntaxProblem(_ failure: AnswerJSONReader.Failure, span: JSONObjectLocator.Span,
                              in buffer: UnsafeBufferPointer<UInt8>) -> PlanProblem {
        let (line, column) = AnswerJSONReader.lineAndColumn(of: failure.position, in: buffer)
        var message = "the answer is not valid JSON: \(failure.message) at line \(line), column \(column)"
        if failure.isEndOfInput || !span.isBalanced {
            message += "; the answer looks cut off, so answer again with the complete object"
        }
        return PlanProblem(.invalidJSON, at: .root, message)
    }
}
