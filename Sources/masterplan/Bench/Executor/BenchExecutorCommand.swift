import ArgumentParser
import Engine
import Foundation

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

    @OptionGroup var database: BenchDatabaseOptions

    @OptionGroup var folder: BenchFolderOptions

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
        let environment = try ExecutorBenchEnvironment(databaseURL: database.databaseURL, profile: profile, keepFolder: folder.keepFolder)
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
        let lowerSeconds = BenchFigures.seconds(lower), barrierSeconds = BenchFigures.seconds(barrier)
        print("")
        print("run:       delay \(delayMilliseconds) ms, concurrency \(concurrency)")
        main.printFigures()
        main.printCPU()
        let rounds = max(plan.execution.criticalPathLength, (plan.execution.atoms.count + concurrency - 1) / concurrency)
        print("bounds:    dependency lower bound \(BenchFigures.format(lowerSeconds, 3)) s (max(critical path \(plan.execution.criticalPathLength), "
              + "ceil(\(plan.execution.atoms.count)/\(concurrency))) = \(rounds) x \(delayMilliseconds) ms); wave-barrier makespan "
              + "\(BenchFigures.format(barrierSeconds, 3)) s (what the executor can reach at best, running waves as barriers)")
        if lowerSeconds > 0 {
            let ratio = main.makespan / lowerSeconds
            print("ratio:     makespan / lower bound = \(BenchFigures.format(ratio, 3)) (target <= \(BenchFigures.format(Self.makespanTarget, 2)): "
                  + "\(ratio <= Self.makespanTarget ? "met" : "NOT met")); makespan / wave-barrier makespan = "
                  + "\(BenchFigures.format(barrierSeconds > 0 ? main.makespan / barrierSeconds : 0, 3))")
        } else {
            print("ratio:     no lower bound with --delay-ms 0")
        }
        let rss = main.memory
        let inFlight = rss.samplesInFlight > 0
            ? "VmRSS max \(BenchFigures.format(rss.maxRSSInFlight, 1)) MB over \(rss.samplesInFlight) samples with \(rss.threshold) or more atoms running"
            : "no sample saw \(rss.threshold) or more atoms running"
        print("RSS:       this process (executor and the in-process replay server): \(inFlight) (most running at once: \(rss.maxInFlight)); "
              + "over the run VmRSS max \(BenchFigures.format(rss.maxRSS, 1)) MB, VmHWM \(BenchFigures.format(rss.highWaterMark, 1)) MB, \(rss.maxThreads) threads at most; "
              + "\(BenchFigures.format(rss.before, 1)) MB before the run (target <= \(BenchFigures.format(Self.rssTargetMegabytes, 0)) MB: "
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
              + "in-process replay server's): " + overheads.map { "concurrency \($0.0): \(BenchFigures.format($0.1, 2)) ms/atom" }.joined(separator: ", ")
              + " (target <= \(BenchFigures.format(Self.overheadTargetMilliseconds, 0)) ms: "
              + "\(overheads.allSatisfy { $0.1 <= Self.overheadTargetMilliseconds } ? "met" : "NOT met"))")
        if lowerSeconds > 0 {
            print("summary:   ratio \(BenchFigures.format(main.makespan / lowerSeconds, 3)), overhead "
                  + overheads.map { "\(BenchFigures.format($0.1, 2)) ms/atom at \($0.0)" }.joined(separator: ", ")
                  + ", RSS \(BenchFigures.format(rss.highWaterMark, 1)) MB (VmHWM)")
        }
    }

    /// The 1-minute load average from `/proc/loadavg`.
    static var loadAverage: String {
        (try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8))?.split(separator: " ").first.map(String.init) ?? "unknown"
    }
}
