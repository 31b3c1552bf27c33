import ArgumentParser
import Foundation
import PlanCore

/// `masterplan plan validate FILE|-`: checks an LLM-style plan answer as the generator would.
struct PlanValidateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "validate",
        abstract: "Check a plan answer (JSON, fenced or in prose) and print its problems or a summary.",
        discussion: """
        Prints each problem with its JSON path, exactly as it would be sent back to the model for repair; \
        or, for a valid plan, its tasks, atoms, waves, critical path and a cost and duration estimate.
        Exit status: 0 when the plan is valid, 1 when it is not, 2 when the file cannot be read.
        """
    )

    @Argument(help: "The answer to check, or - to read standard input.")
    var file: String

    @Option(help: "Refuse plans with more tasks than this.")
    var maxTasks: Int = PlanLimits.default.maxTasks

    @Option(help: "Atoms generated at once, for the duration estimate.")
    var concurrency: Int = EstimatePolicy.default.concurrency

    @Option(help: "USD per million input tokens, for the cost estimate.")
    var inputPrice: Double = PriceTable.reference.inputPerMillion

    @Option(help: "USD per million output tokens, for the cost estimate.")
    var outputPrice: Double = PriceTable.reference.outputPerMillion

    @Option(help: "USD per million cached input tokens, for the cost estimate.")
    var cachedPrice: Double = PriceTable.reference.cachedInputPerMillion

    func validate() throws {
        guard maxTasks >= 1 else { throw ValidationError("--max-tasks must be at least 1, got \(maxTasks)") }
        guard concurrency >= 1 else { throw ValidationError("--concurrency must be at least 1, got \(concurrency)") }
        guard inputPrice >= 0, outputPrice >= 0, cachedPrice >= 0 else { throw ValidationError("prices must not be negative") }
    }

    func run() throws {
        let answer = try readAnswer()
        var limits = PlanLimits.default
        limits.maxTasks = maxTasks
        let plan: ValidatedPlan
        do {
            plan = try PlanParser(limits: limits).parsePlan(answer)
        } catch {
            let noun = error.count == 1 ? "problem" : "problems"
            print("invalid plan: \(error.count) \(noun)")
            for problem in error.problems { print(problem) }
            throw ExitCode(1)
        }
        let execution = ExecutionPlan(plan)
        let policy = EstimatePolicy(concurrency: concurrency,
                                    prices: PriceTable(inputPerMillion: inputPrice, outputPerMillion: outputPrice,
                                                       cachedInputPerMillion: cachedPrice))
        print(PlanSummary(plan: plan, execution: execution, estimate: PlanEstimator.estimate(execution, policy: policy),
                          concurrency: concurrency).lines.joined(separator: "\n"))
    }

    private func readAnswer() throws -> String {
        let data: Data
        if file == "-" {
            data = FileHandle.standardInput.readDataToEndOfFile()
        } else {
            guard let contents = FileManager.default.contents(atPath: file) else {
                FileHandle.standardError.write(Data("masterplan: cannot read \(file): no such file or not readable\n".utf8))
                throw ExitCode(2)
            }
            data = contents
        }
        guard let text = String(validating: data, as: UTF8.self) else {
            print("invalid plan: 1 problem")
            print("(root): the answer is not UTF-8 text")
            throw ExitCode(1)
        }
        return text
    }
}
