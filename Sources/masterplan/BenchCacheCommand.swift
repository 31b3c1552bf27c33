import ArgumentParser
import Engine
import Foundation
import LLM
import PlanCore
import Postgres
import Store

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

    @Option(name: .customLong("database-url"), help: "Use this database (must be migrated) instead of a private cluster.")
    var databaseURL: String?

    @Flag(help: "Keep the temporary folder (workspaces, PostgreSQL log) and print its path.")
    var keepFolder = false

    func validate() throws {
        guard (1...5_000).contains(tasks) else { throw ValidationError("--tasks must be from 1 to 5000, got \(tasks)") }
        guard timeout > 0 else { throw ValidationError("--timeout must be above 0") }
    }

    func run() throws {
        let environment = try ExecutorBenchEnvironment(databaseURL: databaseURL, profile: false, keepFolder: keepFolder)
        defer { environment.stop() }
        let rules = PromptCacheSimulator.Rules.openAI
        print("cache:     replay-llm in this process simulating OpenAI's automatic prompt caching: prefixes from "
              + "\(rules.minimumTokens) tokens in \(rules.incrementTokens)-token steps, kept \(Int(BenchExecutorCommand.seconds(rules.retention) / 60)) "
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
        guard let planID = figures.planID else { throw ExecutorBenchFailure("the synthetic run did not name its plan") }
        let share = try CacheShare(connection: try Connection(environment.conninfo), planID: planID, totals: figures.promptCacheTotals)
        share.print(label: "synthetic")

        print("")
        print("cached input share: \(CacheShare.format(demo.before)) before -> \(CacheShare.format(demo.after)) after "
              + "(demo, \(demo.calls) atom calls)")
        print("cached input share: \(CacheShare.format(share.before)) before -> \(CacheShare.format(share.after)) after "
              + "(synthetic plan of \(tasks) tasks, \(share.calls) atom calls)")
    }
}

/// A synthetic plan of a number of tasks: bench executor's plan (Markdown files) cut at the atoms of
/// the first `tasks` tasks (the generator draws each task from those before it only, so they are the
/// same whatever the total).
struct SyntheticPlanOfTasks {
    let plan: SyntheticExecutionPlan

    init(tasks: Int, seed: UInt64) throws {
        let atoms = SyntheticPlanGenerator(taskCount: tasks, subtasksPerTask: 2, seed: seed).generate().tasks.reduce(0) { $0 + $1.files.count }
        plan = try SyntheticExecutionPlan(atoms: atoms, seed: seed)
        guard plan.validated.tasks.count == tasks else {
            throw ExecutorBenchFailure("the synthetic plan has \(plan.validated.tasks.count) tasks, not \(tasks)")
        }
    }
}

/// The share of a plan's atom input tokens read from the cache: from `llm_calls` (what the executor
/// recorded) and, for the old layout, from the replay server's instructions-only simulation.
struct CacheShare {
    var calls: Int
    var inputTokens: Int
    var cachedTokens: Int
    var totals: PromptCacheSimulator.Totals

    init(connection: Connection, planID: UUID, totals: [String: PromptCacheSimulator.Totals]) throws {
        let row = try connection.query("""
            SELECT count(*), coalesce(sum(input_tokens), 0)::bigint, coalesce(sum(cached_tokens), 0)::bigint
            FROM llm_calls WHERE plan_id = $1 AND purpose = 'atom' AND status = 'ok'
            """, [planID]).first!
        calls = try row.decode(Int.self, 0)
        inputTokens = try row.decode(Int.self, 1)
        cachedTokens = try row.decode(Int.self, 2)
        self.totals = totals[LLMRequest.Purpose.atom.rawValue] ?? PromptCacheSimulator.Totals()
    }

    var after: Double { inputTokens > 0 ? Double(cachedTokens) / Double(inputTokens) : 0 }
    var before: Double { totals.promptTokens > 0 ? Double(totals.instructionsOnlyCachedTokens) / Double(totals.promptTokens) : 0 }

    func print(label: String) {
        let padded = (label + ":").padding(toLength: 11, withPad: " ", startingAt: 0)
        var line = "\(padded)\(calls) atom calls, \(inputTokens) input tokens, \(cachedTokens) read from the cache "
            + "(\(inputTokens > 0 ? inputTokens / max(calls, 1) : 0) a call); instructions alone: \(totals.instructionsOnlyCachedTokens) cached"
        if totals.requests != calls || totals.promptTokens != inputTokens || totals.cachedTokens != cachedTokens {
            line += " (the replay server counted \(totals.requests) calls, \(totals.promptTokens) input, \(totals.cachedTokens) cached)"
        }
        Swift.print(line)
    }

    static func format(_ share: Double) -> String { String(format: "%.2f", share) }
}

/// The demo plan through the generation and execution handlers of a real executor daemon, as
/// `masterplan up` runs it, with the bundled cassette's answers (without their delays).
struct CacheBenchDemoRun {
    let environment: ExecutorBenchEnvironment
    let timeout: Double

    func run() throws -> CacheShare {
        let conninfo = environment.conninfo
        let owner = environment.ownerID
        let connection = try Connection(conninfo)
        let planID = try connection.transaction { c in
            let plans = PlanQueries(c)
            let plan = try plans.create(ownerID: owner, request: DemoCassette.request, budgetUSD: 5)
            try plans.appendHistory(planID: plan, actor: "user", actorID: owner, event: "created")
            _ = try JobQueue(c).enqueue(.generation, planID: plan, payload: ["request": .string(DemoCassette.request)])
            return plan
        }
        let entries = try Cassette.load(path: DemoCassette.path).entries.map { entry in
            var quick = entry
            quick.delay = nil
            return quick
        }
        let outcome = AsyncOutcome<ReplayModel>()
        outcome.start { try await ReplayModel.start(entries: entries, delay: .zero, conninfo: conninfo, promptCache: PromptCacheSimulator()) }
        let model = try outcome.wait().get()
        let sandbox = try Sandbox()
        let handlers: [any JobHandler] = [
            try GenerationHandler(client: model.client, sandbox: sandbox),
            ExecutionHandler(llm: model.client, sandbox: sandbox, settings: ExecutionSettings(dataDirectory: environment.dataDirectory)),
        ]
        let daemon = ExecutorDaemon(configuration: .init(conninfo: conninfo, jobSlots: 2, lease: .seconds(30), pollInterval: .seconds(1)),
                                    handlers: handlers)
        let daemonRun = AsyncOutcome<Void>()
        daemonRun.start { await daemon.run() }
        let result = Result { () throws -> String in
            let generated = try waitForStatus(planID, until: [.draft, .generationFailed, .failed], on: connection)
            guard generated == PlanStatus.draft.rawValue else { return generated }
            try connection.transaction { c in
                let plans = PlanQueries(c)
                _ = try plans.freezeAcceptanceTests(planID: planID)
                guard try plans.changeStatus(id: planID, from: "draft", to: "approved", reason: nil),
                      try plans.changeStatus(id: planID, from: "approved", to: "queued", reason: nil) else {
                    throw ExecutorBenchFailure("the generated demo plan was not a draft")
                }
                _ = try JobQueue(c).enqueue(.execution, planID: planID)
            }
            // The demo waits for one review at its end; every atom call has been made by then.
            return try waitForStatus(planID, until: [.blocked, .completed, .failed], on: connection)
        }
        daemon.stop()
        _ = daemonRun.wait()
        daemon.database.close()
        let totals = model.server.promptCacheTotals()
        let stopped = AsyncOutcome<Void>()
        stopped.start { try await model.stop() }
        _ = stopped.wait()
        let status = try result.get()
        guard status == PlanStatus.blocked.rawValue || status == PlanStatus.completed.rawValue else {
            let reason = try connection.query("SELECT status_reason FROM masterplans WHERE id = $1", [planID]).first?.decode(String?.self, 0)
            throw ExecutorBenchFailure("the demo plan ended \(status)" + (reason.map { ": \($0)" } ?? ""))
        }
        return try CacheShare(connection: connection, planID: planID, totals: totals)
    }

    /// Polls the plan's status until it is one of `statuses`; the status reached.
    func waitForStatus(_ planID: UUID, until statuses: Set<PlanStatus>, on connection: Connection) throws -> String {
        let clock = ContinuousClock()
        let deadline = clock.now + .milliseconds(Int64(timeout * 1000))
        while true {
            let status = try connection.query("SELECT status FROM masterplans WHERE id = $1", [planID]).first!.decode(String.self, 0)
            if statuses.contains(where: { $0.rawValue == status }) { return status }
            if clock.now > deadline {
                throw ExecutorBenchFailure("the demo plan is still \(status) after \(BenchExecutorCommand.format(timeout, 0)) s")
            }
            usleep(100_000)
        }
    }
}
