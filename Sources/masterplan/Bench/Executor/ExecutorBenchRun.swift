import Engine
import Foundation
import LLM
import PlanCore
import Postgres

/// One run of the plan: a fresh copy queued, a replay server and an executor daemon started, the
/// job awaited, everything stopped, and the figures read back from the database.
struct ExecutorBenchRun {
    let environment: ExecutorBenchEnvironment
    let plan: SyntheticExecutionPlan
    let entries: [CassetteEntry]
    let delay: Duration
    let concurrency: Int
    let cpuSlots: Int
    let jobs: Int
    let workspaceSync: Bool
    let timeout: Double
    let sampleMemory: Bool
    /// When set, the replay server reports usage from this simulated prompt cache (`masterplan bench cache`).
    var promptCache: PromptCacheSimulator? = nil

    func run() throws -> ExecutorBenchFigures {
        let (planID, jobID) = try environment.queuePlan(plan, budgetUSD: 1_000)
        let conninfo = environment.conninfo
        if environment.profiling { _ = try Connection(conninfo).query("SELECT pg_stat_statements_reset()") }

        let cache = self.promptCache
        let model = try blocking { () async throws -> ReplayModel in
            try await ReplayModel.start(entries: entries, delay: delay, conninfo: conninfo, promptCache: cache)
        }
        var settings = ExecutionSettings(dataDirectory: environment.dataDirectory, concurrency: concurrency, cpuSlots: cpuSlots,
                                         reviewSuggestions: false)
        settings.workspaceLimits.syncWrites = workspaceSync
        let handler = ExecutionHandler(llm: model.client, sandbox: try Sandbox(), settings: settings)
        let daemon = ExecutorDaemon(configuration: .init(conninfo: conninfo, jobSlots: jobs, lease: .seconds(30), pollInterval: .seconds(2)),
                                    handlers: [handler])
        // "In flight" is atoms marked running: started and not finished, whether waiting for the model or not.
        let sampler = sampleMemory
            ? MemorySampler(conninfo: conninfo, planID: planID, threshold: max(1, min(concurrency, plan.execution.widestWave) * 9 / 10)) : nil
        let clock = ContinuousClock()
        let started = clock.now
        let cpuBefore = CPUTimes.now(postmaster: environment.postmasterPID)
        let daemonRun = AsyncOutcome<Void>()
        daemonRun.start { await daemon.run() }

        let watcher = try Connection(conninfo)
        var state = ("", "", String?.none)
        while true {
            let row = try watcher.query("""
                SELECT p.status, j.state, j.last_error FROM masterplans p JOIN jobs j ON j.plan_id = p.id
                WHERE p.id = $1 AND j.id = $2
                """, [planID, jobID]).first!
            state = (try row.decode(String.self, 0), try row.decode(String.self, 1), try row.decode(String?.self, 2))
            if ["done", "failed", "cancelled"].contains(state.1) || state.2 != nil { break }
            if Double((clock.now - started).components.seconds) > timeout { break }
            usleep(20_000)
        }
        let wall = BenchFigures.seconds(clock.now - started)
        daemon.stop()
        let daemonOutcome = daemonRun.wait()
        let memory = sampler?.stop()
        // After the pool is closed PostgreSQL has reaped the run's backends into the postmaster's totals.
        daemon.database.close()
        usleep(100_000)
        let cpu = CPUTimes.now(postmaster: environment.postmasterPID) - cpuBefore
        let cacheTotals = model.server.promptCacheTotals()
        try blocking { () async throws in try await model.stop() }

        if case .failure(let error) = daemonOutcome {
            throw BenchFailure("the executor daemon failed: \(error)")
        }
        guard state.0 == PlanStatus.completed.rawValue, state.1 == "done" else {
            let reason = try watcher.query("SELECT status_reason FROM masterplans WHERE id = $1", [planID]).first?.decode(String?.self, 0)
            throw BenchFailure("the run did not complete in \(BenchFigures.format(wall, 1)) s: plan \(state.0)"
                                       + (reason.map { " (\($0))" } ?? "") + ", job \(state.1)" + (state.2.map { ": \($0)" } ?? ""))
        }
        var figures = try ExecutorBenchFigures(connection: watcher, planID: planID, jobID: jobID, wall: wall, delay: delay,
                                               memory: memory ?? MemorySampler.Figures(), cpu: cpu, profiling: environment.profiling)
        figures.planID = planID
        figures.promptCacheTotals = cacheTotals
        return figures
    }

    /// Runs async work from this synchronous command and waits for it.
    func blocking<T: Sendable>(_ body: @escaping @Sendable () async throws -> T) throws -> T {
        let outcome = AsyncOutcome<T>()
        outcome.start(body)
        return try outcome.wait().get()
    }
}
