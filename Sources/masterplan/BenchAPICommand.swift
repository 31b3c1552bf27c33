import API
import ArgumentParser
import Foundation
import JSON
import PlanCore
import Postgres
import Store
import Synchronization

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

    @Option(name: .customLong("database-url"), help: "Use this database (must be migrated) instead of a private cluster.")
    var databaseURL: String?

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
        let bench = try BenchEnvironment(workers: workers, nginxWorkers: nginxWorkers, streams: streams, databaseURL: databaseURL,
                                         nginxDir: try Self.locateNginxDirectory(nginxDir), serveBinary: serveBinary)
        defer { bench.stop() }

        let planID = try bench.createPlan(tasks: tasks)
        let apiPath = "/api/v1/masterplans/\(planID.uuidString.lowercased())"
        let plan = try HTTPProbe.get(port: bench.port, path: apiPath, headers: ["Authorization": "Bearer \(bench.token)"])
        guard plan.status == 200 else { throw BenchFailure("GET \(apiPath) answered \(plan.status): \(String(decoding: plan.body.prefix(300), as: UTF8.self))") }
        try Data(plan.body).write(to: URL(fileURLWithPath: bench.staticRoot + "/plan.json"))
        print("setup:      \(tasks)-task plan, \(plan.body.count) bytes of JSON; \(workers) API workers; \(nginxWorkers) nginx workers")

        let headers = "Authorization: Bearer \(bench.token)\r\n"
        _ = LoadGenerator(port: bench.port, path: apiPath, extraHeaders: headers, connections: connections).run(seconds: min(1, seconds))
        let api = LoadGenerator(port: bench.port, path: apiPath, extraHeaders: headers, connections: connections).run(seconds: seconds)
        _ = LoadGenerator(port: bench.port, path: "/plan.json", extraHeaders: "", connections: connections).run(seconds: min(1, seconds))
        let file = LoadGenerator(port: bench.port, path: "/plan.json", extraHeaders: "", connections: connections).run(seconds: seconds)
        let ratio = file.requestsPerSecond > 0 ? api.requestsPerSecond / file.requestsPerSecond : 0
        print("GET plan:   API \(Self.format(api.requestsPerSecond, 0)) req/s (\(api.errors) errors), nginx static file "
              + "\(Self.format(file.requestsPerSecond, 0)) req/s (\(file.errors) errors), \(connections) connections, \(Self.format(seconds, 0)) s each")
        print("ratio:      \(Self.format(ratio, 3)) (target >= 0.25: \(ratio >= 0.25 ? "met" : "NOT met"))")

        let rss = bench.workerRSSKilobytes()
        let maxRSS = Double(rss.max() ?? 0) / 1024
        print("worker RSS: \(rss.map { Self.format(Double($0) / 1024, 1) + " MB" }.joined(separator: ", ")) after the load "
              + "(target <= 20 MB: \(maxRSS <= 20 && !rss.isEmpty ? "met" : "NOT met"))")

        let cpuBefore = bench.cpuSeconds()
        let latency = try SSELatency(bench: bench, planID: planID, streams: streams, events: events).run()
        let cpuAfter = bench.cpuSeconds()
        print("SSE:        \(latency.connected) streams open, \(latency.deliveries) deliveries of \(events) events "
              + "(\(latency.missing) missing)")
        print("latency:    NOTIFY -> client p50 \(Self.format(latency.p50, 2)) ms, p99 \(Self.format(latency.p99, 2)) ms, "
              + "max \(Self.format(latency.max, 2)) ms (target p99 <= 10 ms: \(latency.p99 <= 10 && latency.missing == 0 ? "met" : "NOT met"))")
        print("relay RSS:  \(Self.format(Double(bench.relayRSSKilobytes()) / 1024, 1)) MB with \(latency.connected) streams open")
        // Where the time of one event's fan-out goes: the three share the machine's cores.
        let perEvent = { (before: Double, after: Double) in Self.format((after - before) * 1000 / Double(events), 1) + " ms" }
        print("CPU/event:  relay \(perEvent(cpuBefore.relay, cpuAfter.relay)), nginx \(perEvent(cpuBefore.nginx, cpuAfter.nginx)), "
              + "SSE reader \(perEvent(cpuBefore.reader, cpuAfter.reader)) (\(latency.connected) deliveries each; "
              + "\(ProcessInfo.processInfo.activeProcessorCount) cores)")
    }

    static func format(_ value: Double, _ decimals: Int) -> String { String(format: "%.\(decimals)f", value) }

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

struct BenchFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// The processes of one bench run, in a temporary folder: PostgreSQL (unless given), the API pool,
/// the relay and nginx, each started with `posix_spawn` and stopped by its PID.
final class BenchEnvironment {
    let folder: String
    let cluster: PrivateCluster?
    let conninfo: String
    let secret = "bench-secret-" + UUID().uuidString
    let staticRoot: String
    let port: UInt16
    var token = ""
    private var children: [(name: String, pid: pid_t)] = []
    private let userID: UUID

    init(workers: Int, nginxWorkers: Int, streams: Int, databaseURL: String?, nginxDir: String, serveBinary: String?) throws {
        var template = Array("/tmp/mpbench.XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { throw BenchFailure("mkdtemp failed") }
        folder = String(cString: made)
        chmod(folder, 0o755)
        staticRoot = folder + "/static"
        try FileManager.default.createDirectory(atPath: staticRoot, withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o755])
        try "<!doctype html><title>bench</title>".write(toFile: staticRoot + "/index.html", atomically: false, encoding: .utf8)
        Self.raiseOpenFileLimit()

        let binary = serveBinary ?? URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().path
        guard FileManager.default.isExecutableFile(atPath: binary) else { throw BenchFailure("--serve-binary \(binary) is not an executable file") }

        // Until `self` is whole (and `stop()` can run), a failure stops the cluster here.
        let email = "bench-\(UUID().uuidString.prefix(8).lowercased())@example.org"
        let password = "bench password " + UUID().uuidString
        var started: PrivateCluster?
        do {
            if let databaseURL {
                conninfo = databaseURL
            } else {
                started = try PrivateCluster.start(in: folder + "/pg", options: .init(throwaway: true, port: 5439, maxConnections: 100))
                try started!.createDatabase("bench")
                conninfo = started!.conninfo(database: "bench")
                try Migrator(directory: try MigrationsFolder.locate()).migrate(on: try Connection(conninfo))
            }
            let db = try Connection(conninfo)
            userID = try UserStore(db).create(email: email, passwordHash: PasswordHasher().hash(password)).id
            port = try Self.freePort()
        } catch {
            try? started?.stop(immediate: true)
            try? FileManager.default.removeItem(atPath: folder)
            throw error
        }
        cluster = started

        do {
            try startServers(binary: binary, workers: workers, nginxWorkers: nginxWorkers, streams: streams, nginxDir: nginxDir,
                             email: email, password: password)
        } catch {
            stop()
            throw error
        }
    }

    /// Starts the API pool, the relay and nginx, and logs in.
    private func startServers(binary: String, workers: Int, nginxWorkers: Int, streams: Int, nginxDir: String,
                              email: String, password: String) throws {
        let environment = ["MASTERPLAN_DATABASE_URL": conninfo, "MASTERPLAN_JWT_SECRET": secret,
                           "PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"]
        try spawn("api", binary, ["serve", "api", "--socket", folder + "/api.sock", "--workers", String(workers), "--max-requests", "0"],
                  environment: environment)
        try spawn("events", binary, ["serve", "events", "--socket", folder + "/events.sock", "--max-streams", String(streams + 100),
                                     "--replay-connections", "4"], environment: environment)
        try waitFor(socket: folder + "/api.sock")
        try waitFor(socket: folder + "/events.sock")

        let connectionsNeeded = max(1024, streams * 2 + 256)
        let config = """
            daemon off;
            master_process on;
            worker_processes \(nginxWorkers);
            worker_rlimit_nofile \(connectionsNeeded * 2);
            user nobody nogroup;
            pid \(folder)/nginx.pid;
            error_log \(folder)/nginx-error.log error;
            events { worker_connections \(connectionsNeeded); }
            http {
                access_log off;
                default_type application/octet-stream;
                types { application/json json; text/html html; }
                client_body_temp_path \(folder)/tmp-body;
                fastcgi_temp_path \(folder)/tmp-fastcgi;
                proxy_temp_path \(folder)/tmp-proxy;
                scgi_temp_path \(folder)/tmp-scgi;
                uwsgi_temp_path \(folder)/tmp-uwsgi;
                keepalive_requests 100000;
                upstream masterplan_api { server unix:\(folder)/api.sock; }
                upstream masterplan_events { server unix:\(folder)/events.sock; }
                limit_req_zone $binary_remote_addr zone=masterplan_login:1m rate=600r/m;
                server {
                    listen 127.0.0.1:\(port) backlog=4096;
                    root \(staticRoot);
                    include \(nginxDir)/masterplan-locations.conf;
                }
            }
            """
        try config.write(toFile: folder + "/nginx.conf", atomically: false, encoding: .utf8)
        try spawn("nginx", "/usr/sbin/nginx", ["-p", folder + "/", "-c", folder + "/nginx.conf", "-e", folder + "/nginx-error.log"],
                  environment: [:])
        let deadline = Date().addingTimeInterval(10)
        while (try? HTTPProbe.get(port: port, path: "/index.html", headers: [:])) == nil {
            guard Date() < deadline else { throw BenchFailure("nginx did not start: \(log("nginx"))") }
            usleep(20_000)
        }
        let login = try HTTPProbe.request(port: port, method: "POST", path: "/api/v1/auth/login",
                                          headers: ["Content-Type": "application/json"],
                                          body: Array(JSONValue.object(["email": .string(email), "password": .string(password)]).jsonText.utf8))
        guard login.status == 200, let value = try? JSONValue.parse(login.body)["access_token"]?.stringValue else {
            throw BenchFailure("login failed (\(login.status)): \(log("api"))")
        }
        token = value
    }

    /// A `draft` plan with a generated tree of `tasks` tasks.
    func createPlan(tasks: Int) throws -> UUID {
        let db = try Connection(conninfo)
        let plan = SyntheticPlanGenerator(taskCount: tasks, subtasksPerTask: 3, seed: 7).generate()
        return try db.transaction { db in
            let id = try PlanQueries(db).create(ownerID: userID, request: "benchmark plan", budgetUSD: 10)
            try PlanTreeWriter(db).write(plan, planID: id)
            try db.execute("UPDATE masterplans SET status = 'executing', approved_at = now(), started_at = now() WHERE id = $1", [id])
            return id
        }
    }

    /// Emits one event for the plan (as the executor does) and returns when it is committed.
    func emit(planID: UUID, sequence: Int, on db: Connection) throws -> Int64 {
        try EventFeed(db).emit(type: "atom_execution_progress", planID: planID, data: ["sequence": .int(Int64(sequence))])
    }

    func workerRSSKilobytes() -> [Int] {
        guard let api = children.first(where: { $0.name == "api" })?.pid else { return [] }
        return Self.childPIDs(of: api).compactMap(Self.rssKilobytes)
    }

    /// CPU time (user + system) so far of the relay, of nginx's workers, and of this process.
    func cpuSeconds() -> (relay: Double, nginx: Double, reader: Double) {
        let relay = children.first(where: { $0.name == "events" }).map { Self.cpuSeconds($0.pid) } ?? 0
        let nginx = children.first(where: { $0.name == "nginx" }).map { Self.childPIDs(of: $0.pid).map(Self.cpuSeconds).reduce(0, +) } ?? 0
        return (relay, nginx, Self.cpuSeconds(getpid()))
    }

    static func cpuSeconds(_ pid: pid_t) -> Double {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8), let close = stat.lastIndex(of: ")") else { return 0 }
        // Fields after the command: state is field 3, utime and stime are fields 14 and 15.
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        guard fields.count > 12, let user = Double(fields[11]), let system = Double(fields[12]) else { return 0 }
        return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    func relayRSSKilobytes() -> Int {
        children.first(where: { $0.name == "events" }).flatMap { Self.rssKilobytes($0.pid) } ?? 0
    }

    func stop() {
        for child in children.reversed() {
            kill(child.pid, SIGTERM)
            var status: Int32 = 0
            for _ in 0..<500 {
                if waitpid(child.pid, &status, WNOHANG) == child.pid { break }
                usleep(10_000)
            }
            if kill(child.pid, 0) == 0 {
                kill(child.pid, SIGKILL)
                waitpid(child.pid, &status, 0)
            }
        }
        children = []
        try? cluster?.stop(immediate: true)
        try? FileManager.default.removeItem(atPath: folder)
    }

    func log(_ name: String) -> String {
        String(((try? String(contentsOfFile: folder + "/\(name).log", encoding: .utf8)) ?? "").suffix(2000))
    }

    private func spawn(_ name: String, _ executable: String, _ arguments: [String], environment: [String: String]) throws {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, folder + "/\(name).log", O_WRONLY | O_CREAT | O_APPEND, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        let argv: [UnsafeMutablePointer<CChar>?] = ([executable] + arguments).map { strdup($0) } + [nil]
        let envp: [UnsafeMutablePointer<CChar>?] = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
        }
        var pid: pid_t = 0
        let code = posix_spawn(&pid, executable, &actions, nil, argv, envp)
        guard code == 0 else { throw BenchFailure("cannot start \(executable): \(String(cString: strerror(code)))") }
        children.append((name, pid))
    }

    private func waitFor(socket path: String) throws {
        let deadline = Date().addingTimeInterval(20)
        while !FileManager.default.fileExists(atPath: path) {
            guard Date() < deadline else { throw BenchFailure("\(path) did not appear: \(log("api")) \(log("events"))") }
            usleep(20_000)
        }
    }

    static func childPIDs(of parent: pid_t) -> [pid_t] {
        ((try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []).compactMap { entry -> pid_t? in
            guard let pid = pid_t(entry), let stat = try? String(contentsOfFile: "/proc/\(entry)/stat", encoding: .utf8),
                  let close = stat.lastIndex(of: ")") else { return nil }
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            return fields.count > 1 && pid_t(fields[1]) == parent ? pid : nil
        }
    }

    static func rssKilobytes(_ pid: pid_t) -> Int? {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }) else { return nil }
        return Int(line.split(separator: " ").dropFirst().first ?? "")
    }

    static func raiseOpenFileLimit() {
        var limit = rlimit()
        let resource = __rlimit_resource_t(RLIMIT_NOFILE.rawValue)
        guard getrlimit(resource, &limit) == 0 else { return }
        limit.rlim_cur = limit.rlim_max
        _ = setrlimit(resource, &limit)
    }

    static func freePort() throws -> UInt16 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let ok = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        guard ok else { throw BenchFailure("no free port") }
        return UInt16(bigEndian: address.sin_port)
    }
}

/// A blocking HTTP/1.1 client on 127.0.0.1 for the bench's few single requests and its load threads.
struct HTTPProbe {
    struct Response {
        var status: Int
        var body: [UInt8]
    }

    static func get(port: UInt16, path: String, headers: [String: String]) throws -> Response {
        try request(port: port, method: "GET", path: path, headers: headers, body: [])
    }

    static func request(port: UInt16, method: String, path: String, headers: [String: String], body: [UInt8]) throws -> Response {
        let fd = try connect(port: port)
        defer { close(fd) }
        var head = "\(method) \(path) HTTP/1.1\r\nHost: bench\r\nConnection: close\r\nContent-Length: \(body.count)\r\n"
        for (name, value) in headers { head += "\(name): \(value)\r\n" }
        try sendAll(fd, Array((head + "\r\n").utf8) + body)
        var reader = ResponseReader(fd: fd)
        guard let response = try reader.next() else { throw BenchFailure("no response to \(path)") }
        return response
    }

    static func connect(port: UInt16) throws -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = port.bigEndian
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else {
            close(fd)
            throw BenchFailure("connect to 127.0.0.1:\(port) failed: \(String(cString: strerror(errno)))")
        }
        var one: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        return fd
    }

    static func sendAll(_ fd: Int32, _ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let sent = bytes.withUnsafeBytes { send(fd, $0.baseAddress! + offset, bytes.count - offset, Int32(MSG_NOSIGNAL)) }
            guard sent > 0 else { throw BenchFailure("send failed: \(String(cString: strerror(errno)))") }
            offset += sent
        }
    }

    /// Reads responses with Content-Length (what nginx sends for these routes) one after another.
    struct ResponseReader {
        let fd: Int32
        var buffer: [UInt8] = []
        var scratch = [UInt8](repeating: 0, count: 256 * 1024)

        init(fd: Int32) { self.fd = fd }

        mutating func next() throws -> Response? {
            var headEnd: Int?
            while headEnd == nil {
                headEnd = Self.find(buffer)
                if headEnd == nil { guard try fill() else { return nil } }
            }
            let head = String(decoding: buffer[..<headEnd!], as: UTF8.self)
            let status = Int(head.split(separator: " ").dropFirst().first ?? "") ?? 0
            var length = 0
            for line in head.split(separator: "\r\n") where line.lowercased().hasPrefix("content-length:") {
                length = Int(line.split(separator: ":")[1].trimmingCharacters(in: .whitespaces)) ?? 0
            }
            let total = headEnd! + 4 + length
            while buffer.count < total { guard try fill() else { throw BenchFailure("connection closed mid-response") } }
            let body = Array(buffer[(headEnd! + 4)..<total])
            buffer.removeFirst(total)
            return Response(status: status, body: body)
        }

        mutating func fill() throws -> Bool {
            let got = scratch.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if got < 0 { throw BenchFailure("recv failed: \(String(cString: strerror(errno)))") }
            if got == 0 { return false }
            buffer += scratch[0..<got]
            return true
        }

        static func find(_ bytes: [UInt8]) -> Int? {
            guard bytes.count >= 4 else { return nil }
            for index in 0...(bytes.count - 4) where bytes[index] == 13 && bytes[index + 1] == 10 && bytes[index + 2] == 13 && bytes[index + 3] == 10 {
                return index
            }
            return nil
        }
    }
}

/// Keep-alive GETs on `connections` threads for a while; counts completed 200 responses.
struct LoadGenerator {
    let port: UInt16
    let path: String
    let extraHeaders: String
    let connections: Int

    struct Outcome {
        var requestsPerSecond: Double
        var errors: Int
    }

    func run(seconds: Double) -> Outcome {
        let completed = Atomic<Int>(0)
        let failed = Atomic<Int>(0)
        let finished = Atomic<Int>(0)
        let request = Array("GET \(path) HTTP/1.1\r\nHost: bench\r\n\(extraHeaders)\r\n".utf8)
        let start = Date()
        let end = start.addingTimeInterval(seconds)
        for _ in 0..<connections {
            let thread = Thread { [port] in
                defer { finished.add(1, ordering: .releasing) }
                var fd: Int32 = -1
                var reader: HTTPProbe.ResponseReader?
                while Date() < end {
                    do {
                        if fd < 0 {
                            fd = try HTTPProbe.connect(port: port)
                            reader = HTTPProbe.ResponseReader(fd: fd)
                        }
                        try HTTPProbe.sendAll(fd, request)
                        guard let response = try reader?.next() else { throw BenchFailure("closed") }
                        if response.status == 200 { completed.add(1, ordering: .relaxed) } else { failed.add(1, ordering: .relaxed) }
                    } catch {
                        failed.add(1, ordering: .relaxed)
                        if fd >= 0 { close(fd) }
                        fd = -1
                    }
                }
                if fd >= 0 { close(fd) }
            }
            thread.start()
        }
        while finished.load(ordering: .acquiring) < connections { usleep(10_000) }
        let elapsed = Date().timeIntervalSince(start)
        return Outcome(requestsPerSecond: Double(completed.load(ordering: .relaxed)) / elapsed, errors: failed.load(ordering: .relaxed))
    }
}

/// Opens many SSE streams through nginx, emits events one at a time, and measures for every stream
/// and event the time from the emitting transaction's commit to the event's arrival.
///
/// The reader is one thread waiting on every stream with epoll (its cost follows the streams that
/// have data, not the streams open: with `poll` over a thousand sockets the reader used as much CPU
/// as nginx, on the same two cores, and its own work counted as relay latency). It parses bytes in
/// place, and stamps a batch of arrivals with the time `epoll_wait` returned.
struct SSELatency {
    let bench: BenchEnvironment
    let planID: UUID
    let streams: Int
    let events: Int

    struct Outcome {
        var connected: Int
        var deliveries: Int
        var missing: Int
        var p50: Double
        var p99: Double
        var max: Double
    }

    /// What one stream has shown so far: the start of a line not yet complete, and whether the
    /// head and `retry:` have arrived.
    struct StreamState {
        var partial: [UInt8] = []
        var headerDone = false
    }

    func run() throws -> Outcome {
        let path = "/api/v1/masterplans/\(planID.uuidString.lowercased())/events"
        var sockets: [Int32] = []
        defer { sockets.forEach { close($0) } }
        let epoll = try Epoll()
        for index in 0..<streams {
            let fd = try HTTPProbe.connect(port: bench.port)
            sockets.append(fd)
            try HTTPProbe.sendAll(fd, Array("GET \(path) HTTP/1.0\r\nHost: bench\r\nAuthorization: Bearer \(bench.token)\r\n\r\n".utf8))
            try epoll.add(fd, tag: UInt64(index))
        }
        var states = [StreamState](repeating: StreamState(), count: sockets.count)
        var scratch = [UInt8](repeating: 0, count: 65536)
        var ready: [UInt64] = []
        var arrivals: [(stream: Int, id: Int64)] = []
        let clock = ContinuousClock()

        // Reads whatever arrived on the streams epoll reports; fills `arrivals` with the streams that
        // completed an `id:` line, and returns when epoll_wait returned.
        func readReady(timeoutMS: Int32) -> ContinuousClock.Instant {
            arrivals.removeAll(keepingCapacity: true)
            epoll.wait(into: &ready, timeoutMS: timeoutMS)
            let now = clock.now
            for tag in ready {
                let index = Int(tag)
                while true {
                    let got = scratch.withUnsafeMutableBytes { recv(sockets[index], $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) }
                    guard got > 0 else { break }
                    scan(scratch, count: got, stream: index)
                    if got < scratch.count { break }
                }
            }
            return now
        }

        // Splits the bytes into lines (the first joined to what was left of the last read).
        func scan(_ bytes: [UInt8], count: Int, stream index: Int) {
            var lineStart = 0
            for position in 0..<count where bytes[position] == 10 {
                if states[index].partial.isEmpty {
                    line(bytes[lineStart..<position], stream: index)
                } else {
                    states[index].partial += bytes[lineStart..<position]
                    let joined = states[index].partial
                    states[index].partial.removeAll()
                    line(joined[...], stream: index)
                }
                lineStart = position + 1
            }
            if lineStart < count { states[index].partial += bytes[lineStart..<count] }
        }

        func line(_ text: ArraySlice<UInt8>, stream index: Int) {
            let start = text.startIndex
            if text.count >= 6 && text[start] == UInt8(ascii: "r") && text.starts(with: "retry:".utf8) {
                states[index].headerDone = true
                return
            }
            guard text.count > 4, text[start] == UInt8(ascii: "i"), text[start + 1] == UInt8(ascii: "d"),
                  text[start + 2] == UInt8(ascii: ":") else { return }
            var id: Int64 = 0
            for digit in text[(start + 4)...] where digit >= 48 && digit <= 57 { id = id * 10 + Int64(digit - 48) }
            arrivals.append((index, id))
        }

        // Every stream has its head and retry: line before the first event is sent.
        let openDeadline = Date().addingTimeInterval(60)
        while states.contains(where: { !$0.headerDone }) && Date() < openDeadline { _ = readReady(timeoutMS: 100) }
        let connected = states.filter(\.headerDone).count

        let db = try Connection(bench.conninfo)
        var latencies: [Double] = []
        latencies.reserveCapacity(connected * events)
        var waiting = [Bool](repeating: false, count: sockets.count)
        for sequence in 0..<events {
            let id = try bench.emit(planID: planID, sequence: sequence, on: db)
            let committed = clock.now
            var left = 0
            for index in sockets.indices where states[index].headerDone {
                waiting[index] = true
                left += 1
            }
            let deadline = Date().addingTimeInterval(5)
            while left > 0 && Date() < deadline {
                let at = readReady(timeoutMS: 50)
                for arrival in arrivals where arrival.id == id && waiting[arrival.stream] {
                    let elapsed = at - committed
                    latencies.append(Double(elapsed.components.seconds) * 1e3 + Double(elapsed.components.attoseconds) / 1e15)
                    waiting[arrival.stream] = false
                    left -= 1
                }
            }
            for index in waiting.indices { waiting[index] = false }
        }
        latencies.sort()
        func percentile(_ p: Double) -> Double {
            latencies.isEmpty ? .infinity : latencies[min(latencies.count - 1, Int(Double(latencies.count) * p))]
        }
        return Outcome(connected: connected, deliveries: latencies.count, missing: connected * events - latencies.count,
                       p50: percentile(0.50), p99: percentile(0.99), max: latencies.last ?? .infinity)
    }
}

/// A level-triggered epoll set of sockets, each with a tag. Swift's Glibc module does not show
/// `sys/epoll.h`, so the three calls are looked up with `dlsym` and `struct epoll_event` is laid
/// out by hand (packed on x86-64: 4 bytes of events, 8 of data; 16 bytes elsewhere).
final class Epoll {
    private typealias Create = @convention(c) (Int32) -> Int32
    private typealias Control = @convention(c) (Int32, Int32, Int32, UnsafeMutableRawPointer?) -> Int32
    private typealias Wait = @convention(c) (Int32, UnsafeMutableRawPointer?, Int32, Int32) -> Int32

    #if arch(x86_64)
    private static let eventSize = 12
    private static let dataOffset = 4
    #else
    private static let eventSize = 16
    private static let dataOffset = 8
    #endif
    private static let add: Int32 = 1           // EPOLL_CTL_ADD
    private static let readable: UInt32 = 0x001 // EPOLLIN
    private static let closeOnExec: Int32 = 0o2000000 // EPOLL_CLOEXEC

    private let fd: Int32
    private let control: Control
    private let waitCall: Wait
    private var buffer = [UInt8](repeating: 0, count: 1024 * 16)

    init() throws {
        guard let create = dlsym(nil, "epoll_create1"), let control = dlsym(nil, "epoll_ctl"),
              let wait = dlsym(nil, "epoll_wait") else { throw BenchFailure("epoll is not available") }
        self.control = unsafeBitCast(control, to: Control.self)
        waitCall = unsafeBitCast(wait, to: Wait.self)
        fd = unsafeBitCast(create, to: Create.self)(Self.closeOnExec)
        guard fd >= 0 else { throw BenchFailure("epoll_create1 failed: \(String(cString: strerror(errno)))") }
    }

    deinit { close(fd) }

    /// Watches `socket` for input, reported with `tag`. Calls `epoll_ctl(EPOLL_CTL_ADD)`.
    func add(_ socket: Int32, tag: UInt64) throws {
        var event = [UInt8](repeating: 0, count: Self.eventSize)
        event.withUnsafeMutableBytes { raw in
            raw.storeBytes(of: Self.readable, toByteOffset: 0, as: UInt32.self)
            raw.storeBytes(of: tag, toByteOffset: Self.dataOffset, as: UInt64.self)
        }
        let result = event.withUnsafeMutableBytes { control(fd, Self.add, socket, $0.baseAddress) }
        guard result == 0 else { throw BenchFailure("epoll_ctl failed: \(String(cString: strerror(errno)))") }
    }

    /// Waits up to `timeoutMS` and replaces `tags` with those of the sockets that have input.
    func wait(into tags: inout [UInt64], timeoutMS: Int32) {
        tags.removeAll(keepingCapacity: true)
        let capacity = Int32(buffer.count / Self.eventSize)
        let count = buffer.withUnsafeMutableBytes { waitCall(fd, $0.baseAddress, capacity, timeoutMS) }
        guard count > 0 else { return }
        buffer.withUnsafeBytes { raw in
            for slot in 0..<Int(count) {
                tags.append(raw.loadUnaligned(fromByteOffset: slot * Self.eventSize + Self.dataOffset, as: UInt64.self))
            }
        }
    }
}
