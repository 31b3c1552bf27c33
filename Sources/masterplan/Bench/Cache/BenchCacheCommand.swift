import ArgumentParser
import Foundation
import LLM
import PlanCore
import Postgres

/// `masterplan bench cache`: the share of the atoms' input tokens a provider's prompt cache serves,
/// on the demo plan and on a synthetic plan, with the atom prompts' layout (the plan's shared context
/// first) and with what the old layout could have cached (its instructions alone).
struct BenchCacheCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cache",
        abstract: "Measure the share of the atoms' input tokens read from a provider's prompt cache (demo plan and a synthetic plan).",
        discussion: """
        Starts its own PostgreSQL cluster (unless --database-url names a migrated database) and runs two plans with the real \
        executor against an in-process replay-llm that simulates OpenAI's automatic prompt caching (replay-llm \
        --simulate-prompt-cache): the demo plan (the bundled scripted cassette, generated, approved and executed with the \
        sandbox and its acceptance tests, until it completes or waits for its review) and a synthetic plan of --tasks tasks \
        (Markdown files, as in bench executor). It prints, for each, the share of the atom calls' input tokens read from the \
        cache (sum of cached tokens / sum of input tokens of the plan's llm_calls with purpose atom), and the share the \
        same calls would have had if only their instructions (system prompt and answer schema) repeated from call to call, \
        as in the layout before the plan's context came first.
        """
    )

    @Option(help: "Tasks in the synthetic plan.")
    var tasks: Int = 120

    @Option(help: "Seed of the synthetic plan.")
    var seed: UInt64 = 42

    @Option(help: "Seconds one plan may take before the bench gives up.")
    var timeout: Double = 900

    @OptionGroup var database: BenchDatabaseOptions

    @OptionGroup var folder: BenchFolderOptions

    func validate() throws {
        guard (1...5_000).contains(tasks) else { throw ValidationError("--tasks must be from 1 to 5000, got \(tasks)") }
        guard timeout > 0 else { throw ValidationError("--timeout must be above 0") }
    }

    func run() throws {
        let environment = try ExecutorBenchEnvironment(databaseURL: database.databaseURL, profile: false, keepFolder: folder.keepFolder)
        defer { environment.stop() }
        let rules = PromptCacheSimulator.Rules.openAI
        print("cache:     replay-llm in this process simulating OpenAI's automatic prompt caching: prefixes from "
              + "\(rules.minimumTokens) tokens in \(rules.incrementTokens)-token steps, kept \(Int(BenchFigures.seconds(rules.retention) / 60)) "
              + "minutes unused; tokens estimated at \(TokenEstimate.bytesPerToken) bytes of UTF-8 each")
        print("figures:   from llm_calls, the plan's calls with purpose atom: sum(cached_tokens) / sum(input_tokens); 'before' is "
              + "what the same calls would read if only their instructions (system prompt, answer schema) repeated")

        let demo = try CacheBenchDemoRun(environment: environment, timeout: timeout).run()
        demo.print(label: "demo")

        let synthetic = try SyntheticPlanOfTasks(tasks: tasks, seed: seed)
        let entries = synthetic.plan.cassette(fileCharacters: 1_000, chunkCharacters: nil)
        let figures = try ExecutorBenchRun(environment: environment, plan: synthetic.plan, entries: entries, delay: .zero, concurrency: 8,
                                           cpuSlots: max(1, ProcessInfo.processInfo.activeProcessorCount), jobs: 1, workspaceSync: false,
                                           timeout: timeout, sampleMemory: false, promptCache: PromptCacheSimulator(rules: rules)).run()
        guard let planID = figures.planID else { throw BenchFailure("the synthetic run did not name its plan") }
        let share = try CacheShare(connection: try Connection(environment.conninfo), planID: planID, totals: figures.promptCacheTotals)
        share.print(label: "synthetic")

        print("")
        print("cached input share: \(CacheShare.format(demo.before)) before -> \(CacheShare.format(demo.after)) after "
              + "(demo, \(demo.calls) atom calls)")
        print("cached input share: \(CacheShare.format(share.before)) before -> \(CacheShare.format(share.after)) after "
              + "(synthetic plan of \(tasks) tasks, \(share.calls) atom calls)")
    }
}
