import API
import Foundation
import JSON
import Postgres
import Testing
import TestSupport

/// The API's own login throttle: it holds without nginx — requests here go
/// straight to the worker socket, with the client address in REMOTE_ADDR as nginx would pass it —
/// and behind nginx for every form of the login path. Serialized: the suite's waits are measured
/// from the answers, and other suites' logins must not hold the workers between them.
@Suite(.dedicatedThreads, .serialized) struct LoginThrottleEndToEndTests {
    /// 5 failures per account, 12 per address, then 8 s doubling to 60 s, within 300 s.
    static let settings = ["MASTERPLAN_LOGIN_ACCOUNT_FAILURES": "5", "MASTERPLAN_LOGIN_ADDRESS_FAILURES": "12",
                           "MASTERPLAN_LOGIN_WINDOW_SECONDS": "300", "MASTERPLAN_LOGIN_BACKOFF_SECONDS": "8",
                           "MASTERPLAN_LOGIN_BACKOFF_MAX_SECONDS": "60"]

    static let password = "correct horse battery"

    /// A login sent to the worker socket directly (no nginx).
    func direct(_ email: String, _ password: String, from address: String, forwardedFor: String? = nil) throws -> LoginAnswer {
        let stack = try ThrottleStack.shared()
        let body = try JSONValue.object(["email": .string(email), "password": .string(password)]).serializedBytes()
        var params = [("REQUEST_METHOD", "POST"), ("DOCUMENT_URI", "/api/v1/auth/login"), ("REQUEST_URI", "/api/v1/auth/login"),
                      ("QUERY_STRING", ""), ("CONTENT_TYPE", "application/json"), ("CONTENT_LENGTH", String(body.count)),
                      ("REMOTE_ADDR", address), ("SERVER_PROTOCOL", "HTTP/1.1")]
        if let forwardedFor { params.append(("HTTP_X_FORWARDED_FOR", forwardedFor)) }
        let response = try FastCGIDirectClient.request(socket: stack.apiSocket, params: params, body: body, sendBodyBytes: body.count)
        return LoginAnswer(status: response.status, headers: response.headers, json: try? JSONValue.parse(response.body))
    }

    /// A login through nginx, from `source` (a 127.x.y.z address: nginx's REMOTE_ADDR), at `path`.
    func throughNginx(_ email: String, _ password: String, from source: String, path: String) throws -> LoginAnswer {
        let stack = try ThrottleStack.shared()
        let connection = try HTTPConnection(port: stack.port, sourceAddress: source)
        defer { connection.close() }
        let body = try JSONValue.object(["email": .string(email), "password": .string(password)]).serializedBytes()
        try connection.send("POST", path, headers: [("Content-Type", "application/json")], body: body)
        let response = try connection.readResponse()
        return LoginAnswer(status: response.status, headers: response.headers, json: try? JSONValue.parse(response.body))
    }

    func newUser(_ name: String) throws -> String {
        let email = "\(name)-\(UUID().uuidString.prefix(8).lowercased())@example.org"
        try ThrottleStack.shared().addUser(email, password: Self.password)
        return email
    }

    func attempts(_ condition: String, _ parameters: [any PostgresBindable]) throws -> Int {
        try ThrottleStack.shared().database().query("SELECT count(*) FROM login_attempts WHERE \(condition)", parameters)
            .first!.decode(Int.self, 0)
    }

    /// Checks a refusal: 429 problem+json with the same wait in `Retry-After` and the body; returns it.
    @discardableResult
    func expectRefused(_ answer: LoginAnswer, _ what: String) -> Int? {
        #expect(answer.status == 429, "\(what): \(answer.status) \(answer.json.map { "\($0)" } ?? "")")
        #expect(answer.headers["content-type"] == "application/problem+json")
        #expect(answer.type == "too-many-login-attempts", "\(what)")
        guard let header = answer.headers["retry-after"], let seconds = Int(header) else {
            Issue.record("\(what): no Retry-After in seconds")
            return nil
        }
        #expect(answer.json?["retry_after_seconds"]?.intValue == Int64(seconds))
        return seconds
    }

    @Test func aFloodOfWrongLoginsIsRefusedBeforeThePasswordIsChecked() throws {
        let victim = try newUser("flood")
        let bystander = try newUser("bystander")
        var answers: [LoginAnswer] = []
        for _ in 0..<20 { answers.append(try direct(victim, "guess", from: "10.1.0.1")) }
        #expect(answers.map(\.status) == Array(repeating: 401, count: 5) + Array(repeating: 429, count: 15))
        #expect(answers.prefix(5).allSatisfy { $0.type == "invalid-credentials" })
        for answer in answers.dropFirst(5) {
            let wait = expectRefused(answer, "a refused guess")
            #expect(wait.map { (1...8).contains($0) } == true, "the first wait is at most 8 s: \(wait ?? -1)")
        }
        // The password was checked 5 times, not 20: each check is one row, written before it runs.
        #expect(try attempts("account = $1", [victim]) == 5)
        #expect(try attempts("address = '10.1.0.1'", []) == 5)

        // Meanwhile another account from another address logs in.
        let other = try direct(bystander, Self.password, from: "10.1.0.2")
        #expect(other.status == 200)
        #expect(other.json?["access_token"]?.stringValue != nil)

        // While the account waits even its right password is refused (nothing is checked), from anywhere.
        let locked = try direct(victim, Self.password, from: "10.1.0.3")
        let wait = try #require(expectRefused(locked, "the right password during the wait"))
        // The real backoff: after the seconds it names, the account logs in, and its failures are forgiven.
        Thread.sleep(forTimeInterval: Double(wait))
        let after = try direct(victim, Self.password, from: "10.1.0.3")
        #expect(after.status == 200, "after Retry-After: \(after.status) \(after.json.map { "\($0)" } ?? "")")
        #expect(try attempts("account = $1", [victim]) == 0)
        #expect(try attempts("address = '10.1.0.1' AND account IS NULL", []) == 5, "the guesses still count for their address")
    }

    @Test func anUnknownEmailIsThrottledExactlyLikeAKnownOne() throws {
        let known = try newUser("known")
        let unknown = "nobody-\(UUID().uuidString.prefix(8).lowercased())@example.org"
        var knownAnswers: [LoginAnswer] = []
        var unknownAnswers: [LoginAnswer] = []
        for _ in 0..<7 {
            knownAnswers.append(try direct(known, "guess", from: "10.2.0.1"))
            unknownAnswers.append(try direct(unknown, "guess", from: "10.2.0.2"))
        }
        #expect(knownAnswers.map(\.status) == [401, 401, 401, 401, 401, 429, 429])
        #expect(unknownAnswers.map(\.status) == knownAnswers.map(\.status))
        #expect(unknownAnswers.map(\.type) == knownAnswers.map(\.type))
        #expect(unknownAnswers.map { $0.json?["title"] } == knownAnswers.map { $0.json?["title"] })
        for answer in knownAnswers.suffix(2) + unknownAnswers.suffix(2) { expectRefused(answer, "the 6th and 7th guess") }
        #expect(try attempts("account = $1", [known]) == 5)
        #expect(try attempts("account = $1", [unknown]) == 5)
    }

    @Test func oneAddressGuessingManyAccountsIsRefusedWhateverXForwardedForSays() throws {
        var emails: [String] = []
        for n in 0..<13 { emails.append(try newUser("spray\(n)")) }
        // One guess per account, each claiming another origin in X-Forwarded-For, which is not trusted.
        for (n, email) in emails.prefix(12).enumerated() {
            let answer = try direct(email, "guess", from: "10.3.0.1", forwardedFor: "203.0.113.\(n + 1)")
            #expect(answer.status == 401, "guess \(n + 1) of the address")
        }
        expectRefused(try direct(emails[12], "guess", from: "10.3.0.1", forwardedFor: "198.51.100.7"), "the 13th guess of one address")
        #expect(try attempts("address = '10.3.0.1'", []) == 12)
        #expect(try direct(emails[12], "guess", from: "10.3.0.2").status == 401, "another address is not held back")
    }

    @Test func aSuccessForgivesTheAccountsFailuresButNotTheAddresss() throws {
        let email = try newUser("forgiven")
        for _ in 0..<4 { #expect(try direct(email, "typo", from: "10.4.0.1").status == 401) }
        #expect(try direct(email, Self.password, from: "10.4.0.1").status == 200)
        var statuses: [Int] = []
        for _ in 0..<6 { statuses.append(try direct(email, "typo", from: "10.4.0.1").status) }
        #expect(statuses == [401, 401, 401, 401, 401, 429], "the count starts again after a success")
        #expect(try attempts("address = '10.4.0.1'", []) == 9)
        #expect(try attempts("address = '10.4.0.1' AND account IS NULL", []) == 4)
    }

    @Test func behindNginxEveryLoginPathFormCountsAgainstTheSameAccountAndAddress() throws {
        let email = try newUser("nginx")
        let forms = ["/api/v1/auth/login", "/api/v1/auth/login/", "//api/v1/auth/login", "/api/v1/auth/%6Cogin", "/api/v1/auth/./login"]
        for form in forms {
            let answer = try throughNginx(email, "guess", from: "127.0.0.5", path: form)
            #expect(answer.status == 401, "\(form): \(answer.status)")
        }
        #expect(try attempts("account = $1 AND address = '127.0.0.5'", [email]) == 5, "REMOTE_ADDR is the client nginx saw")
        for form in ["/api/v1/auth/login/", "/api/v1/auth/login"] {
            expectRefused(try throughNginx(email, Self.password, from: "127.0.0.6", path: form), "\(form) after five failures")
        }
    }
}

/// One answer of the API, its problem type short.
struct LoginAnswer {
    var status: Int
    var headers: [String: String]
    var json: JSONValue?

    var type: String? { json?["type"]?.stringValue.map { String($0.dropFirst(Problem.typeBase.count)) } }
}

/// The suite's stack: the real API pool behind nginx, with `LoginThrottleEndToEndTests.settings`.
enum ThrottleStack {
    private static let started: Result<APIStack, any Error> = {
        do {
            var options = APIStack.Options()
            options.loginThrottle = LoginThrottleEndToEndTests.settings
            let stack = try APIStack(options)
            atexit { ThrottleStack.shutdown() }
            return .success(stack)
        } catch {
            return .failure(error)
        }
    }()

    static func shared() throws -> APIStack { try started.get() }

    static func shutdown() {
        if case .success(let stack) = started { stack.stop() }
    }
}
