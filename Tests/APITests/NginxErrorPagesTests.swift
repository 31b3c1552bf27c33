import API
import FastCGI
import Foundation
import JSON
import Testing
import TestSupport

/// Every error nginx itself answers is problem+json, provoked for real through the shipped
/// `nginx/masterplan-locations.conf`; and no form of the login path slips past its rate limit.
@Suite(.dedicatedThreads, .serialized) struct NginxErrorPagesTests {
    /// Errors nginx produces on its own, each provoked the way a client or a failure would.
    enum Failure: String, CaseIterable, CustomTestStringConvertible {
        case malformedRequestLine, malformedHeaderLine, metricsFromAnotherAddress, missingStaticFile, deleteOfAStaticFile,
             bodyOverTheLimit, overlongURI, oversizedHeaderLine, unwritableBodyBuffer, unknownTransferEncoding,
             stoppedUpstream, upstreamThatNeverAnswers, unsupportedHTTPVersion

        var testDescription: String { rawValue }

        /// The status and problem type nginx must answer with.
        var expected: (status: Int, type: String) {
            switch self {
            case .malformedRequestLine, .malformedHeaderLine: (400, "bad-request")
            case .metricsFromAnotherAddress: (403, "forbidden")
            case .missingStaticFile: (404, "no-such-route")
            case .deleteOfAStaticFile: (405, "method-not-allowed")
            case .bodyOverTheLimit: (413, "body-too-large")
            case .overlongURI: (414, "uri-too-long")
            case .oversizedHeaderLine: (431, "headers-too-large")
            case .unwritableBodyBuffer: (500, "internal-error")
            case .unknownTransferEncoding: (501, "not-implemented")
            case .stoppedUpstream: (503, "service-unavailable")
            case .upstreamThatNeverAnswers: (504, "upstream-timeout")
            case .unsupportedHTTPVersion: (505, "http-version-not-supported")
            }
        }

        /// Headers the answer must carry besides the problem's own.
        var expectedHeaders: [String: String] {
            switch self {
            case .deleteOfAStaticFile: ["allow": "GET, HEAD"]
            case .stoppedUpstream: ["retry-after": "5"]
            default: [:]
            }
        }

        /// The bytes a client sends.
        var request: [UInt8] {
            let head = "Host: localhost\r\nConnection: close\r\n"
            switch self {
            case .malformedRequestLine: return Array("GARBAGE\r\n\r\n".utf8)
            case .malformedHeaderLine: return Array("GET /index.html HTTP/1.1\r\n\(head)a header without a colon\r\n\r\n".utf8)
            case .metricsFromAnotherAddress: return Array("GET /metrics HTTP/1.1\r\n\(head)\r\n".utf8)
            case .missingStaticFile: return Array("GET /js/missing.js HTTP/1.1\r\n\(head)\r\n".utf8)
            case .deleteOfAStaticFile: return Array("DELETE /index.html HTTP/1.1\r\n\(head)\r\n".utf8)
            case .bodyOverTheLimit:
                return Array("POST /api/v1/masterplans HTTP/1.1\r\n\(head)Content-Type: application/json\r\nContent-Length: 2000000\r\n\r\n".utf8)
            case .overlongURI: return Array("GET /api/v1/\(String(repeating: "a", count: 9000)) HTTP/1.1\r\n\(head)\r\n".utf8)
            case .oversizedHeaderLine:
                return Array("GET /api/v1/me HTTP/1.1\r\n\(head)Cookie: \(String(repeating: "c", count: 9000))\r\n\r\n".utf8)
            case .unwritableBodyBuffer:
                // Larger than client_body_buffer_size, so nginx must spill it to its temporary folder.
                let body = "{\"request\": \"\(String(repeating: "a", count: 100_000))\"}"
                return Array("POST /api/v1/masterplans HTTP/1.1\r\n\(head)Content-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)".utf8)
            case .unknownTransferEncoding:
                return Array("POST /api/v1/masterplans HTTP/1.1\r\n\(head)Transfer-Encoding: gzip\r\n\r\n".utf8)
            case .stoppedUpstream: return Array("GET /health/relay HTTP/1.1\r\n\(head)\r\n".utf8)
            case .upstreamThatNeverAnswers: return Array("GET /test-only/never-answers HTTP/1.1\r\n\(head)\r\n".utf8)
            case .unsupportedHTTPVersion: return Array("GET /index.html HTTP/3.0\r\n\(head)\r\n".utf8)
            }
        }
    }

    @Test(arguments: Failure.allCases)
    func nginxAnswersItsOwnErrorsAsProblemJSON(_ failure: Failure) throws {
        let fixture = try ErrorPagesFixture.shared()
        var source: String?
        switch failure {
        case .metricsFromAnotherAddress:
            source = "127.0.0.2"
        case .unwritableBodyBuffer:
            // nginx's workers (nobody) can no longer write their body buffer files.
            let bodyFolder = fixture.stack.nginx.prefix + "/tmp/body"
            #expect(chmod(bodyFolder, 0) == 0)
            defer { chmod(bodyFolder, 0o700) }
            try check(failure, fixture.send(failure.request))
            return
        case .stoppedUpstream:
            // The relay stops (its clients are the event streams; none is open in this suite).
            _ = fixture.stack.relay.stop(SIGTERM)
        default:
            break
        }
        try check(failure, fixture.send(failure.request, from: source))
    }

    func check(_ failure: Failure, _ response: HTTPConnection.Response) throws {
        let (status, type) = failure.expected
        #expect(response.status == status, "\(response.text.prefix(400))")
        #expect(response.headers["content-type"] == "application/problem+json")
        #expect(response.headers["cache-control"] == "no-store")
        #expect(!response.text.contains("<html"))
        let problem = try JSONValue.parse(response.body)
        #expect(problem["type"]?.stringValue == Problem.typeBase + type)
        #expect(problem["status"]?.intValue == Int64(status))
        #expect(problem["title"]?.stringValue?.isEmpty == false)
        #expect(problem["detail"]?.stringValue?.isEmpty == false)
        for (name, value) in failure.expectedHeaders {
            #expect(response.headers[name] == value, "\(name) of \(failure)")
        }
    }

    @Test func theProblemPagesCannotBeAskedForDirectly() throws {
        let fixture = try ErrorPagesFixture.shared()
        let response = try fixture.send(Array("GET /_problems/internal-error HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n".utf8))
        #expect(response.status == 404)
        #expect(try JSONValue.parse(response.body)["type"]?.stringValue == Problem.typeBase + "no-such-route")
    }

    @Test func aClientThatStopsSendingItsBodyIsClosedWithoutAnAnswer() throws {
        // nginx never answers 408: it closes the connection (here after the test-only 1 s body timeout).
        let fixture = try ErrorPagesFixture.shared()
        let connection = try HTTPConnection(port: fixture.stack.port)
        defer { connection.close() }
        try connection.sendRaw(Array("POST /api/v1/masterplans HTTP/1.1\r\nHost: localhost\r\nContent-Length: 100\r\n\r\n{\"req".utf8))
        while try connection.readSome() {}
        #expect(connection.received.isEmpty, "\(connection.receivedText.prefix(300))")
    }

    @Test func loginFloodGetsNginxs429AsProblemJSONWithRetryAfter() throws {
        let fixture = try ErrorPagesFixture.shared()
        // 1 a minute with the shipped burst of 5: the 7th at the latest is refused.
        for _ in 0..<7 {
            let response = try fixture.login("/api/v1/auth/login")
            guard response.status == 429 else {
                #expect(response.problemType == "invalid-credentials", "\(response.status) \(response.text)")
                continue
            }
            #expect(response.headers["content-type"] == "application/problem+json")
            #expect(response.problemType == "too-many-requests")
            #expect(response["status"]?.intValue == 429)
            #expect(response.headers["retry-after"] == "6")
            return
        }
        Issue.record("seven logins in a row at 1 a minute were never refused")
    }

    /// Regression: `/api/v1/auth/login/` reached the login handler through the
    /// unlimited `/api/` location, since the router ignores a trailing slash.
    @Test func loginPathFormsCannotBypassTheRateLimit() throws {
        let fixture = try ErrorPagesFixture.shared()
        var limited = false
        for _ in 0..<7 where !limited {
            limited = try fixture.login("/api/v1/auth/login").status == 429
        }
        #expect(limited, "the canonical path was never limited")
        // Every form nginx normalises to a path the router sends to the login handler.
        let loginForms = ["/api/v1/auth/login/", "//api/v1/auth/login", "/api/v1//auth/login", "/api/v1/auth/./login",
                          "/api/v1/auth/x/../login", "/api/v1/auth/%6Cogin", "/api/v1/%61uth/login/", "/api/v1/auth/login%2F",
                          "/api/v1/auth/login//", "/api/v1/auth/login/.", "/api/v1/auth/login?x=1", "/api/v1/auth/login/?x=1",
                          "/api/v1/auth/login%2f%2f", "/api/v1/auth/login#fragment"]
        for form in loginForms {
            let response = try fixture.login(form)
            #expect(response.status == 429 && response.problemType == "too-many-requests",
                    "\(form) got past nginx's limit: \(response.status) \(response.text)")
        }
        // Forms that are not the login path do not reach the login handler at all.
        let otherForms = [("/api/v1/auth/login%20", 404), ("/api/v1/auth/Login", 404), ("/api/v1/auth/login;a", 404),
                          ("/api/v1/auth/login%3F", 404), ("/api/v1/auth/login/x", 404), ("/API/v1/auth/login", 405)]
        for (form, status) in otherForms {
            let response = try fixture.login(form)
            #expect(response.status == status, "\(form): \(response.status) \(response.text)")
            #expect(response.problemType != "invalid-credentials")
        }
    }
}

/// The suite's stack: the real API and relay behind nginx with the shipped locations, a login limit
/// of 1 a minute, and what only a test adds around them — a 1 s body timeout, and a location whose
/// FastCGI server accepts connections but never answers, read with a 1 s timeout.
final class ErrorPagesFixture: Sendable {
    let stack: APIStack
    let sockets: TemporaryFolder
    let neverAnswers: ListeningSocket

    private static let started: Result<ErrorPagesFixture, any Error> = {
        do {
            let fixture = try ErrorPagesFixture()
            atexit { ErrorPagesFixture.shutdown() }
            return .success(fixture)
        } catch {
            return .failure(error)
        }
    }()

    static func shared() throws -> ErrorPagesFixture { try started.get() }

    static func shutdown() {
        guard case .success(let fixture) = started else { return }
        fixture.stack.stop()
        fixture.neverAnswers.close(removingSocketFile: true)
        fixture.sockets.remove()
    }

    private init() throws {
        sockets = try TemporaryFolder(prefix: "mperr")
        let path = sockets.file("never.sock")
        // Listening (the kernel completes connections up to the backlog) but never accepting.
        neverAnswers = try ListeningSocket.listen(path: path)
        var options = APIStack.Options()
        options.loginRatePerMinute = 1
        options.nginxServerExtra = """
            client_body_timeout 1s;
            location = /test-only/never-answers {
                include /etc/nginx/fastcgi_params;
                fastcgi_pass unix:\(path);
                fastcgi_read_timeout 1s;
            }
            """
        do {
            stack = try APIStack(options)
        } catch {
            neverAnswers.close(removingSocketFile: true)
            sockets.remove()
            throw error
        }
        try stack.addUser("forms@example.org")
    }

    /// Sends `bytes` to nginx (from `source`, a 127.x.y.z address) and reads the whole answer.
    func send(_ bytes: [UInt8], from source: String? = nil) throws -> HTTPConnection.Response {
        let connection = try HTTPConnection(port: stack.port, sourceAddress: source)
        defer { connection.close() }
        try connection.sendRaw(bytes)
        return try connection.readResponse()
    }

    /// A wrong-password login at `target`, exactly as written (no normalisation on the client's side).
    func login(_ target: String) throws -> APIResponse {
        let body = #"{"email": "forms@example.org", "password": "wrong password"}"#
        let head = "POST \(target) HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nContent-Type: application/json\r\n"
            + "Content-Length: \(body.utf8.count)\r\n\r\n"
        return APIResponse(try send(Array((head + body).utf8)))
    }
}
