import API
import Base
import Foundation
import JSON
import Postgres
import Store
import TestSupport

/// The built `masterplan` binary — `serve api` and `serve events` — behind a real nginx that
/// includes the shipped `nginx/masterplan-locations.conf` and logs in the shipped format of
/// `nginx/masterplan-log.conf` (to `nginx/access.log` in the stack's folder), on a private
/// database: what a user meets.
final class APIStack: @unchecked Sendable {
    // Every stored property is set once in init; the processes are only signalled and polled.

    struct Options {
        var workers = 2
        var maxRequests = 0
        var heartbeatSeconds = 15
        var gracefulTimeoutSeconds = 30
        /// Login attempts a minute per address; the shipped site says 10, the tests log in a lot.
        var loginRatePerMinute = 6000
        /// The API's own login throttle (`MASTERPLAN_LOGIN_*`). Every test client is 127.0.0.1, and
        /// some tests fail logins on purpose: by default it lets a million failures through.
        var loginThrottle: [String: String] = ["MASTERPLAN_LOGIN_ACCOUNT_FAILURES": "1000000",
                                               "MASTERPLAN_LOGIN_ADDRESS_FAILURES": "1000000"]
        /// More `server` directives for nginx, before the shipped locations (test-only locations).
        var nginxServerExtra = ""
    }

    let folder: TemporaryFolder
    let conninfo: String
    let secret: String
    let environment: [String: String]
    let api: BackgroundProcess
    let relay: BackgroundProcess
    let nginx: NginxProcess
    var port: UInt16 { nginx.port }
    var apiSocket: String { folder.file("api.sock") }

    /// A low PBKDF2 cost for the tests' own users (explicitly: production hashes use 600,000).
    static let testHasher = PasswordHasher(testIterations: 1_000)

    init(_ options: Options = Options()) throws {
        folder = try TemporaryFolder(prefix: "mpapi")
        conninfo = try TestDatabase.migrated()
        secret = "end-to-end-secret-" + UUID().uuidString
        environment = [
            "MASTERPLAN_DATABASE_URL": conninfo,
            "MASTERPLAN_JWT_SECRET": secret,
            "MASTERPLAN_MIGRATIONS_DIR": TestDatabase.migrationsDirectory,
        ].merging(options.loginThrottle) { _, throttle in throttle }
        let binary = MasterplanBinary.path
        guard FileManager.default.isExecutableFile(atPath: binary) else {
            throw TestFailure("the masterplan binary is not at \(binary): build it with swift build --build-tests")
        }
        api = try BackgroundProcess(binary, ["serve", "api", "--socket", folder.file("api.sock"),
                                             "--workers", String(options.workers), "--max-requests", String(options.maxRequests),
                                             "--graceful-timeout", String(options.gracefulTimeoutSeconds)],
                                    environment: environment, outputPath: folder.file("api.log"))
        relay = try BackgroundProcess(binary, ["serve", "events", "--socket", folder.file("events.sock"),
                                               "--heartbeat", String(options.heartbeatSeconds)],
                                      environment: environment, outputPath: folder.file("events.log"))
        let staticRoot = try folder.folder("static")
        try "<!doctype html><title>MasterPlan</title>".write(toFile: staticRoot + "/index.html", atomically: false, encoding: .utf8)
        do {
            try Self.waitForSocket(folder.file("api.sock"), of: api)
            try Self.waitForSocket(folder.file("events.sock"), of: relay)
            let nginxPrefix = try folder.folder("nginx")
            nginx = try NginxProcess(prefix: nginxPrefix, http: """
                include \(TestDatabase.repositoryRoot)/nginx/masterplan-log.conf;
                upstream masterplan_api { server unix:\(folder.file("api.sock")); }
                upstream masterplan_events { server unix:\(folder.file("events.sock")); }
                limit_req_zone $binary_remote_addr zone=masterplan_login:1m rate=\(options.loginRatePerMinute)r/m;
                server {
                    listen 127.0.0.1:{{PORT}};
                    access_log \(nginxPrefix)/access.log masterplan;
                    root \(staticRoot);
                    \(options.nginxServerExtra)
                    include \(TestDatabase.repositoryRoot)/nginx/masterplan-locations.conf;
                }
                """)
        } catch {
            api.stop()
            relay.stop()
            throw TestFailure("\(error)\napi: \(api.output)\nrelay: \(relay.output)")
        }
    }

    /// Stops nginx, the relay and the pool (by PID) and removes the folder.
    func stop() {
        nginx.stop()
        relay.stop(SIGTERM)
        api.stop(SIGTERM)
        folder.remove()
    }

    /// What the servers logged, for failure messages.
    var logs: String { "api:\n\(api.output.suffix(3000))\nrelay:\n\(relay.output.suffix(2000))\nnginx:\n\(nginx.log.suffix(1000))" }

    static func waitForSocket(_ path: String, of process: BackgroundProcess) throws {
        let deadline = Date().addingTimeInterval(20)
        while Date() < deadline {
            if let status = process.poll() { throw TestFailure("\(path): the server exited with status \(status): \(process.output)") }
            if UnixSocketAddress.accepts(path) { return }
            usleep(20_000)
        }
        throw TestFailure("nothing accepts on \(path) after 20 s: \(process.output)")
    }

    // MARK: - Users and requests

    /// A database connection of the test's own.
    func database() throws -> Connection { try Connection(conninfo) }

    /// Creates a user with a (cheap) password hash; returns the user's id.
    @discardableResult
    func addUser(_ email: String, password: String = "correct horse battery", role: String = "member") throws -> UUID {
        try UserStore(try database()).create(email: email, passwordHash: Self.testHasher.hash(password), role: role).id
    }

    /// Logs in through nginx and returns the access token.
    func login(_ email: String, password: String = "correct horse battery") throws -> String {
        let response = try call("POST", "/api/v1/auth/login", json: ["email": .string(email), "password": .string(password)])
        guard response.status == 200, let token = response.json?["access_token"]?.stringValue else {
            throw TestFailure("login of \(email) failed: \(response.status) \(response.text)\n\(logs)")
        }
        return token
    }

    /// A new user, logged in: (id, token).
    func user(_ name: String = "user", role: String = "member") throws -> (id: UUID, token: String) {
        let email = "\(name)-\(UUID().uuidString.prefix(8).lowercased())@example.org"
        let id = try addUser(email, role: role)
        return (id, try login(email))
    }

    /// One request through nginx.
    func call(_ method: String, _ path: String, token: String? = nil, json: JSONValue? = nil, body: [UInt8]? = nil,
              headers: [(String, String)] = []) throws -> APIResponse {
        let connection = try HTTPConnection(port: port)
        defer { connection.close() }
        var all = headers
        if let token { all.append(("Authorization", "Bearer \(token)")) }
        var bytes = body ?? []
        if let json {
            bytes = try json.serializedBytes()
            all.append(("Content-Type", "application/json"))
        }
        try connection.send(method, path, headers: all, body: bytes)
        return APIResponse(try connection.readResponse())
    }
}

/// A response with its JSON body parsed (when it is JSON).
struct APIResponse {
    var status: Int
    var headers: [String: String]
    var body: [UInt8]
    var json: JSONValue?

    init(_ response: HTTPConnection.Response) {
        status = response.status
        headers = response.headers
        body = response.body
        let type = response.headers["content-type"] ?? ""
        json = type.contains("json") ? try? JSONValue.parse(response.body) : nil
    }

    var text: String { String(decoding: body, as: UTF8.self) }

    /// The problem's short type (after the base URI), for error responses.
    var problemType: String? {
        json?["type"]?.stringValue.map { String($0.dropFirst(Problem.typeBase.count)) }
    }

    subscript(key: String) -> JSONValue? { json?[key] }
}


/// One stack shared by the end-to-end suites that do not stop or kill its processes; stopped when
/// the test process exits.
enum SharedStack {
    private static let started: Result<APIStack, any Error> = {
        do {
            let stack = try APIStack()
            atexit { SharedStack.shutdown() }
            return .success(stack)
        } catch {
            return .failure(error)
        }
    }()

    static func get() throws -> APIStack { try started.get() }

    static func shutdown() {
        if case .success(let stack) = started { stack.stop() }
    }
}

extension APIStack {
    /// Runs `masterplan ARGUMENTS` against this stack's database with `input` on standard input;
    /// (status, output).
    func masterplan(_ arguments: [String], input: String = "") throws -> (status: Int32?, output: String) {
        let inputPath = folder.file("stdin-\(UUID().uuidString)")
        try input.write(toFile: inputPath, atomically: false, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: inputPath) }
        let process = try BackgroundProcess(MasterplanBinary.path, arguments, environment: ["MASTERPLAN_DATABASE_URL": conninfo],
                                            outputPath: folder.file("cli-\(UUID().uuidString).out"), inputPath: inputPath)
        let status = process.waitForExit(seconds: 60)
        return (status, process.output)
    }
}
