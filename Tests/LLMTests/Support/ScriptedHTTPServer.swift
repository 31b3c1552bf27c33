import Foundation
import Synchronization
import TestSupport
#if canImport(Glibc)
import Glibc
#endif

/// A loopback HTTP/1.1 server for tests that answers each request with the next scripted response,
/// byte for byte as given, and records what it was sent. Every response closes its connection, so a
/// script can also end a response abruptly (a stream cut mid-way).
final class ScriptedHTTPServer: Sendable {
    /// What to send back: raw segments written in order, then the connection is closed.
    struct Response: Sendable {
        var segments: [[UInt8]]
        /// How long the connection stays open after the last segment before it is closed. A cut stream
        /// waits, so the client has read what came before the cut when the connection drops (written
        /// and closed at once, a loaded machine could let the client see the close before the
        /// response's head, and retry a call that had in fact delivered text).
        var closeDelay: Duration = .zero

        /// A complete response with a body of known length.
        static func body(status: Int, reason: String = "OK", contentType: String = "application/json",
                         headers: [(String, String)] = [], _ body: String) -> Response {
            var head = "HTTP/1.1 \(status) \(reason)\r\ncontent-type: \(contentType)\r\ncontent-length: \(body.utf8.count)\r\n"
            for (name, value) in headers { head += "\(name): \(value)\r\n" }
            head += "connection: close\r\n\r\n"
            return Response(segments: [Array(head.utf8), Array(body.utf8)])
        }

        /// A chunked event stream; each event is its own chunk. With `cutAfter`, the connection closes
        /// after that many events, without the terminating chunk.
        static func eventStream(_ events: [String], headers: [(String, String)] = [], cutAfter: Int? = nil) -> Response {
            var head = "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream; charset=utf-8\r\ncache-control: no-cache\r\n"
            for (name, value) in headers { head += "\(name): \(value)\r\n" }
            head += "transfer-encoding: chunked\r\nconnection: close\r\n\r\n"
            var segments = [Array(head.utf8)]
            let sent = cutAfter.map { Array(events.prefix($0)) } ?? events
            for event in sent {
                let bytes = Array(event.utf8)
                segments.append(Array((String(bytes.count, radix: 16) + "\r\n").utf8) + bytes + Array("\r\n".utf8))
            }
            if cutAfter == nil { segments.append(Array("0\r\n\r\n".utf8)) }
            return Response(segments: segments, closeDelay: cutAfter == nil ? .zero : .milliseconds(500))
        }
    }

    /// One request as received.
    struct Request: Sendable {
        var method: String
        var path: String
        /// Lower-cased names.
        var headers: [String: String]
        var body: [UInt8]
        var bodyText: String { String(decoding: body, as: UTF8.self) }
    }

    private let listener: LoopbackListener
    private let state = Mutex<(responses: [Response], requests: [Request])>(([], []))

    init() throws {
        listener = try LoopbackListener()
        let thread = Thread { [self] in acceptLoop() }
        thread.start()
    }

    var port: Int { listener.port }
    var baseURL: String { "http://127.0.0.1:\(port)" }

    func enqueue(_ responses: Response...) {
        state.withLock { $0.responses.append(contentsOf: responses) }
    }

    var requests: [Request] { state.withLock { $0.requests } }

    func stop() { listener.stop() }

    deinit { stop() }

    private func acceptLoop() {
        while let connection = listener.accept() {
            serve(connection)
            close(connection)
        }
    }

    private func serve(_ fd: Int32) {
        var buffer: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        func readMore() -> Bool {
            let count = recv(fd, &chunk, chunk.count, 0)
            guard count > 0 else { return false }
            buffer.append(contentsOf: chunk[0..<count])
            return true
        }
        let separator: [UInt8] = Array("\r\n\r\n".utf8)
        var headEnd: Int?
        while headEnd == nil {
            if let found = buffer.firstRange(of: separator) { headEnd = found.upperBound; break }
            guard readMore() else { return }
        }
        let headText = String(decoding: buffer[..<headEnd!], as: UTF8.self)
        var lines = headText.components(separatedBy: "\r\n").filter { !$0.isEmpty }
        let requestLine = lines.removeFirst().split(separator: " ")
        var headers: [String: String] = [:]
        for line in lines {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        let length = Int(headers["content-length"] ?? "0") ?? 0
        while buffer.count - headEnd! < length {
            guard readMore() else { return }
        }
        let request = Request(method: String(requestLine[0]), path: String(requestLine[1]), headers: headers,
                              body: Array(buffer[headEnd!..<(headEnd! + length)]))
        let response: Response = state.withLock { state in
            state.requests.append(request)
            return state.responses.isEmpty
                ? .body(status: 500, reason: "Internal Server Error", "{\"error\":{\"message\":\"the test scripted no response for this request\"}}")
                : state.responses.removeFirst()
        }
        for segment in response.segments where !LoopbackListener.send(segment, to: fd) { return }
        if response.closeDelay > .zero {
            usleep(useconds_t(response.closeDelay.components.seconds * 1_000_000
                              + response.closeDelay.components.attoseconds / 1_000_000_000_000))
        }
    }
}
