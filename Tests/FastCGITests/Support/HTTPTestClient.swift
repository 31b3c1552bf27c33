import Foundation
import Glibc

/// A minimal HTTP/1.0 client over TCP to 127.0.0.1, enough to talk to nginx as a browser would.
final class HTTPTestClient {
    struct Response {
        var status: Int
        var headers: [String: String]
        var body: [UInt8]
        var bodyText: String { String(decoding: body, as: UTF8.self) }
    }

    let fd: Int32
    private(set) var received: [UInt8] = []
    private var isClosed = false

    init(port: UInt16, timeoutSeconds: Int = 10) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = port.bigEndian
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else {
            let message = String(cString: strerror(errno))
            Glibc.close(fd)
            throw TestClientError("connect 127.0.0.1:\(port): \(message)")
        }
        var timeout = timeval(tv_sec: timeoutSeconds, tv_usec: 0)
        _ = setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    }

    deinit { close() }

    func close() {
        guard !isClosed else { return }
        isClosed = true
        Glibc.close(fd)
    }

    /// Sends a request; HTTP/1.0, so nginx answers without chunking and closes at the end.
    func send(method: String, target: String, headers: [(String, String)] = [], body: [UInt8] = []) throws {
        var head = "\(method) \(target) HTTP/1.0\r\nHost: localhost\r\n"
        for (name, value) in headers { head += "\(name): \(value)\r\n" }
        if !body.isEmpty || method == "POST" { head += "Content-Length: \(body.count)\r\n" }
        head += "\r\n"
        let bytes = Array(head.utf8) + body
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress! + offset, bytes.count - offset, Int32(MSG_NOSIGNAL)) }
            guard written > 0 else { throw TestClientError("send: \(String(cString: strerror(errno)))") }
            offset += written
        }
    }

    /// Reads until `marker` has arrived (anywhere in the response so far).
    func read(until marker: String) throws {
        let needle = Array(marker.utf8)
        while !FastCGITestClient.contains(received, needle) {
            guard try readSome() else { throw TestClientError("connection closed before \"\(marker)\" arrived") }
        }
    }

    /// Reads to the end of the connection and parses the response.
    func readResponse() throws -> Response {
        while try readSome() {}
        let text = String(decoding: received, as: UTF8.self)
        guard let headEnd = text.range(of: "\r\n\r\n") else { throw TestClientError("no HTTP head in: \(text.prefix(200))") }
        let lines = text[..<headEnd.lowerBound].components(separatedBy: "\r\n")
        let statusParts = lines[0].split(separator: " ")
        guard statusParts.count >= 2, let status = Int(statusParts[1]) else { throw TestClientError("bad status line: \(lines[0])") }
        var headers: [String: String] = [:]
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        let headBytes = text[..<headEnd.upperBound].utf8.count
        return Response(status: status, headers: headers, body: Array(received[headBytes...]))
    }

    /// One read; false at end of connection.
    private func readSome() throws -> Bool {
        var buffer = [UInt8](repeating: 0, count: 65536)
        let got = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        if got < 0 {
            if errno == EAGAIN || errno == EWOULDBLOCK { throw TestClientError("timed out waiting for nginx") }
            throw TestClientError("recv: \(String(cString: strerror(errno)))")
        }
        if got == 0 { return false }
        received += buffer[0..<got]
        return true
    }
}
