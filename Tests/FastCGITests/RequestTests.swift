import FastCGI
import Foundation
import Synchronization
import Testing
import TestSupport

/// The request/response cycle against the real libfcgi, driven by the test's FastCGI client.
@Suite(.dedicatedThreads, .serialized) struct RequestTests {
    @Test func paramsAndQueryReachTheHandler() throws {
        let seen = Mailbox<RequestParams>()
        let server = try TestServer { request in
            seen.put(request.params)
            try request.respond(status: 200, headers: [("Content-Type", "text/plain")], body: "ok \(request.method) \(request.path)")
        }
        defer { server.stop() }

        let longValue = String(repeating: "v", count: 300)  // needs the four-byte length encoding
        let query = "b=hello%20world&c=x+y&empty=&flag&utf=%C3%A9&bad=%zz&tag=1&tag=2&&%61mp=%26"
        let client = try FastCGITestClient(path: server.socketPath)
        try client.send(params: requestParams(uri: "/api/v1/things", query: query, extra: [
            ("HTTP_X_CUSTOM_HEADER", "custom"), ("HTTP_LAST_EVENT_ID", "42"),
            ("CONTENT_TYPE", "application/json"), ("CONTENT_LENGTH", ""), ("LONG_PARAM", longValue),
        ]))
        let response = try client.readResponse()

        #expect(response.status == 200)
        #expect(response.text == "ok GET /api/v1/things")
        #expect(response.header("Content-Length") == "21")
        #expect(response.header("Content-Type") == "text/plain")
        #expect(response.protocolStatus == 0)

        let params = try #require(seen.take())
        #expect(params.method == "GET")
        #expect(params.path == "/api/v1/things")
        #expect(params.queryString == query)
        #expect(params.query == [
            QueryItem(name: "b", value: "hello world"), QueryItem(name: "c", value: "x y"),
            QueryItem(name: "empty", value: ""), QueryItem(name: "flag", value: ""),
            QueryItem(name: "utf", value: "é"), QueryItem(name: "bad", value: "%zz"),
            QueryItem(name: "tag", value: "1"), QueryItem(name: "tag", value: "2"),
            QueryItem(name: "amp", value: "&"),
        ])
        #expect(params.queryValue("b") == "hello world")
        #expect(params.queryValues("tag") == ["1", "2"])
        #expect(params.queryValue("missing") == nil)
        #expect(params.header("X-Custom-Header") == "custom")
        #expect(params.header("last-event-id") == "42")
        #expect(params.headers["content-type"] == "application/json")
        #expect(params.headers["content-length"] == nil)
        #expect(params.contentType == "application/json")
        #expect(params.contentLength == nil)
        #expect(params.remoteAddress == "127.0.0.1")
        #expect(params["LONG_PARAM"] == longValue)
        // libfcgi adds the role it read from BEGIN_REQUEST to the params.
        #expect(params["FCGI_ROLE"] == "RESPONDER")
        #expect(server.errors.isEmpty)
    }

    @Test func bodyIsReadWithinTheLimit() throws {
        let server = try TestServer { request in
            let body = try request.readBody(limit: 100_000)
            try request.respond(status: 200, body: body)
        }
        defer { server.stop() }

        // Longer than one STDIN record (65535 bytes) and than libfcgi's 8 KiB buffer.
        let body = (0..<70_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        let client = try FastCGITestClient(path: server.socketPath)
        try client.send(params: requestParams(method: "POST", uri: "/echo",
                                              extra: [("CONTENT_LENGTH", String(body.count)), ("CONTENT_TYPE", "application/octet-stream")]),
                        body: body)
        let response = try client.readResponse()
        #expect(response.status == 200)
        #expect(response.body == body)
        #expect(server.errors.isEmpty)
    }

    @Test func declaredLengthOverTheLimitIsRejectedBeforeReading() throws {
        let errors = Mailbox<FastCGIError>()
        let server = try TestServer { request in
            do throws(FastCGIError) {
                _ = try request.readBody(limit: 1000)
                try request.respond(status: 200, body: "read")
            } catch {
                errors.put(error)
                if case .bodyTooLarge = error {
                    try request.respond(status: 413, headers: [("Content-Type", "text/plain")], body: "too large")
                }
            }
        }
        defer { server.stop() }

        let client = try FastCGITestClient(path: server.socketPath)
        try client.send(params: requestParams(method: "POST", uri: "/upload", extra: [("CONTENT_LENGTH", "2000")]),
                        body: [UInt8](repeating: 7, count: 2000))
        let response = try client.readResponse()
        #expect(errors.take() == .bodyTooLarge(limit: 1000, declared: 2000))
        #expect(response.status == 413)
        #expect(response.text == "too large")
        #expect(server.errors.isEmpty)
    }

    /// The length may lie (or be missing): reading stops one byte past the limit.
    @Test(arguments: [("10", Optional(10)), ("", nil)])
    func bodyLongerThanDeclaredIsCutAtTheLimit(declaredText: String, declared: Int?) throws {
        let errors = Mailbox<FastCGIError>()
        let server = try TestServer { request in
            do throws(FastCGIError) {
                _ = try request.readBody(limit: 1000)
                try request.respond(status: 200, body: "read")
            } catch {
                errors.put(error)
                try request.respond(status: 413, body: "too large")
            }
        }
        defer { server.stop() }

        let client = try FastCGITestClient(path: server.socketPath)
        try client.send(params: requestParams(method: "POST", uri: "/upload", extra: [("CONTENT_LENGTH", declaredText)]),
                        body: [UInt8](repeating: 1, count: 3000))
        let response = try client.readResponse()
        #expect(errors.take() == .bodyTooLarge(limit: 1000, declared: declared))
        #expect(response.status == 413)
    }

    @Test func malformedContentLengthAndSecondReadAreErrors() throws {
        let errors = Mailbox<String>()
        let server = try TestServer { request in
            if request.path == "/bad-length" {
                do throws(FastCGIError) { _ = try request.readBody() } catch { errors.put("\(error)") }
            } else {
                let first = try request.readBody(limit: 10)
                errors.put("first: \(first.count) bytes")
                do throws(FastCGIError) { _ = try request.readBody() } catch { errors.put("\(error)") }
            }
            try request.respond(status: 400)
        }
        defer { server.stop() }

        let bad = try FastCGITestClient(path: server.socketPath)
        try bad.send(params: requestParams(method: "POST", uri: "/bad-length", extra: [("CONTENT_LENGTH", "12abc")]), body: Array("x".utf8))
        #expect(try bad.readResponse().status == 400)
        // Close as nginx does after END_REQUEST: libfcgi's FCGX_Finish_r waits (up to 2 s) for it.
        bad.close()
        #expect(errors.take() == FastCGIError.invalidContentLength("12abc").description)

        let twice = try FastCGITestClient(path: server.socketPath)
        try twice.send(params: requestParams(method: "POST", uri: "/twice", extra: [("CONTENT_LENGTH", "3")]), body: Array("abc".utf8))
        #expect(try twice.readResponse().status == 400)
        #expect(errors.take() == "first: 3 bytes")
        #expect(errors.take() == FastCGIError.bodyAlreadyRead.description)
    }

    @Test func flushSendsBytesBeforeTheRequestFinishes() throws {
        let proceed = Mailbox<Bool>()
        let server = try TestServer { request in
            try request.writeHead(status: 200, headers: [("Content-Type", "text/event-stream"), ("Cache-Control", "no-cache")])
            try request.write("data: first\n\n")
            try request.flush()
            // The second event is written only after the client proved it received the first.
            guard proceed.take() != nil else { throw TestFailure("the client never confirmed the first event") }
            try request.write("data: second\n\n")
        }
        defer { server.stop() }

        let client = try FastCGITestClient(path: server.socketPath, timeoutSeconds: 5)
        try client.send(params: requestParams(uri: "/events"))
        var response = FastCGITestClient.Response()
        try client.readStdout(into: &response, until: "data: first\n\n")
        #expect(!response.ended)
        #expect(response.status == 200)
        #expect(response.header("Content-Type") == "text/event-stream")
        #expect(response.text == "data: first\n\n")
        proceed.put(true)
        try client.readResponse(into: &response)
        #expect(response.text == "data: first\n\ndata: second\n\n")
        #expect(server.errors.isEmpty)
    }

    @Test func hangupPollSeesTheClientLeave() throws {
        let results = Mailbox<String>()
        let server = try TestServer { request in
            try request.writeHead(status: 200, headers: [("Content-Type", "text/event-stream")])
            try request.write("data: first\n\n")
            try request.flush()
            // Client still there: the wait must time out, not report a hangup (the end of the
            // request's input is drained first, so it cannot look like one).
            results.put("while connected: \(try request.waitForHangup(timeout: .milliseconds(300)))")
            try request.write("data: second\n\n")
            try request.flush()
            results.put("after close: \(try request.waitForHangup(timeout: .seconds(10)))")
            do throws(FastCGIError) {
                try request.write("data: third\n\n")
                try request.flush()
                results.put("write: succeeded")
            } catch {
                results.put("write: \(error)")
            }
        }
        defer { server.stop() }

        let client = try FastCGITestClient(path: server.socketPath)
        try client.sendBeginRequest()
        try client.sendParams(requestParams(method: "POST", uri: "/events", extra: [("CONTENT_LENGTH", "5")]))
        var response = FastCGITestClient.Response()
        try client.readStdout(into: &response, until: "data: first")
        // The unread body and the end of STDIN arrive only now, while the server waits: they must
        // be drained, not mistaken for a hangup.
        try client.sendStream(.stdin, Array("hello".utf8))
        try client.readStdout(into: &response, until: "data: second")
        client.close()

        #expect(results.take() == "while connected: timedOut")
        #expect(results.take() == "after close: clientGone")
        #expect(results.take() == "write: \(FastCGIError.clientGone)")
        #expect(server.errors.isEmpty)
    }

    @Test func writeAfterTheClientLeftFailsWithClientGone() throws {
        let flushed = Mailbox<Bool>()
        let clientClosed = Mailbox<Bool>()
        let outcome = Mailbox<String>()
        let server = try TestServer { request in
            try request.writeHead(status: 200)
            try request.write("first")
            try request.flush()
            flushed.put(true)
            guard clientClosed.take() != nil else { throw TestFailure("the client never closed") }
            let chunk = [UInt8](repeating: 65, count: 4096)
            for attempt in 1...5 {
                do throws(FastCGIError) {
                    try request.write(chunk)
                    try request.flush()
                } catch {
                    outcome.put("attempt \(attempt): \(error == .clientGone ? "clientGone" : error.description)")
                    return
                }
            }
            outcome.put("all writes succeeded")
        }
        defer { server.stop() }

        let client = try FastCGITestClient(path: server.socketPath)
        try client.send(params: requestParams(uri: "/stream"))
        var response = FastCGITestClient.Response()
        try client.readStdout(into: &response, until: "first")
        #expect(flushed.take() == true)
        client.close()
        clientClosed.put(true)
        // A unix socket whose peer closed fails the very next write with EPIPE.
        #expect(outcome.take() == "attempt 1: clientGone")
    }

    @Test func watchedDescriptorWakesTheWait() throws {
        var pipeEnds: [Int32] = [-1, -1]
        #expect(pipe(&pipeEnds) == 0)
        defer { close(pipeEnds[0]); close(pipeEnds[1]) }
        let readEnd = pipeEnds[0]
        let results = Mailbox<HangupWaitResult>()
        let server = try TestServer { request in
            results.put(try request.waitForHangup(watching: [readEnd], timeout: .seconds(10)))
            try request.respond(status: 200, body: "woken")
        }
        defer { server.stop() }

        let client = try FastCGITestClient(path: server.socketPath)
        try client.send(params: requestParams(uri: "/wait"))
        var byte: UInt8 = 1
        #expect(write(pipeEnds[1], &byte, 1) == 1)
        #expect(results.take() == .ready([readEnd]))
        let response = try client.readResponse()
        #expect(response.text == "woken")
    }

    @Test func threadsAcceptOnOneSocketConcurrently() throws {
        let inFlight = Atomic<Int>(0)
        let server = try TestServer(threads: 3) { request in
            inFlight.add(1, ordering: .relaxed)
            // Answer "together" only once all three requests are being handled at the same time.
            let deadline = ContinuousClock.now + .seconds(10)
            while inFlight.load(ordering: .relaxed) < 3 && ContinuousClock.now < deadline {
                Thread.sleep(forTimeInterval: 0.005)
            }
            try request.respond(status: 200, body: inFlight.load(ordering: .relaxed) >= 3 ? "together" : "alone")
        }
        defer { server.stop() }

        let clients = try (0..<3).map { _ in try FastCGITestClient(path: server.socketPath) }
        for (index, client) in clients.enumerated() {
            try client.send(params: requestParams(uri: "/concurrent/\(index)"))
        }
        for client in clients {
            #expect(try client.readResponse().text == "together")
        }
        #expect(server.errors.isEmpty)
    }

    @Test func oneRequestSlotServesRequestsInTurn() throws {
        let paths = Mailbox<String>()
        let server = try TestServer { request in
            paths.put(request.path)
            // A fresh head per request: writeHead would throw if the last request's state leaked.
            try request.respond(status: 200, body: "served \(request.path)")
        }
        defer { server.stop() }

        for index in 0..<3 {
            let client = try FastCGITestClient(path: server.socketPath)
            try client.send(params: requestParams(uri: "/turn/\(index)"))
            let response = try client.readResponse()
            #expect(response.text == "served /turn/\(index)")
            // FCGX_Finish_r closed the connection (no keep-alive was asked for).
            #expect(try client.readsEndOfFile())
        }
        #expect([paths.take(), paths.take(), paths.take()] == ["/turn/0", "/turn/1", "/turn/2"])
        #expect(server.errors.isEmpty)
    }

    /// A client that asks to keep the connection (FCGI_KEEP_CONN) gets its whole response and then
    /// the end of the connection: one request per connection, so a worker is never tied to one
    /// web-server connection. Its next request, on a new connection, is served normally.
    @Test func keepConnectionIsNotHonouredEachConnectionCarriesOneRequest() throws {
        let server = try TestServer { request in
            try request.respond(status: 200, body: "request \(request.params["REQUEST_ID_PARAM"] ?? "?")")
        }
        defer { server.stop() }

        let first = try FastCGITestClient(path: server.socketPath)
        try first.send(params: requestParams(uri: "/a", extra: [("REQUEST_ID_PARAM", "1")]), requestID: 1, keepConnection: true)
        #expect(try first.readResponse().text == "request 1")
        #expect(try first.readsEndOfFile())
        let second = try FastCGITestClient(path: server.socketPath)
        try second.send(params: requestParams(uri: "/b", extra: [("REQUEST_ID_PARAM", "2")]), requestID: 2, keepConnection: true)
        #expect(try second.readResponse().text == "request 2")
        #expect(try second.readsEndOfFile())
        #expect(server.errors.isEmpty)
    }

    @Test func invalidResponsesAreRefusedWithoutWritingThem() throws {
        let errors = Mailbox<[FastCGIError?]>()
        let server = try TestServer { request in
            func failure(_ call: () throws -> Void) -> FastCGIError? {
                do { try call() } catch { return error as? FastCGIError ?? .writeFailed(code: 0) }
                return nil
            }
            var seen: [FastCGIError?] = []
            seen.append(failure { try request.write("body before head") })
            seen.append(failure { try request.writeHead(status: 42) })
            seen.append(failure { try request.writeHead(status: 200, headers: [("X-Injected", "a\r\nSet-Cookie: b")]) })
            seen.append(failure { try request.writeHead(status: 200, headers: [("Bad Name", "x")]) })
            seen.append(failure { try request.writeHead(status: 200, headers: [("Status", "500")]) })
            seen.append(failure { try request.writeHead(status: 201, headers: [("Location", "/things/1")]) })
            seen.append(failure { try request.writeHead(status: 200) })
            errors.put(seen)
        }
        defer { server.stop() }

        let client = try FastCGITestClient(path: server.socketPath)
        try client.send(params: requestParams(method: "POST", uri: "/things"))
        let response = try client.readResponse()
        #expect(errors.take() == [
            .headNotWritten, .invalidStatus(42), .invalidHeader(name: "X-Injected"), .invalidHeader(name: "Bad Name"),
            .invalidHeader(name: "Status"), nil, .headAlreadyWritten,
        ])
        #expect(response.status == 201)
        #expect(response.header("Location") == "/things/1")
        #expect(response.headLines == ["Status: 201 Created", "Location: /things/1"])
    }

    @Test(arguments: [(200, Optional("5")), (204, nil), (304, nil)])
    func respondAddsContentLengthUnlessTheStatusForbidsIt(status: Int, expected: String?) throws {
        let server = try TestServer { request in
            try request.respond(status: status, body: status == 200 ? "hello" : "")
        }
        defer { server.stop() }
        let client = try FastCGITestClient(path: server.socketPath)
        try client.send(params: requestParams(uri: "/"))
        let response = try client.readResponse()
        #expect(response.status == status)
        #expect(response.header("Content-Length") == expected)
    }

    @Test func callsWithoutAnAcceptedRequestFail() throws {
        let directory = try TemporaryFolder(prefix: "mpfcgi")
        defer { directory.remove() }
        let socket = try ListeningSocket.listen(path: directory.file("idle.sock"))
        defer { socket.close(removingSocketFile: true) }
        let request = try Request(socket: socket)
        #expect(!request.isActive)
        #expect(request.connectionFileDescriptor == nil)
        #expect(request.params.all.isEmpty)
        #expect(throws: FastCGIError.noActiveRequest) { try request.readBody() }
        #expect(throws: FastCGIError.noActiveRequest) { try request.writeHead(status: 200) }
        #expect(throws: FastCGIError.noActiveRequest) { try request.flush() }
        #expect(throws: FastCGIError.noActiveRequest) { try request.waitForHangup(timeout: .zero) }
        request.finish()  // nothing to finish: must not crash or block
    }

    /// A large body goes out as records of up to 64 KiB written at once (not libfcgi's 8 KiB ones),
    /// head first, every byte in order, and the request still ends with libfcgi's own records.
    @Test(arguments: [16 << 10, 65_528 - 60, 200_003])
    func largeBodiesArriveWholeInLargeRecords(size: Int) throws {
        let body = (0..<size).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ $0 >> 9) }
        let server = try TestServer { request in
            try request.respond(status: 200, headers: [("Content-Type", "application/octet-stream")], body: body)
        }
        defer { server.stop() }

        let client = try FastCGITestClient(path: server.socketPath)
        try client.send(params: requestParams(uri: "/big"))
        var records: [FastCGITestClient.Record] = []
        while let record = try client.readRecord() { records.append(record) }
        let stdout = records.filter { $0.type == FastCGITestClient.RecordType.stdout.rawValue }
        var response = FastCGITestClient.Response()
        response.stdout = stdout.flatMap(\.content)
        #expect(response.status == 200)
        #expect(response.header("Content-Length") == String(size))
        #expect(response.body == body)
        // Records as large as a record can be (the last STDOUT record is libfcgi's empty end of
        // the stream), then END_REQUEST with status 0.
        #expect(stdout.dropLast(2).allSatisfy { $0.content.count == 65_528 })
        #expect(stdout.last?.content.isEmpty == true)
        #expect(stdout.count == (response.stdout.count + 65_527) / 65_528 + 1)
        #expect(records.last?.type == FastCGITestClient.RecordType.endRequest.rawValue)
        #expect(server.errors.isEmpty)
    }
}
