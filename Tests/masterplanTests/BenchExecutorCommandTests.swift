import Foundation
import Store
import Testing
import TestSupport

/// `masterplan bench executor` on a tiny plan, so the benchmark keeps working as the executor changes.
/// It asserts that the run completes and prints its figure lines, never how fast it was.
@Suite(.dedicatedThreads) struct BenchExecutorCommandTests {
    @Test func tinyPlanRunsToCompletionAndPrintsEveryFigure() throws {
        let conninfo = try TestDatabase.migrated()
        let outcome = try MasterplanBinary.run([
            "bench", "executor", "--atoms", "12", "--concurrency", "4", "--delay-ms", "5", "--overhead-concurrency", "1,4",
            "--database-url", conninfo,
        ])
        #expect(outcome.status == 0, "\(outcome.output)")
        let lines = outcome.output.split(separator: "\n").map(String.init)
        for label in ["plan:", "files:", "executor:", "makespan:", "bounds:", "ratio:", "RSS:", "overhead:", "summary:"] {
            #expect(lines.contains { $0.hasPrefix(label) }, "no \(label) line in:\n\(outcome.output)")
        }
        #expect(lines.filter { $0.hasPrefix("makespan:") }.count == 3, "\(outcome.output)")
        #expect(lines.contains { $0.hasPrefix("work:") && $0.contains("12 atoms succeeded") }, "\(outcome.output)")
        #expect(outcome.output.contains("concurrency 1:") && outcome.output.contains("concurrency 4:"))
    }

    @Test func refusesAnOverheadConcurrencyThatIsNotAList() throws {
        let outcome = try MasterplanBinary.run(["bench", "executor", "--overhead-concurrency", "fast"])
        #expect(outcome.status != 0)
        #expect(outcome.output.contains("--overhead-concurrency"))
    }
}
