import ArgumentParser
import Dispatch
import Engine
import Foundation
import JSON
import LLM
import PlanCore
import Postgres
import Store
import Synchronization

/// `masterplan bench executor`: the executor daemon running a large synthetic plan against the replay
/// server — makespan against PlanCore's lower bound, overhead per atom with an instant model, and the
/// memory of the process with a full wave of atoms in flight.
struct BenchExecutorCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "executor",
        abstract: "Measure the executor on a synthetic plan (targets: makespan <= 1.10 x lower bound, overhead <= 5 ms/atom, RSS <= 200 MB).",
        discussion: """
        Starts its own PostgreSQL cluster (unless --database-url names a migrated database), stores a synthetic plan of \
        --atoms atoms with no acceptance tests, approves it and runs it with the real executor daemon and execution handler \
        (real workspace and git commits, real validators) against an in-process replay-llm that answers every atom after \
        --delay-ms. Files are Markdown: their validators (size and line limits) run in the executor without the sandbox, so \
        the figures are the executor's own and not bubblewrap's. Then the same plan runs again with an instant model at each \
        --overhead-concurrency. Everything is removed at the end. Build with -c release for meaningful figures.
        """
    )

    @Option(help: "Atoms in the synthetic plan (one per task and file).")
    var atoms: Int = 800

    @Option(name: .customLong("delay-ms"), help: "Milliseconds the replay server waits before answering each atom in the makespan run.")
    var delayMilliseconds: Int = 50

    @Option(help: "Atoms in flight at once in the makespan run (MASTERPLAN_CONCURRENCY).")
    var concurrency: Int = 100

    @Option(help: "Concurrency of each no-delay overhead run, comma-separated.")
    var overheadConcurrency: String = "1,100"

    @Option(help: "Threads for validators and git (default: the number of cores).")
    var cpuSlots: Int?

    @Option(help: "Job slots of the daemon, as `masterplan executor --jobs` (its database pool has jobs + 1 connections).")
    var jobs: Int = 4

    @Option(help: "Characters of each generated file.")
    var fileCharacters: Int = 1_000

    @Option(help: "Characters per streamed chunk of an answer (default: replay-llm's own, 16).")
    var chunkCharacters: Int?

    @Flag(inversion: .prefixedNo, help: "fsync every workspace write (the executor does not: accepted content is durable in PostgreSQL and each wave's commit flushes the filesystem once; --workspace-sync shows what flushing every write too would cost).")
    var workspaceSync = false

    @Option(help: "Seed of the synthetic plan.")
    var seed: UInt64 = 42

    @Option(help: "Seconds one run may take before the bench gives up.")
    var timeout: Double = 600

    @Flag(help: "Record the database time of every statement (pg_stat_statements) and print the costliest ones per run.")
    var profile = false

    @Option(name: .customLong("database-url"), help: "Use this database (must be migrated) instead of a private cluster.")
    var databaseURL: String?

    @Flag(help: "Keep the temporary folder (workspaces, PostgreSQL log) and print its path.")
    var keepFolder = false

    static let makespanTarget = 1.10
    static let overheadTargetMilliseconds = 5.0
    static let rssTargetMegabytes = 200.0

    func validate() throws {
        guard (1...100_000).contains(atoms) else { throw ValidationError("--atoms must be from 1 to 100000, got \(atoms)") }
        guard delayMilliseconds >= 0 else { throw ValidationError("--delay-ms must not be negative") }
        guard (1...1000).contains(concurrency) else { throw ValidationError("--concurrency must be from 1 to 1000") }
        guard !overheadLevels.isEmpty, overheadLevels.allSatisfy({ (1...1000).contains($0) }) else {
            throw ValidationError("--overhead-concurrency must be numbers from 1 to 1000 separated by commas, such as 1,100")
        }
        if let cpuSlots, !(1...256).contains(cpuSlots) { throw ValidationError("--cpu-slots must be from 1 to 256") }
        guard (1...64).contains(jobs) else { throw ValidationError("--jobs must be from 1 to 64") }
        guard fileCharacters >= 16 else { throw ValidationError("--file-characters must be at least 16") }
        if let chunkCharacters, chunkCharacters < 1 { throw ValidationError("--chunk-characters must be at least 1") }
        guard timeout > 0 else { throw ValidationError("--timeout must be above 0") }
    }

    var overheadLevels: [Int] {
        overheadConcurrency.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
    }

    func run() throws {
        let plan = try SyntheticExecutionPlan(atoms: atoms, seed: seed)
        let environment = try ExecutorBenchEnvironment(databaseURL: databaseURL, profile: profile, keepFolder: keepFolder)
        defer { environment.stop() }
        let slots = cpuSlots ?? max(1, ProcessInfo.processInfo.activeProcessorCount)
        let entries = plan.cassette(fileCharacters: fileCharacters, chunkCharacters: chunkCharacters)

        print("plan:      \(plan.execution.atoms.count) atoms (\(plan.validated.tasks.count) synthetic tasks, seed \(seed)), "
              + "\(plan.execution.graph.edgeCount) edges, \(plan.execution.waves.count) waves (widest \(plan.execution.widestWave)), "
              + "critical path \(plan.execution.criticalPathLength) atoms; no acceptance tests")
        print("files:     .md (FileKind.text: size and line limits only, checked in the executor; no sandboxed tool runs, "
              + "so bubblewrap start-up is not in the figures); \(fileCharacters) characters each")
        print("model:     replay-llm in this process on loopback, streamed in \(chunkCharacters.map(String.init) ?? "16")-character "
              + "chunks; LLM calls logged to llm_calls as in production")
        print("executor:  ExecutorDaemon jobs=\(jobs) (database pool \(max(2, jobs + 1)) connections), cpu_slots=\(slots), "
              + "lease 30 s, review suggestions off, workspace writes \(workspaceSync ? "fsynced" : "not fsynced") and one syncfs per commit; database: \(environment.description)")
        if environment.profiling { print("profile:   pg_stat_statements on (adds a little database time)") }
        print("machine:   \(ProcessInfo.processInfo.activeProcessorCount) cores, load average \(Self.loadAverage) at the start "
              + "(other work on the machine slows every figure)")

        // 1. Makespan with a slow model, and the memory with a full wave in flight.
        let delay = Duration.milliseconds(delayMilliseconds)
        let main = try ExecutorBenchRun(environment: environment, plan: plan, entries: entries, delay: delay, concurrency: concurrency,
                                        cpuSlots: slots, jobs: jobs, workspaceSync: workspaceSync, timeout: timeout,
                                        sampleMemory: true).run()
        let lower = plan.execution.dependencyMakespanLowerBound(concurrency: concurrency, latency: delay)
        let barrier = plan.execution.waveBarrierMakespan(concurrency: concurrency, latency: delay)
        let lowerSeconds = Self.seconds(lower), barrierSeconds = Self.seconds(barrier)
        print("")
        print("run:       delay \(delayMilliseconds) ms, concurrency \(concurrency)")
        main.printFigures()
        main.printCPU()
        let rounds = max(plan.execution.criticalPathLength, (plan.execution.atoms.count + concurrency - 1) / concurrency)
        print("bounds:    dependency lower bound \(Self.format(lowerSeconds, 3)) s (max(critical path \(plan.execution.criticalPathLength), "
              + "ceil(\(plan.execution.atoms.count)/\(concurrency))) = \(rounds) x \(delayMilliseconds) ms); wave-barrier makespan "
              + "\(Self.format(barrierSeconds, 3)) s (what the executor can reach at best, running waves as barriers)")
        if lowerSeconds > 0 {
            let ratio = main.makespan / lowerSeconds
            print("ratio:     makespan / lower bound = \(Self.format(ratio, 3)) (target <= \(Self.format(Self.makespanTarget, 2)): "
                  + "\(ratio <= Self.makespanTarget ? "met" : "NOT met")); makespan / wave-barrier makespan = "
                  + "\(Self.format(barrierSeconds > 0 ? main.makespan / barrierSeconds : 0, 3))")
        } else {
            print("ratio:     no lower bound with --delay-ms 0")
        }
        let rss = main.memory
        let inFlight = rss.samplesInFlight > 0
            ? "VmRSS max \(Self.format(rss.maxRSSInFlight, 1)) MB over \(rss.samplesInFlight) samples with \(rss.threshold) or more atoms running"
            : "no sample saw \(rss.threshold) or more atoms running"
        print("RSS:       this process (executor and the in-process replay server): \(inFlight) (most running at once: \(rss.maxInFlight)); "
              + "over the run VmRSS max \(Self.format(rss.maxRSS, 1)) MB, VmHWM \(Self.format(rss.highWaterMark, 1)) MB, \(rss.maxThreads) threads at most; "
              + "\(Self.format(rss.before, 1)) MB before the run (target <= \(Self.format(Self.rssTargetMegabytes, 0)) MB: "
              + "\(rss.highWaterMark <= Self.rssTargetMegabytes ? "met" : "NOT met"))")
        main.printProfile()

        // 2. Overhead with an instant model.
        var overheads: [(Int, Double)] = []
        for level in overheadLevels {
            let figures = try ExecutorBenchRun(environment: environment, plan: plan, entries: entries, delay: .zero, concurrency: level,
                                               cpuSlots: slots, jobs: jobs, workspaceSync: workspaceSync, timeout: timeout,
                                               sampleMemory: false).run()
            print("")
            print("run:       delay 0 ms, concurrency \(level)")
            figures.printFigures()
            figures.printCPU()
            figures.printProfile()
            overheads.append((level, figures.makespan * 1000 / Double(plan.execution.atoms.count)))
        }
        print("")
        print("machine:   load average \(Self.loadAverage) at the end")
        print("overhead:  makespan / atoms with an instant model (every millisecond is the executor's, its database's and the "
              + "in-process replay server's): " + overheads.map { "concurrency \($0.0): \(Self.format($0.1, 2)) ms/atom" }.joined(separator: ", ")
              + " (target <= \(Self.format(Self.overheadTargetMilliseconds, 0)) ms: "
              + "\(overheads.allSatisfy { $0.1 <= Self.overheadTargetMilliseconds } ? "met" : "NOT met"))")
        if lowerSeconds > 0 {
            print("summary:   ratio \(Self.format(main.makespan / lowerSeconds, 3)), overhead "
                  + overheads.map { "\(Self.format($0.1, 2)) ms/atom at \($0.0)" }.joined(separator: ", ")
                  + ", RSS \(Self.format(rss.highWaterMark, 1)) MB (VmHWM)")
        }
    }

    /// The 1-minute load average from `/proc/loadavg`.
    static var loadAverage: String {
        (try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8))?.split(separator: " ").first.map(String.init) ?? "unknown"
    }

    static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }

    static func format(_ value: Double, _ decimals: Int) -> String { String(format: "%.\(decimals)f", value) }
}

/// Why the bench could not run or a run did not finish as it should.
struct ExecutorBenchFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// The synthetic plan of the bench: `SyntheticPlanGenerator`'s dependency shape, cut to exactly the
/// number of atoms asked for, with every file a Markdown file.
struct SyntheticExecutionPlan: Sendable {
    let validated: ValidatedPlan
    let execution: ExecutionPlan

    init(atoms: Int, seed: UInt64) throws {
        // The generator draws each task from the tasks before it only, so the first n tasks are the
        // same whatever the total: take the fewest tasks that reach `atoms` files, then trim the last.
        let full = SyntheticPlanGenerator(taskCount: atoms, subtasksPerTask: 2, seed: seed).generate()
        var total = 0, taskCount = 0
        for task in full.tasks {
            taskCount += 1
            total += task.files.count
            if total >= atoms { break }
        }
        var plan = SyntheticPlanGenerator(taskCount: taskCount, subtasksPerTask: 2, seed: seed).generate()
        let excess = total - atoms
        if excess > 0 { plan.updateTask(number: taskCount) { $0.files.removeLast(excess) } }
        for task in plan.tasks {
            plan.updateTask(number: task.number) { task in
                task.files = task.files.map { $0.hasSuffix(".py") ? String($0.dropLast(3)) + ".md" : $0 }
            }
        }
        plan.projectName = "Executor bench (\(atoms) atoms)"
        var limits = PlanLimits.default
        limits.maxTasks = max(limits.maxTasks, taskCount)
        limits.maxTasksPerMilestone = max(limits.maxTasksPerMilestone, taskCount)
        limits.maxSubtasks = max(limits.maxSubtasks, taskCount * 2)
        limits.maxAtoms = max(limits.maxAtoms, atoms)
        do {
            validated = try PlanValidator(limits: limits).validate(plan)
        } catch {
            throw ExecutorBenchFailure("the synthetic plan does not validate: \(error.repairInstructions(maxListed: 3))")
        }
        execution = ExecutionPlan(validated)
        guard execution.atoms.count == atoms else {
            throw ExecutorBenchFailure("the synthetic plan has \(execution.atoms.count) atoms, not \(atoms)")
        }
    }

    /// One answer per atom (purpose `atom`, key `task-N/PATH`): the JSON document the atom prompt asks for.
    func cassette(fileCharacters: Int, chunkCharacters: Int?) -> [CassetteEntry] {
        let line = "This section describes the component, its inputs, its outputs and how it fails.\n"
        return execution.atoms.map { atom in
            var content = "# \(atom.path)\n\nWritten for task \(atom.taskNumber).\n\n"
            while content.count < fileCharacters { content += line }
            content = String(content.prefix(fileCharacters - 1)) + "\n"
            let answer = JSONValue(["file": .string(atom.path), "content": .string(content), "notes": "bench"]).jsonText
            return CassetteEntry(purpose: LLMRequest.Purpose.atom.rawValue, key: AtomPrompts.key(taskNumber: atom.taskNumber, path: atom.path),
                                 response: answer, model: "gpt-4.1-mini",
                                 usage: LLMUsage(inputTokens: 900, outputTokens: answer.utf8.count / 4, cachedInputTokens: 0),
                                 chunkCharacters: chunkCharacters)
        }
    }
}

/// The bench's database (a private throwaway cluster unless a URL is given), its user, and its
/// temporary folder (workspaces under `data/`, mode 0755 so the sandbox user could enter it).
final class ExecutorBenchEnvironment: Sendable {
    let folder: String
    let dataDirectory: String
    let cluster: PrivateCluster?
    let conninfo: String
    let ownerID: UUID
    let profiling: Bool
    let keepFolder: Bool

    /// The private cluster's postmaster, whose CPU time (with its reaped backends') the runs report.
    var postmasterPID: pid_t? {
        guard let cluster, let text = try? String(contentsOfFile: cluster.dataDirectory + "/postmaster.pid", encoding: .utf8) else { return nil }
        return text.split(separator: "\n").first.flatMap { pid_t($0) }
    }

    var description: String {
        cluster == nil ? "the given database" : "private PostgreSQL cluster (fsync off, unix socket)"
    }

    init(databaseURL: String?, profile: Bool, keepFolder: Bool) throws {
        var template = Array("/tmp/mpbench-executor.XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { throw ExecutorBenchFailure("mkdtemp in /tmp failed: errno \(errno)") }
        folder = String(cString: made)
        chmod(folder, 0o755)
        dataDirectory = folder + "/data"
        self.keepFolder = keepFolder
        do {
            try FileManager.default.createDirectory(atPath: dataDirectory, withIntermediateDirectories: true,
                                                    attributes: [.posixPermissions: 0o755])
            if let databaseURL {
                cluster = nil
                conninfo = databaseURL
            } else {
                let started = try PrivateCluster.start(in: folder + "/pg", options: .init(throwaway: true, port: 5447, maxConnections: 100))
                cluster = started
                do {
                    if profile {
                        try Connection(started.conninfo()).simpleQuery("ALTER SYSTEM SET shared_preload_libraries = 'pg_stat_statements'")
                        try started.restart()
                    }
                    try started.createDatabase("bench")
                    conninfo = started.conninfo(database: "bench")
                    try Migrator(directory: try MigrationsFolder.locate()).migrate(on: try Connection(conninfo))
                } catch {
                    try? started.stop(immediate: true)
                    throw error
                }
            }
        } catch {
            if !keepFolder { try? FileManager.default.removeItem(atPath: folder) }
            throw error
        }
        let connection = try Connection(conninfo)
        var profiling = false
        if profile {
            do {
                try connection.simpleQuery("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
                _ = try connection.query("SELECT pg_stat_statements_reset()")
                profiling = true
            } catch {
                print("profile:   unavailable (\(error)); the figures are printed without it")
            }
        }
        self.profiling = profiling
        ownerID = try UserStore(connection).create(email: "bench-executor-\(UUID().uuidString.prefix(8).lowercased())@example.org",
                                                   passwordHash: "bench: no login").id
    }

    /// Stops the cluster and removes the folder (unless asked to keep it).
    func stop() {
        if let cluster { try? cluster.stop(immediate: true) }
        if keepFolder {
            print("folder:    \(folder) kept")
        } else {
            try? FileManager.default.removeItem(atPath: folder)
        }
    }

    /// Stores the plan as generated (no tests), approves and queues it with its execution job, as
    /// the API does. Returns the plan and job ids.
    func queuePlan(_ plan: SyntheticExecutionPlan, budgetUSD: Double) throws -> (plan: UUID, job: UUID) {
        let connection = try Connection(conninfo)
        let planID = try PlanQueries(connection).create(ownerID: ownerID, request: "executor bench", budgetUSD: budgetUSD)
        try PlanWriter(connection: connection).storeGeneratedPlan(planID: planID, plan: plan.validated, tests: [], estimate: nil,
                                                                  changeNote: "synthetic plan of masterplan bench executor")
        let job = try connection.transaction { c in
            let plans = PlanQueries(c)
            _ = try plans.freezeAcceptanceTests(planID: planID)
            guard try plans.changeStatus(id: planID, from: "draft", to: "approved", reason: nil),
                  try plans.changeStatus(id: planID, from: "approved", to: "queued", reason: nil) else {
                throw ExecutorBenchFailure("the stored bench plan was not a draft")
            }
            return try JobQueue(c).enqueue(.execution, planID: planID)
        }
        return (planID, job)
    }
}

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
        let wall = BenchExecutorCommand.seconds(clock.now - started)
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
            throw ExecutorBenchFailure("the executor daemon failed: \(error)")
        }
        guard state.0 == PlanStatus.completed.rawValue, state.1 == "done" else {
            let reason = try watcher.query("SELECT status_reason FROM masterplans WHERE id = $1", [planID]).first?.decode(String?.self, 0)
            throw ExecutorBenchFailure("the run did not complete in \(BenchExecutorCommand.format(wall, 1)) s: plan \(state.0)"
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

/// The outcome of async work started from synchronous code, for that code to wait on.
final class AsyncOutcome<T: Sendable>: Sendable {
    private let value = Mutex<Result<T, any Error>?>(nil)
    private let done = DispatchSemaphore(value: 0)

    func start(_ body: @escaping @Sendable () async throws -> T) {
        Task.detached { [self] in
            let outcome: Result<T, any Error>
            do { outcome = .success(try await body()) } catch { outcome = .failure(error) }
            value.withLock { $0 = outcome }
            done.signal()
        }
    }

    func wait() -> Result<T, any Error> {
        done.wait()
        return value.withLock { $0! }
    }
}

/// The replay server answering the plan's atoms and the LLM client the executor talks to it with.
struct ReplayModel: Sendable {
    let server: ReplayServer
    let serving: Task<Void, any Error>
    let client: LLMClient

    static func start(entries: [CassetteEntry], delay: Duration, conninfo: String,
                      promptCache: PromptCacheSimulator? = nil) async throws -> ReplayModel {
        let server = try await ReplayServer.bind(cassette: Cassette(entries: entries), host: "127.0.0.1", port: 0,
                                                 defaultDelay: delay > .zero ? delay : nil, promptCache: promptCache)
        let serving = Task { try await server.serve() }
        let configuration = LLMConfiguration(provider: .openAICompatible, model: "gpt-4.1-mini", baseURL: server.baseURL,
                                             timeouts: LLMTimeouts(connect: .seconds(10), idle: .seconds(60), total: .seconds(300)))
        let client = try LLMClient(configuration: configuration, callLog: PostgresLLMCallLog(conninfo: conninfo), diagnostics: .silent)
        return ReplayModel(server: server, serving: serving, client: client)
    }

    func stop() async throws {
        try await client.shutdown()
        await server.close()
        try await serving.value
    }
}

/// Samples this process's memory (`/proc/self/status`) and the plan's atoms in flight every 50 ms
/// on a thread of its own with its own database connection.
final class MemorySampler: Sendable {
    struct Figures: Sendable {
        var before = 0.0
        var maxRSS = 0.0
        var threshold = 0
        var maxRSSInFlight = 0.0
        var samplesInFlight = 0
        var maxInFlight = 0
        var highWaterMark = 0.0
        var maxThreads = 0
    }

    private let figures: Mutex<Figures>
    private let stopping = Atomic<Bool>(false)
    private let finished = DispatchSemaphore(value: 0)

    init(conninfo: String, planID: UUID, threshold: Int) {
        figures = Mutex(Figures(before: Self.status()["VmRSS"] ?? 0, threshold: threshold))
        let thread = Thread { [self] in
            defer { finished.signal() }
            let connection = try? Connection(conninfo)
            while !stopping.load(ordering: .acquiring) {
                let inFlight = connection.flatMap { Self.running(planID: planID, on: $0) }
                let status = Self.status()
                let rss = status["VmRSS"] ?? 0
                figures.withLock { figures in
                    figures.maxRSS = max(figures.maxRSS, rss)
                    figures.maxThreads = max(figures.maxThreads, Int(status["Threads"] ?? 0))
                    if let running = inFlight {
                        figures.maxInFlight = max(figures.maxInFlight, running)
                        if running >= threshold {
                            figures.maxRSSInFlight = max(figures.maxRSSInFlight, rss)
                            figures.samplesInFlight += 1
                        }
                    }
                }
                usleep(50_000)
            }
        }
        thread.start()
    }

    /// Stops sampling and returns the figures (megabytes).
    func stop() -> Figures {
        stopping.store(true, ordering: .releasing)
        finished.wait()
        return figures.withLock { figures in
            var result = figures
            result.highWaterMark = Self.status()["VmHWM"] ?? 0
            return result
        }
    }

    /// The plan's atoms in flight now; nil when the query fails.
    static func running(planID: UUID, on connection: Connection) -> Int? {
        try? connection.query("SELECT count(*) FROM atoms WHERE plan_id = $1 AND status = 'running'", [planID]).first?.decode(Int.self, 0)
    }

    /// Fields of `/proc/self/status`: the `kB` ones in megabytes, the others as numbers.
    static func status() -> [String: Double] {
        guard let text = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return [:] }
        var fields: [String: Double] = [:]
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: ":", maxSplits: 1)
            guard parts.count == 2 else { continue }
            let words = parts[1].split(whereSeparator: { $0 == " " || $0 == "\t" })
            guard let number = words.first.flatMap({ Double($0) }) else { continue }
            fields[String(parts[0])] = words.count > 1 && words[1] == "kB" ? number / 1024 : number
        }
        return fields
    }
}

/// What one run did, read back from the database: the makespan between the plan's
/// `masterplan_execution_start` and `masterplan_execution_complete` events, where the time went
/// (atoms, wave ends, between waves), and with `--profile` the costliest statements.
struct ExecutorBenchFigures {
    var makespan: Double
    var job: Double
    var wall: Double
    var atoms: Int
    var attempts: Int
    var llmCalls: Int
    var waves: Int
    /// Seconds: start event → first wave started; Σ wave start → its last atom done; Σ last atom
    /// done → wave passed (commit, gate); Σ wave passed → next wave started; last wave → complete event.
    var beforeWaves = 0.0, atomPhases = 0.0, waveEnds = 0.0, betweenWaves = 0.0, afterWaves = 0.0
    /// Milliseconds: mean atom time (started → finished), mean wait from a wave's start to its first
    /// atom's start, mean wait from a wave's start to its last atom's start.
    var meanAtom = 0.0, meanFirstStart = 0.0, meanLastStart = 0.0
    var delay: Duration
    var memory: MemorySampler.Figures
    var cpu: CPUTimes
    var statements: [(calls: Int, total: Double, mean: Double, query: String)] = []
    var planID: UUID?
    /// The replay server's simulated prompt-cache sums by purpose (empty without a simulated cache).
    var promptCacheTotals: [String: PromptCacheSimulator.Totals] = [:]

    init(connection: Connection, planID: UUID, jobID: UUID, wall: Double, delay: Duration, memory: MemorySampler.Figures,
         cpu: CPUTimes, profiling: Bool) throws {
        self.cpu = cpu
        self.wall = wall
        self.delay = delay
        self.memory = memory
        func epoch(_ type: String) throws -> Double {
            guard let row = try connection.query(
                "SELECT extract(epoch FROM created_at)::float8 FROM events WHERE plan_id = $1 AND type = $2 ORDER BY id LIMIT 1",
                [planID, type]).first else { throw ExecutorBenchFailure("the plan has no \(type) event") }
            return try row.decode(Double.self, 0)
        }
        let start = try epoch("masterplan_execution_start"), complete = try epoch("masterplan_execution_complete")
        makespan = complete - start
        let jobRow = try connection.query(
            "SELECT extract(epoch FROM finished_at - started_at)::float8 FROM jobs WHERE id = $1", [jobID]).first!
        job = try jobRow.decode(Double?.self, 0) ?? 0
        let counts = try connection.query("""
            SELECT (SELECT count(*) FROM atoms WHERE plan_id = $1 AND status = 'succeeded'),
                   (SELECT count(*) FROM atom_attempts WHERE plan_id = $1),
                   (SELECT count(*) FROM llm_calls WHERE plan_id = $1),
                   (SELECT avg(extract(epoch FROM finished_at - started_at))::float8 * 1000 FROM atoms WHERE plan_id = $1)
            """, [planID]).first!
        atoms = try counts.decode(Int.self, 0)
        attempts = try counts.decode(Int.self, 1)
        llmCalls = try counts.decode(Int.self, 2)
        meanAtom = try counts.decode(Double?.self, 3) ?? 0
        let rows = try connection.query("""
            SELECT extract(epoch FROM w.started_at)::float8, extract(epoch FROM w.finished_at)::float8,
                   extract(epoch FROM min(a.started_at))::float8, extract(epoch FROM max(a.started_at))::float8,
                   extract(epoch FROM max(a.finished_at))::float8
            FROM waves w JOIN atoms a ON a.plan_id = w.plan_id AND a.wave = w.number
            WHERE w.plan_id = $1 GROUP BY w.id, w.number ORDER BY w.number
            """, [planID]).rows.map { row in
            (started: try row.decode(Double.self, 0), finished: try row.decode(Double.self, 1), firstAtom: try row.decode(Double.self, 2),
             lastAtomStart: try row.decode(Double.self, 3), lastAtomDone: try row.decode(Double.self, 4))
        }
        waves = rows.count
        if let first = rows.first, let last = rows.last {
            beforeWaves = first.started - start
            afterWaves = complete - last.finished
            for (index, wave) in rows.enumerated() {
                atomPhases += wave.lastAtomDone - wave.started
                waveEnds += wave.finished - wave.lastAtomDone
                if index + 1 < rows.count { betweenWaves += rows[index + 1].started - wave.finished }
                meanFirstStart += (wave.firstAtom - wave.started) * 1000 / Double(rows.count)
                meanLastStart += (wave.lastAtomStart - wave.started) * 1000 / Double(rows.count)
            }
        }
        if profiling {
            statements = try connection.query("""
                SELECT calls, total_exec_time, mean_exec_time, regexp_replace(query, '\\s+', ' ', 'g')
                FROM pg_stat_statements WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
                ORDER BY total_exec_time DESC LIMIT 12
                """).rows.map { row in
                (calls: try row.decode(Int.self, 0), total: try row.decode(Double.self, 1), mean: try row.decode(Double.self, 2),
                 query: try row.decode(String.self, 3))
            }
        }
    }

    func printFigures() {
        let f = { (value: Double, decimals: Int) in BenchExecutorCommand.format(value, decimals) }
        print("makespan:  \(f(makespan, 3)) s (masterplan_execution_start -> masterplan_execution_complete); job \(f(job, 3)) s "
              + "(claimed -> done, with loading and storing the atoms); \(f(wall, 3)) s seen by the bench")
        print("work:      \(atoms) atoms succeeded, \(attempts) attempts, \(llmCalls) LLM calls, \(waves) waves")
        print("where:     before the first wave \(f(beforeWaves * 1000, 0)) ms; atoms (wave start -> its last atom done) "
              + "\(f(atomPhases * 1000, 0)) ms; wave ends (last atom -> wave passed: commit, gate) \(f(waveEnds * 1000, 0)) ms "
              + "(\(f(waves > 0 ? waveEnds * 1000 / Double(waves) : 0, 1)) ms/wave); between waves \(f(betweenWaves * 1000, 0)) ms "
              + "(\(f(waves > 1 ? betweenWaves * 1000 / Double(waves - 1) : 0, 1)) ms/gap); after the last wave \(f(afterWaves * 1000, 0)) ms")
        let delayMS = BenchExecutorCommand.seconds(delay) * 1000
        print("atoms:     mean \(f(meanAtom, 2)) ms each (started -> finished; the model's delay is \(f(delayMS, 0)) ms); a wave's "
              + "first atom starts \(f(meanFirstStart, 2)) ms and its last \(f(meanLastStart, 2)) ms after the wave (means)")
    }

    func printCPU() {
        let perAtom = { (seconds: Double) in BenchExecutorCommand.format(seconds * 1000 / Double(max(1, atoms)), 2) }
        let cores = ProcessInfo.processInfo.activeProcessorCount
        let total = cpu.user + cpu.system + cpu.children + (cpu.database ?? 0)
        var line = "cpu:       per atom, this process \(perAtom(cpu.user + cpu.system)) ms (user \(perAtom(cpu.user)), system "
            + "\(perAtom(cpu.system))), its child processes (git) \(perAtom(cpu.children)) ms"
        if let database = cpu.database { line += ", PostgreSQL \(perAtom(database)) ms" }
        line += "; \(BenchExecutorCommand.format(total / max(wall, 0.001), 2)) cores busy on average over the run (of \(cores))"
        print(line)
        // However well the work were spread over the cores, the run cannot take less than this.
        let floor = total / Double(max(cores, 1))
        print("floor:     that CPU on \(cores) cores takes at least \(BenchExecutorCommand.format(floor, 3)) s however it is spread, "
              + "\(perAtom(floor)) ms/atom (the bench saw \(BenchExecutorCommand.format(wall, 3)) s)")
    }

    func printProfile() {
        guard !statements.isEmpty else { return }
        let calls = statements.reduce(0) { $0 + $1.calls }
        let total = statements.reduce(0.0) { $0 + $1.total }
        print("database:  the \(statements.count) costliest statements: \(calls) calls, \(BenchExecutorCommand.format(total, 0)) ms "
              + "of execution in the server (\(BenchExecutorCommand.format(Double(calls) / Double(max(1, atoms)), 1)) calls/atom)")
        for statement in statements {
            print("  \(String(format: "%6d", statement.calls)) calls  \(String(format: "%8.1f", statement.total)) ms  "
                  + "\(String(format: "%6.3f", statement.mean)) ms/call  \(String(statement.query.prefix(110)))")
        }
    }
}

/// CPU seconds used so far by this process, by its reaped children (git), and by the private
/// PostgreSQL cluster (the postmaster, its live children and the backends it has reaped), from `/proc`.
struct CPUTimes {
    var user = 0.0
    var system = 0.0
    var children = 0.0
    var database: Double?

    static func now(postmaster: pid_t?) -> CPUTimes {
        var times = CPUTimes()
        if let own = fields(of: "self") {
            times.user = own[0]
            times.system = own[1]
            times.children = own[2] + own[3]
        }
        if let postmaster, let main = fields(of: String(postmaster)) {
            var total = main.reduce(0, +)
            let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
            for entry in entries where entry.allSatisfy(\.isNumber) {
                guard let text = try? String(contentsOfFile: "/proc/\(entry)/stat", encoding: .utf8),
                      let close = text.lastIndex(of: ")") else { continue }
                let words = text[text.index(after: close)...].split(separator: " ")
                guard words.count > 14, pid_t(words[1]) == postmaster else { continue }
                total += (Double(words[11]) ?? 0) / ticks + (Double(words[12]) ?? 0) / ticks
            }
            times.database = total
        }
        return times
    }

    static let ticks = Double(sysconf(Int32(_SC_CLK_TCK)))

    /// utime, stime, cutime, cstime of `/proc/PID/stat`, in seconds.
    static func fields(of pid: String) -> [Double]? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8), let close = text.lastIndex(of: ")") else { return nil }
        let words = text[text.index(after: close)...].split(separator: " ")
        guard words.count > 15 else { return nil }
        return (11...14).map { (Double(words[$0]) ?? 0) / ticks }
    }

    static func - (after: CPUTimes, before: CPUTimes) -> CPUTimes {
        CPUTimes(user: after.user - before.user, system: after.system - before.system, children: after.children - before.children,
                 database: after.database.flatMap { a in before.database.map { a - $0 } })
    }
}
