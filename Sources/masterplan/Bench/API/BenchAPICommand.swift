import ArgumentParser
import Foundation

/// `masterplan bench api`: the API and the relay behind nginx, measured in one run — GET of a
/// 120-task plan against nginx serving the same bytes as a file, NOTIFY → SSE latency with many
/// open streams, and the memory of an API worker after the load.
struct BenchAPICommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "api",
        abstract: "Measure the API pool and the SSE relay through nginx (targets: ratio >= 0.25, p99 <= 10 ms, RSS <= 20 MB).",
        discussion: """
        Starts its own PostgreSQL cluster (unless --database-url is given), `masterplan serve api`, `masterplan serve events` \
        and nginx, all in a temporary folder, and stops them at the end. Build with -c release for meaningful figures.
        """
    )

    @Option(help: "Tasks in the plan that is fetched.")
    var tasks: Int = 120

    @Option(help: "API worker processes (default: as `masterplan serve api`).")
    var workers: Int = ServeAPICommand.defaultWorkers

    @Option(help: "Concurrent keep-alive connections of the load generator.")
    var connections: Int = 16

    @Option(help: "Seconds each throughput run lasts.")
    var seconds: Double = 5

    @Option(help: "Open SSE streams during the latency run.")
    var streams: Int = 1_000

    @Option(help: "Events emitted during the latency run.")
    var events: Int = 200

    @Option(help: "nginx worker processes (default: one per core, as `worker_processes auto` in a production nginx.conf).")
    var nginxWorkers: Int?

    @OptionGroup var database: BenchDatabaseOptions

    @Option(help: "Folder holding masterplan-locations.conf (default: ./nginx or beside the binary).")
    var nginxDir: String?

    @Option(help: "The masterplan binary that serves the API and the relay (default: this one), to compare two builds with one load generator.")
    var serveBinary: String?

    func validate() throws {
        guard tasks >= 1, workers >= 1, connections >= 1, seconds > 0, streams >= 1, events >= 1, (nginxWorkers ?? 1) >= 1 else {
            throw ValidationError("every count must be at least 1 and --seconds above 0")
        }
    }

    func run() throws {
        let nginxWorkers = self.nginxWorkers ?? ProcessInfo.processInfo.activeProcessorCount
        let bench = try BenchEnvironment(workers: workers, nginxWorkers: nginxWorkers, streams: streams, databaseURL: database.databaseURL,
                                         nginxDir: try Self.locateNginxDirectory(nginxDir), serveBinary: serveBinary)
        defer { bench.stop() }

        let planID = try bench.createPlan(tasks: tasks)
        let apiPath = "/api/v1/masterplans/\(planID.uuidString.lowercased())"
        let plan = try LoopbackHTTP.request(port: bench.port, path: apiPath, headers: ["Authorization": "Bearer \(bench.token)"])
        guard plan.status == 200 else { throw BenchFailure("GET \(apiPath) answered \(plan.status): \(String(decoding: plan.body.prefix(300), as: UTF8.self))") }
        try Data(plan.body).write(to: URL(fileURLWithPath: bench.staticRoot + "/plan.json"))
        print("setup:      \(tasks)-task plan, \(plan.body.count) bytes of JSON; \(workers) API workers; \(nginxWorkers) nginx workers")

        let headers = "Authorization: Bearer \(bench.token)\r\n"
        _ = LoadGenerator(port: bench.port, path: apiPath, extraHeaders: headers, connections: connections).run(seconds: min(1, seconds))
        let api = LoadGenerator(port: bench.port, path: apiPath, extraHeaders: headers, connections: connections).run(seconds: seconds)
        _ = LoadGenerator(port: bench.port, path: "/plan.json", extraHeaders: "", connections: connections).run(seconds: min(1, seconds))
        let file = LoadGenerator(port: bench.port, path: "/plan.json", extraHeaders: "", connections: connections).run(seconds: seconds)
        let ratio = file.requestsPerSecond > 0 ? api.requestsPerSecond / file.requestsPerSecond : 0
        print("GET plan:   API \(BenchFigures.format(api.requestsPerSecond, 0)) req/s (\(api.errors) errors), nginx static file "
              + "\(BenchFigures.format(file.requestsPerSecond, 0)) req/s (\(file.errors) errors), \(connections) connections, \(BenchFigures.format(seconds, 0)) s each")
        print("ratio:      \(BenchFigures.format(ratio, 3)) (target >= 0.25: \(ratio >= 0.25 ? "met" : "NOT met"))")

        let rss = bench.workerRSSKilobytes()
        let maxRSS = Double(rss.max() ?? 0) / 1024
        print("worker RSS: \(rss.map { BenchFigures.format(Double($0) / 1024, 1) + " MB" }.joined(separator: ", ")) after the load "
              + "(target <= 20 MB: \(maxRSS <= 20 && !rss.isEmpty ? "met" : "NOT met"))")

        let cpuBefore = bench.cpuSeconds()
        let latency = try SSELatency(bench: bench, planID: planID, streams: streams, events: events).run()
        let cpuAfter = bench.cpuSeconds()
        print("SSE:        \(latency.connected) streams open, \(latency.deliveries) deliveries of \(events) events "
              + "(\(latency.missing) missing)")
        print("latency:    NOTIFY -> client p50 \(BenchFigures.format(latency.p50, 2)) ms, p99 \(BenchFigures.format(latency.p99, 2)) ms, "
              + "max \(BenchFigures.format(latency.max, 2)) ms (target p99 <= 10 ms: \(latency.p99 <= 10 && latency.missing == 0 ? "met" : "NOT met"))")
        print("relay RSS:  \(BenchFigures.format(Double(bench.relayRSSKilobytes()) / 1024, 1)) MB with \(latency.connected) streams open")
        // Where the time of one event's fan-out goes: the three share the machine's cores.
        let perEvent = { (before: Double, after: Double) in BenchFigures.format((after - before) * 1000 / Double(events), 1) + " ms" }
        print("CPU/event:  relay \(perEvent(cpuBefore.relay, cpuAfter.relay)), nginx \(perEvent(cpuBefore.nginx, cpuAfter.nginx)), "
              + "SSE reader \(perEvent(cpuBefore.reader, cpuAfter.reader)) (\(latency.connected) deliveries each; "
              + "\(ProcessInfo.processInfo.activeProcessorCount) cores)")
    }

    static func locateNginxDirectory(_ explicit: String?) throws -> String {
        var candidates: [String] = []
        if let explicit { candidates.append(explicit) }
        candidates.append(FileManager.default.currentDirectoryPath + "/nginx")
        var dir = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
        for _ in 0..<6 {
            candidates.append(dir.appendingPathComponent("nginx").path)
            dir.deleteLastPathComponent()
        }
        candidates.append("/etc/nginx/masterplan")
        guard let found = candidates.first(where: { FileManager.default.fileExists(atPath: $0 + "/masterplan-locations.conf") }) else {
            throw BenchFailure("masterplan-locations.conf was not found: pass --nginx-dir DIR (the repository's nginx/ folder)")
        }
        return found
    }
}
