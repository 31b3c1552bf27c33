import ArgumentParser
import Base
import Dispatch
import Engine
import Foundation
import LLM
import Store

/// `masterplan executor`: the daemon that claims jobs (generation, regeneration, chat, execution)
/// from PostgreSQL and runs them.
struct ExecutorCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "executor",
        abstract: "Run the executor daemon: claim generation, chat and execution jobs from the database and run them.",
        discussion: """
        Jobs are claimed with FOR UPDATE SKIP LOCKED under a lease this process renews; several executors may \
        share one database, and a job whose executor died is taken over when its lease expires. The daemon wakes \
        on NOTIFY masterplan_jobs and also polls.
        Signals: TERM, INT and QUIT stop after the running jobs reach a checkpoint (between LLM calls and atoms); \
        unfinished jobs go back to the queue and resume from the database.
        Needs MASTERPLAN_DATABASE_URL and MASTERPLAN_LLM (with ANTHROPIC_API_KEY or OPENAI_API_KEY); \
        MASTERPLAN_DATA_DIR holds the workspaces; MASTERPLAN_CONCURRENCY bounds the atoms in flight per plan.
        At start the daemon runs the sandbox containment check (masterplan sandbox check) and refuses to start when \
        any probe gets out of the box.
        """
    )

    @OptionGroup var database: DatabaseOptions

    @OptionGroup var data: DataDirectoryOptions

    @Option(help: "Atoms of one wave in flight at once (default: $MASTERPLAN_CONCURRENCY, else 8).")
    var concurrency: Int?

    @Option(help: "Threads for validators, tests and git (default: the number of cores).")
    var cpuSlots: Int?

    @Option(help: "Jobs this executor runs at once.")
    var jobs: Int = 4

    @Option(help: "Seconds a claimed job's lease lasts (renewed every third of it).")
    var lease: Int = 30

    @Option(help: "Seconds between polls of the queue (NOTIFY wakes it sooner).")
    var poll: Int = 2

    @Option(help: "Gate S repair rounds before a wave blocks.")
    var repairRounds: Int = 2

    func validate() throws {
        if let concurrency, !(1...1000).contains(concurrency) { throw ValidationError("--concurrency must be from 1 to 1000") }
        if let cpuSlots, !(1...256).contains(cpuSlots) { throw ValidationError("--cpu-slots must be from 1 to 256") }
        guard (1...64).contains(jobs) else { throw ValidationError("--jobs must be from 1 to 64") }
        guard lease >= 3 else { throw ValidationError("--lease must be at least 3 seconds") }
        guard poll >= 1 else { throw ValidationError("--poll must be at least 1 second") }
        guard (0...10).contains(repairRounds) else { throw ValidationError("--repair-rounds must be from 0 to 10") }
    }

    func run() throws {
        let environment = ProcessInfo.processInfo.environment
        let conninfo = try database.conninfo()
        let settings = try executionSettings(environment)
        let llmConfiguration: LLMConfiguration
        do {
            llmConfiguration = try LLMConfiguration.fromEnvironment()
        } catch {
            throw Settings.Missing(description: error.message)
        }
        let sandbox: Sandbox
        do {
            sandbox = try SandboxContainment.sandbox()
        } catch {
            throw Settings.Missing(description: "the sandbox is unusable: \(error.description)")
        }
        if let problem = sandbox.selfCheck() {
            throw Settings.Missing(description: "the sandbox failed its self-check: \(problem)")
        }
        let log = Logger.standardError
        log.info("model", ["model": llmConfiguration.effectiveModel(scripted: environment["MASTERPLAN_DEMO_MODEL"] == "1"),
                           "setting": "MASTERPLAN_LLM"])
        // Generated code runs only in a box that was just seen to hold (README, "Containment check").
        switch try SandboxContainment.decide(sandbox: sandbox, dataDirectory: settings.dataDirectory, environment: environment) {
        case .contained(let report):
            log.info("sandbox contained", ["report": report.summary])
        case .switchedOff:
            log.warning("sandbox containment check switched off", ["why": SandboxContainment.switchedOffWarning])
        case .refused(let sentence):
            throw Settings.Missing(description: sentence)
        }
        // Boxes a killed predecessor left behind on this data folder (README, "The executor").
        let orphans = OrphanedBoxes.reap(under: settings.dataDirectory)
        if !orphans.isEmpty {
            log.warning("ended boxes a previous executor left behind", ["count": String(orphans.count),
                                                                         "pids": orphans.map(String.init).joined(separator: ",")])
        }
        let llm = try LLMClient(configuration: llmConfiguration, callLog: PostgresLLMCallLog(conninfo: conninfo))
        let generator = try PlanGenerator(client: llm, sandbox: sandbox)
        let handlers: [any JobHandler] = [
            GenerationHandler(generator: generator),
            RegenerationHandler(generator: generator),
            try ChatHandler(client: llm),
            ExecutionHandler(llm: llm, sandbox: sandbox, settings: settings, log: log),
        ]
        let daemon = ExecutorDaemon(
            configuration: .init(conninfo: conninfo, jobSlots: jobs, lease: .seconds(lease), pollInterval: .seconds(poll)),
            handlers: handlers, log: .standardError)

        signal(SIGINT, SIG_IGN)
        signal(SIGTERM, SIG_IGN)
        signal(SIGQUIT, SIG_IGN)
        let queue = DispatchQueue(label: "masterplan.executor.signals")
        let sources = [SIGINT, SIGTERM, SIGQUIT].map { number in
            let source = DispatchSource.makeSignalSource(signal: number, queue: queue)
            source.setEventHandler {
                log.info("stopping: running jobs stop at their next checkpoint", ["signal": String(number)])
                daemon.stop()
            }
            source.resume()
            return source
        }
        log.info("started", ["model": llmConfiguration.settingValue, "data_dir": settings.dataDirectory,
                             "concurrency": String(settings.concurrency), "cpu_slots": String(settings.cpuSlots), "jobs": String(jobs),
                             "kinds": handlers.map(\.kind).joined(separator: ",")])
        // The daemon returns only when asked to stop: a database that goes away is waited for.
        LLMTerminal.blockingAsync { () async in
            defer { Task { try? await llm.shutdown() } }
            await daemon.run()
        }
        for source in sources { source.cancel() }
        log.info("stopped")
    }

    func executionSettings(_ environment: [String: String]) throws -> ExecutionSettings {
        var concurrency = self.concurrency
        if concurrency == nil, let text = environment["MASTERPLAN_CONCURRENCY"], !text.isEmpty {
            guard let value = Int(text), (1...1000).contains(value) else {
                throw Settings.Missing(description: "MASTERPLAN_CONCURRENCY must be a whole number from 1 to 1000, not \"\(text)\"")
            }
            concurrency = value
        }
        let dataDirectory = data.chosen(environment)
        guard dataDirectory.hasPrefix("/") else {
            throw Settings.Missing(description: "MASTERPLAN_DATA_DIR must be an absolute path such as /var/lib/masterplan, not \"\(dataDirectory)\"")
        }
        var settings = ExecutionSettings(dataDirectory: dataDirectory, concurrency: concurrency ?? 8, repairRounds: repairRounds)
        if let cpuSlots { settings.cpuSlots = cpuSlots }
        return settings
    }
}
