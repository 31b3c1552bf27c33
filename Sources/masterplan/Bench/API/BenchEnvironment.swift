import API
import Base
import Foundation
import JSON
import PlanCore
import Postgres
import Store

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
        while (try? LoopbackHTTP.request(port: port, path: "/index.html", timeout: .seconds(2))) == nil {
            guard Date() < deadline else { throw BenchFailure("nginx did not start: \(log("nginx"))") }
            usleep(20_000)
        }
        let login = try LoopbackHTTP.request(port: port, method: "POST", path: "/api/v1/auth/login",
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
        return ProcessStat.children(of: api).compactMap(Self.rssKilobytes)
    }

    /// CPU time (user + system) so far of the relay, of nginx's workers, and of this process.
    func cpuSeconds() -> (relay: Double, nginx: Double, reader: Double) {
        let relay = children.first(where: { $0.name == "events" }).map { ProcessStat.cpuSeconds($0.pid) } ?? 0
        let nginx = children.first(where: { $0.name == "nginx" }).map { ProcessStat.children(of: $0.pid).map(ProcessStat.cpuSeconds).reduce(0, +) } ?? 0
        return (relay, nginx, ProcessStat.cpuSeconds(getpid()))
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
        let program: RunningProgram
        do {
            program = try SpawnedProgram(executable: executable, arguments: arguments, environment: environment,
                                         output: .file(folder + "/\(name).log", append: true), newProcessGroup: false).start()
        } catch {
            throw BenchFailure(error.description)
        }
        // Stopped and reaped by its PID in `stop()`.
        let pid = program.pid
        children.append((name, pid))
    }

    private func waitFor(socket path: String) throws {
        let deadline = Date().addingTimeInterval(20)
        while !FileManager.default.fileExists(atPath: path) {
            guard Date() < deadline else { throw BenchFailure("\(path) did not appear: \(log("api")) \(log("events"))") }
            usleep(20_000)
        }
    }

    /// VmRSS of the process, in kilobytes.
    static func rssKilobytes(_ pid: pid_t) -> Int? {
        ProcessStat.status(of: String(pid))["VmRSS"].map { Int(($0 * 1024).rounded()) }
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
