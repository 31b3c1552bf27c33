import Base
import Foundation
import JSON
import Store
import Testing
import TestSupport

/// `masterplan up`, run as a newcomer runs it: the built binary in the background, spoken to over
/// HTTP through the nginx it started, then stopped with Ctrl-C (SIGINT).
@Suite(.dedicatedThreads, .serialized) struct UpCommandTests {
    /// The bundled demo cassette in the checkout; while it is not written yet, a one-line cassette
    /// stands in (passed with --demo-cassette), so the rest of `up` is still tested.
    static let bundledDemoCassette = TestDatabase.repositoryRoot + "/Sources/LLM/Resources/demo/fastapi-jwt.jsonl"

    /// One `masterplan up` in the background and what it printed.
    final class Run {
        let process: BackgroundProcess
        let port: UInt16

        init(folder: TemporaryFolder, dataDirectory: String, name: String, cassette: String? = nil) throws {
            port = try LoopbackPort.free()
            var arguments = ["up", "--port", String(port), "--data-dir", dataDirectory, "--workers", "2"]
            if let cassette {
                arguments += ["--demo-cassette", cassette]
            } else if !FileManager.default.fileExists(atPath: UpCommandTests.bundledDemoCassette) {
                let cassette = folder.file("tiny-cassette.jsonl")
                try #"{"purpose": "chat", "key": "*", "response": "Hello from the tiny cassette.", "model": "tiny-demo"}"#
                    .appending("\n").write(toFile: cassette, atomically: true, encoding: .utf8)
                arguments += ["--demo-cassette", cassette]
            }
            // Exactly this environment (plus PATH): no database URL, no model, no secret from the caller.
            process = try BackgroundProcess(MasterplanBinary.path, arguments,
                                            environment: ["HOME": folder.path, "LANG": "C.UTF-8"],
                                            outputPath: folder.file("\(name).out"))
        }

        var output: String { process.output }

        /// Waits for "Ctrl-C stops everything." (the stack is ready), failing if `up` exits first.
        func waitUntilReady(seconds: Double = 240) throws {
            let deadline = Date().addingTimeInterval(seconds)
            while Date() < deadline {
                if output.contains("Ctrl-C stops everything.") { return }
                if let status = process.poll() { throw TestFailure("masterplan up exited with \(status) before it was ready:\n\(output)") }
                usleep(100_000)
            }
            throw TestFailure("masterplan up was not ready within \(Int(seconds)) s:\n\(output)")
        }

        /// The PIDs on the "running" line ("API pool 123, events relay 124, …, postgres 120").
        var printedPIDs: [String: pid_t] {
            guard let line = output.split(separator: "\n").first(where: { $0.hasPrefix("  running ") }) else { return [:] }
            var pids: [String: pid_t] = [:]
            for entry in line.dropFirst("  running ".count).split(separator: ",") {
                let words = entry.trimmingCharacters(in: .whitespaces).split(separator: " ")
                if let pid = words.last.flatMap({ pid_t($0) }) { pids[words.dropLast().joined(separator: " ")] = pid }
            }
            return pids
        }

        func request(_ method: String, _ path: String, token: String? = nil, json: JSONValue? = nil) throws -> HTTPConnection.Response {
            let connection = try HTTPConnection(port: port)
            defer { connection.close() }
            var headers: [(String, String)] = []
            if let token { headers.append(("Authorization", "Bearer \(token)")) }
            var body: [UInt8] = []
            if let json {
                body = try json.serializedBytes()
                headers.append(("Content-Type", "application/json"))
            }
            try connection.send(method, path, headers: headers, body: body)
            return try connection.readResponse()
        }

        /// SIGINT; the exit status (nil if it did not exit within `seconds`, after which it is killed).
        func interrupt(seconds: Double = 120) -> Int32? {
            process.send(SIGINT)
            if let status = process.waitForExit(seconds: seconds) { return status }
            process.stop(SIGKILL, seconds: 5)
            return nil
        }
    }

    /// Processes whose command line mentions `text` (e.g. a postgres serving the data folder).
    static func processes(mentioning text: String) -> [String] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap { entry -> String? in
            guard let pid = Int32(entry), pid != getpid(),
                  let data = FileManager.default.contents(atPath: "/proc/\(entry)/cmdline") else { return nil }
            let command = String(decoding: data.map { $0 == 0 ? 32 : $0 }, as: UTF8.self)
            return command.contains(text) ? "\(pid): \(command)" : nil
        }
    }

    static func isAlive(_ pid: pid_t) -> Bool {
        guard kill(pid, 0) == 0 else { return false }
        // A zombie is gone for our purposes (its parent has not reaped it yet).
        let stat = (try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)) ?? ""
        guard let close = stat.lastIndex(of: ")") else { return false }
        return !stat[stat.index(after: close)...].hasPrefix(" Z")
    }

    /// Checks that nothing of the stack is left: no printed PID alive, no process naming the data folder.
    static func expectNothingLeft(_ run: Run, dataDirectory: String) {
        let pids = run.printedPIDs
        #expect(pids.count >= 5, "the running line names too few processes:\n\(run.output)")
        for (name, pid) in pids {
            #expect(!isAlive(pid), "\(name) (pid \(pid)) is still running after up exited")
        }
        // A box's bwrap ends when the process that started it dies (PR_SET_PDEATHSIG), a moment later;
        // one started just as its parent was killed misses that signal (bwrap sets it after it starts),
        // and ends by its own limits instead: a containment probe's alarm is 20 s.
        var left = processes(mentioning: dataDirectory)
        for _ in 0..<250 where !left.isEmpty {
            usleep(100_000)
            left = processes(mentioning: dataDirectory)
        }
        #expect(left.isEmpty, "processes of the data folder are left: \(left)")
        #expect(!FileManager.default.fileExists(atPath: dataDirectory + "/postgres/data/postmaster.pid"),
                "PostgreSQL of the data folder is still running")
    }

    @Test func upServesTheUIAndTheAPIWithTheDemoModelAndCtrlCStopsEverything() throws {
        let folder = try TemporaryFolder(prefix: "mpup")
        defer { folder.remove() }
        let dataDirectory = folder.file("data")
        let run = try Run(folder: folder, dataDirectory: dataDirectory, name: "first")
        defer { if run.process.isRunning { _ = run.interrupt() } }
        try run.waitUntilReady()
        let output = run.output
        #expect(output.contains("A SCRIPTED DEMO MODEL is answering"), "\(output)")
        #expect(output.contains("ready: open http://127.0.0.1:\(run.port)/"))
        #expect(output.contains("\(dataDirectory)/logs/"))

        // The admin's password, printed once.
        let passwordLine = try #require(output.split(separator: "\n").first { $0.contains("password: ") }, "\(output)")
        let password = String(passwordLine.split(separator: " ").last!)
        let secretMode = try FileManager.default.attributesOfItem(atPath: dataDirectory + "/jwt-secret")[.posixPermissions] as? Int
        #expect(secretMode == 0o600)

        // Log in through nginx; /me and readiness say that a demo model answers.
        let login = try run.request("POST", "/api/v1/auth/login", json: ["email": "admin@localhost", "password": .string(password)])
        #expect(login.status == 200, "\(login.text)")
        let token = try #require(try JSONValue.parse(login.body)["access_token"]?.stringValue)
        let me = try JSONValue.parse(try run.request("GET", "/api/v1/me", token: token).body)
        #expect(me["role"]?.stringValue == "admin")
        #expect(me["demo_model"]?.boolValue == true, "\(me)")
        #expect(me["model"]?.stringValue?.isEmpty == false)
        let ready = try run.request("GET", "/api/v1/health/ready")
        #expect(ready.status == 200)
        #expect(try JSONValue.parse(ready.body)["demo_model"]?.boolValue == true)

        // The review UI: index.html at /, ES modules as JavaScript, revalidated on every load.
        let index = try run.request("GET", "/")
        #expect(index.status == 200)
        #expect(index.headers["content-type"]?.hasPrefix("text/html") == true)
        #expect(index.text == (try String(contentsOfFile: TestDatabase.repositoryRoot + "/static/index.html", encoding: .utf8)))
        let module = try run.request("GET", "/js/main.js")
        #expect(module.status == 200)
        #expect(module.headers["content-type"] == "application/javascript", "\(module.headers)")
        #expect(module.headers["cache-control"] == "no-cache")
        #expect(try run.request("GET", "/metrics").status == 200)

        // The sockets' folder is the stack's and nginx's workers' alone: the sandbox's user (nobody)
        // cannot connect to the API even knowing the path.
        var info = stat()
        #expect(stat(dataDirectory + "/run", &info) == 0 && info.st_mode & 0o007 == 0, "mode \(String(info.st_mode & 0o777, radix: 8))")
        if geteuid() == 0 {
            let probe = "import socket, sys\ns = socket.socket(socket.AF_UNIX)\ntry:\n    s.connect(sys.argv[1]); print('LEAK')\n"
                + "except OSError as e:\n    print('refused', e.errno)\n"
            let outcome = try ChildProcess.run("/usr/bin/setpriv", ["--reuid=65534", "--regid=65534", "--clear-groups", "--",
                                                                   "/usr/bin/python3", "-c", probe, dataDirectory + "/run/api.sock"],
                                               outputPath: folder.file("probe.out"))
            #expect(outcome.output.hasPrefix("refused 13"), "\(outcome.output)")
        }

        // Ctrl-C: exit 0, nothing left behind.
        #expect(run.interrupt() == 0, "\(run.output)")
        #expect(run.output.contains("stopped: every process of this stack has exited"), "\(run.output)")
        Self.expectNothingLeft(run, dataDirectory: dataDirectory)

        // A second run on the same folder: the admin exists, no new password is printed.
        let again = try Run(folder: folder, dataDirectory: dataDirectory, name: "second")
        defer { if again.process.isRunning { _ = again.interrupt() } }
        try again.waitUntilReady()
        #expect(again.output.contains("admin@localhost exists"), "\(again.output)")
        #expect(!again.output.contains("password: "))
        #expect(again.output.contains("masterplan user passwd admin@localhost"))
        let relogin = try again.request("POST", "/api/v1/auth/login", json: ["email": "admin@localhost", "password": .string(password)])
        #expect(relogin.status == 200, "the password of the first run must still work: \(relogin.text)")
        // Regression: the second run read the demo model's port from the first run's line of the
        // appended log, and every model call failed. The model answers a chat message.
        let token2 = try #require(try JSONValue.parse(relogin.body)["access_token"]?.stringValue)
        try Self.expectAChatReply(again, token: token2)
        #expect(again.interrupt() == 0, "\(again.output)")
        Self.expectNothingLeft(again, dataDirectory: dataDirectory)
    }

    /// Posts a chat message and waits for the demo model's reply (through the executor).
    static func expectAChatReply(_ run: Run, token: String) throws {
        let created = try run.request("POST", "/api/v1/conversations", token: token, json: ["title": "hello"])
        #expect(created.status == 201, "\(created.text)")
        let conversation = try #require(try JSONValue.parse(created.body)["id"]?.stringValue)
        let posted = try run.request("POST", "/api/v1/conversations/\(conversation)/messages", token: token, json: ["content": "hello"])
        #expect(posted.status == 202, "\(posted.text)")
        var reply: String?
        let deadline = Date().addingTimeInterval(60)
        while reply == nil && Date() < deadline {
            usleep(200_000)
            let body = try JSONValue.parse(try run.request("GET", "/api/v1/conversations/\(conversation)", token: token).body)
            reply = body["messages"]?.arrayValue?.first { $0["role"]?.stringValue == "assistant" }?["content"]?.stringValue
        }
        #expect(reply?.isEmpty == false, "no reply from the demo model within 60 s:\n\(run.output)")
    }

    @Test func aChildThatDiesIsStartedAgainAndUpSaysSo() throws {
        let folder = try TemporaryFolder(prefix: "mpup")
        defer { folder.remove() }
        let dataDirectory = folder.file("data")
        let run = try Run(folder: folder, dataDirectory: dataDirectory, name: "crash")
        defer { if run.process.isRunning { _ = run.interrupt() } }
        try run.waitUntilReady()
        let executor = try #require(run.printedPIDs["executor"], "\(run.output)")
        let model = try #require(run.printedPIDs["demo model (replay-llm)"], "\(run.output)")
        kill(executor, SIGKILL)
        kill(model, SIGKILL)
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline && !(run.output.contains("restarted the executor") && run.output.contains("restarted the demo model")) {
            usleep(200_000)
        }
        #expect(run.output.contains("the executor (pid \(executor)) was killed by signal 9 unexpectedly; restarting it in 1 s"), "\(run.output)")
        #expect(run.output.contains("restarted the executor (pid "), "\(run.output)")
        #expect(run.output.contains("restarted the demo model (replay-llm) (pid "), "\(run.output)")
        #expect(run.process.isRunning)
        // The restarted executor and model work together: a chat message gets its reply.
        let password = String(try #require(run.output.split(separator: "\n").first { $0.contains("password: ") }).split(separator: " ").last!)
        let login = try run.request("POST", "/api/v1/auth/login", json: ["email": "admin@localhost", "password": .string(password)])
        let token = try #require(try JSONValue.parse(login.body)["access_token"]?.stringValue, "\(login.text)")
        try Self.expectAChatReply(run, token: token)
        #expect(run.interrupt() == 0, "\(run.output)")
        Self.expectNothingLeft(run, dataDirectory: dataDirectory)
    }

    @Test func aRunAfterUpWasKilledStopsWhatTheKilledOneLeftAndStarts() throws {
        let folder = try TemporaryFolder(prefix: "mpup")
        defer { folder.remove() }
        let dataDirectory = folder.file("data")
        let killed = try Run(folder: folder, dataDirectory: dataDirectory, name: "killed")
        defer { if killed.process.isRunning { _ = killed.interrupt() } }
        try killed.waitUntilReady()
        #expect(killed.process.stop(SIGKILL, seconds: 10) == 128 + SIGKILL)
        let orphans = killed.printedPIDs
        #expect(orphans.values.contains(where: Self.isAlive), "SIGKILL of up should leave its children running")

        let next = try Run(folder: folder, dataDirectory: dataDirectory, name: "next")
        defer { if next.process.isRunning { _ = next.interrupt() } }
        try next.waitUntilReady()
        #expect(next.output.contains("a previous masterplan up of this folder left"),
                "\(next.output)")
        for (name, pid) in orphans { #expect(!Self.isAlive(pid), "\(name) (pid \(pid)) of the killed run still runs") }
        #expect(next.interrupt() == 0, "\(next.output)")
        Self.expectNothingLeft(next, dataDirectory: dataDirectory)
    }

    @Test func aTakenPortIsRefusedInOneLineAndNothingIsLeftRunning() throws {
        let folder = try TemporaryFolder(prefix: "mpup")
        defer { folder.remove() }
        // Something already listens on the port.
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(listener) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        _ = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        listen(listener, 1)
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(listener, $0, &length) } }
        let port = UInt16(bigEndian: address.sin_port)

        let outcome = try MasterplanBinary.run(["up", "--port", String(port), "--data-dir", folder.file("data")],
                                               environment: ["HOME": folder.path])
        #expect(outcome.status == 1)
        #expect(outcome.output.contains("127.0.0.1:\(port) is already taken"), "\(outcome.output)")
        #expect(Self.processes(mentioning: folder.path).isEmpty)
    }
}
