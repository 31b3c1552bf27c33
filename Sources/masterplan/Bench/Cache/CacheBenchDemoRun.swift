import Engine
import Foundation
import LLM
import PlanCore
import Postgres
import Store

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
                    throw BenchFailure("the generated demo plan was not a draft")
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
            throw BenchFailure("the demo plan ended \(status)" + (reason.map { ": \($0)" } ?? ""))
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
                throw BenchFailure("the demo plan is still \(status) after \(BenchFigures.format(timeout, 0)) s")
            }
            usleep(100_000)
        }
    }
}
