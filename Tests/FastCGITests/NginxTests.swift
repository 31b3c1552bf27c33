import FastCGI
import Foundation
import Testing
import TestSupport

/// The module behind a real nginx (workers running as `nobody`), spoken to over HTTP. A missing
/// nginx fails these tests; they never skip.
@Suite(.dedicatedThreads, .serialized) struct NginxTests {
    @Test func getWithQueryAndPostWithBodyReachTheHandler() throws {
        try #require(NginxProcess.executable != nil, "nginx is not installed: apt-get install nginx")
        let seen = Mailbox<RequestParams>()
        let server = try TestServer(threads: 2) { request in
            seen.put(request.params)
            switch request.path {
            case "/hello":
                try request.respond(status: 200, headers: [("Content-Type", "text/plain; charset=utf-8")],
                                    body: "hello \(request.params.queryValue("name") ?? "?") via \(request.method)")
            case "/echo":
                let body = try request.readBody(limit: 64 * 1024)
                try request.respond(status: 201, headers: [("Content-Type", request.contentType ?? "none"), ("X-Body-Bytes", String(body.count))],
                                    body: body)
            case "/small":
                let outcome = Result { () throws(FastCGIError) in try request.readBody(limit: 100) }
                if case let .failure(.bodyTooLarge(limit, declared)) = outcome {
                    try request.respond(status: 413, body: "limit \(limit), declared \(declared ?? -1)")
                } else {
                    try request.respond(status: 200, body: "accepted")
                }
            default:
                try request.respond(status: 404, body: "no route")
            }
        }
        defer { server.stop() }
        let nginx = try Self.nginx(for: server)
        defer { nginx.stop() }

        let get = try HTTPConnection(port: nginx.port)
        try get.send("GET", "/hello?name=W%C3%B6rld&x=1", headers: [("X-Trace", "t-1")])
        let getResponse = try get.readResponse()
        #expect(getResponse.status == 200, "nginx log: \(nginx.log)")
        #expect(getResponse.text == "hello Wörld via GET")
        #expect(getResponse.headers["content-type"] == "text/plain; charset=utf-8")
        let getParams = try #require(seen.take())
        #expect(getParams.path == "/hello")
        #expect(getParams.queryString == "name=W%C3%B6rld&x=1")
        #expect(getParams.query == [QueryItem(name: "name", value: "Wörld"), QueryItem(name: "x", value: "1")])
        #expect(getParams.header("X-Trace") == "t-1")
        #expect(getParams.remoteAddress == "127.0.0.1")

        let body = Array(#"{"request": "create a FastAPI app with JWT auth"}"#.utf8)
        let post = try HTTPConnection(port: nginx.port)
        try post.send("POST", "/echo", headers: [("Content-Type", "application/json")], body: body)
        let postResponse = try post.readResponse()
        #expect(postResponse.status == 201, "nginx log: \(nginx.log)")
        #expect(postResponse.body == body)
        #expect(postResponse.headers["content-type"] == "application/json")
        #expect(postResponse.headers["x-body-bytes"] == String(body.count))
        let postParams = try #require(seen.take())
        #expect(postParams.method == "POST")
        #expect(postParams.contentLength == body.count)

        let tooLarge = try HTTPConnection(port: nginx.port)
        try tooLarge.send("POST", "/small", body: [UInt8](repeating: 120, count: 500))
        let tooLargeResponse = try tooLarge.readResponse()
        #expect(tooLargeResponse.status == 413)
        #expect(tooLargeResponse.text == "limit 100, declared 500")
        _ = seen.take()
        #expect(server.errors.isEmpty)
    }

    @Test func streamArrivesLiveAndClientDisconnectIsSeen() throws {
        try #require(NginxProcess.executable != nil, "nginx is not installed: apt-get install nginx")
        let proceed = Mailbox<Bool>()
        let hangup = Mailbox<String>()
        let server = try TestServer { request in
            try request.writeHead(status: 200, headers: [("Content-Type", "text/event-stream"), ("Cache-Control", "no-cache")])
            try request.write("data: one\n\n")
            try request.flush()
            guard proceed.take() != nil else { throw TestFailure("the browser never confirmed the first event") }
            try request.write("data: two\n\n")
            try request.flush()
            // nginx closes the FastCGI connection as soon as the browser goes away.
            hangup.put("\(try request.waitForHangup(timeout: .seconds(10)))")
        }
        defer { server.stop() }
        let nginx = try Self.nginx(for: server)
        defer { nginx.stop() }

        let browser = try HTTPConnection(port: nginx.port)
        try browser.send("GET", "/events", headers: [("Accept", "text/event-stream")], version: "1.0")  // no chunk framing
        try browser.read(until: "data: one\n\n")
        let soFar = String(decoding: browser.received, as: UTF8.self)
        #expect(soFar.hasPrefix("HTTP/1.1 200"))
        #expect(soFar.contains("Content-Type: text/event-stream"))
        #expect(!soFar.contains("data: two"))
        proceed.put(true)
        try browser.read(until: "data: two\n\n")
        browser.close()
        #expect(hangup.take() == "clientGone", "nginx log: \(nginx.log)")
        #expect(server.errors.isEmpty)
    }

    /// A private nginx in the server's temporary folder passing every request to its socket, with
    /// response buffering off (as the SSE locations of the real config have it).
    static func nginx(for server: TestServer) throws -> NginxProcess {
        try NginxProcess(prefix: try server.directory.folder("nginx"), http: """
            client_max_body_size 1m;
            server {
                listen 127.0.0.1:{{PORT}};
                server_name localhost;
                location / {
                    include /etc/nginx/fastcgi_params;
                    fastcgi_pass unix:\(server.socketPath);
                    fastcgi_buffering off;
                    fastcgi_read_timeout 60s;
                }
            }
            """, workerConnections: 64)
    }
}
