import ArgumentParser
import Foundation
import JSON
import PlanCore

/// `masterplan bench json`: jansson parsing and Swift serialisation of a large plan document.
struct BenchJSONCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "json",
        abstract: "Time JSONValue.parse (jansson) and serialisation of a generated plan document."
    )

    @Option(help: "Tasks in the generated plan.")
    var tasks: Int = 1_000

    @Option(help: "Timed runs (after one untimed warm-up run).")
    var repetitions: Int = 15

    func run() throws {
        let plan = SyntheticPlanGenerator(taskCount: tasks, subtasksPerTask: 5, seed: 42).generate()
        let text = try plan.jsonValue.serialized(.pretty)
        var parse: [Double] = [], write: [Double] = []
        let clock = ContinuousClock()
        for run in 0...repetitions {
            let start = clock.now
            let value = try JSONValue.parse(text)
            let parsed = clock.now
            _ = try value.serializedBytes()
            let written = clock.now
            guard run > 0 else { continue }
            parse.append(BenchFigures.milliseconds(parsed - start))
            write.append(BenchFigures.milliseconds(written - parsed))
        }
        print("document: \(text.utf8.count) bytes")
        print("parse:    median \(BenchFigures.format(BenchFigures.median(parse))) ms, min \(BenchFigures.format(parse.min()!)) ms")
        print("write:    median \(BenchFigures.format(BenchFigures.median(write))) ms, min \(BenchFigures.format(write.min()!)) ms")
    }
}
