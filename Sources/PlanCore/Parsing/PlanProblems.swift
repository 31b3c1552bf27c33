/// Every problem found in one LLM answer or plan, thrown together so that one repair round can fix them all.
public struct PlanProblems: Error, Sendable, Hashable, CustomStringConvertible {
    public var problems: [PlanProblem]

    public init(_ problems: [PlanProblem]) { self.problems = problems }

    public var count: Int { problems.count }

    /// One problem per line, each with its JSON path.
    public var description: String {
        let noun = problems.count == 1 ? "problem" : "problems"
        return "\(problems.count) \(noun):\n" + problems.map { "- \($0)" }.joined(separator: "\n")
    }

    /// The text to send back to the LLM: what is wrong, where, and what answer is expected.
    ///
    /// At most `maxListed` problems are listed (a plan with thousands of bad entries would otherwise
    /// drown the model); the rest are counted, since fixing the listed kind usually fixes them too.
    public func repairInstructions(maxListed: Int = 50) -> String {
        var lines = ["Your previous answer cannot be used. Fix every problem below and answer again with the whole corrected JSON object only (no prose):"]
        for problem in problems.prefix(maxListed) { lines.append("- \(problem)") }
        if problems.count > maxListed {
            lines.append("- … and \(problems.count - maxListed) more problems of the same kinds.")
        }
        return lines.joined(separator: "\n")
    }
}
