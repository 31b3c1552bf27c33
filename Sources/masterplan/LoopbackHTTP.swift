import Base
import Foundation
import Glibc

/// A blocking HTTP client on 127.0.0.1, for `masterplan up`'s readiness check through nginx and the
/// benches' requests and load threads. One request per connection (`request`), or many requests on a
/// kept-alive connection read with `ResponseReader`.
enum LoopbackHTTP {
    struct Response {
        var status: Int
        var body: [UInt8]

        var text: String { String(decoding: body, as: UTF8.self) }
    }

    struct Failure: Error, CustomStringConvertible {
        var description: String
        init(_ description: String) { self.description = description }
    }

    /// Sends one request as HTTP/1.0 (`Connection: close`, so nothing comes chunked) and reads the
    /// answer to the end. With `timeout`, a server that sends nothing for that long is a failure.
    /// Calls `socket`, `connect`, `send` and `recv`.
    static func request(port: UInt16, method: String = "GET", path: String, headers: [String: String] = [:], body: [UInt8] = [],
                        timeout: Duration? = nil) throws -> Response {
        let fd = try connect(port: port, timeout: timeout)
        defer { close(fd) }
        var head = "\(method) \(path) HTTP/1.0\r\nHost: 127.0.0.1:\(port)\r\nConnection: close\r\nContent-Length: \(body.count)\r\n"
        for (name, value) in headers { head += "\(name): \(value)\r\n" }
        try sendAll(fd, Array((head + "\r\n").utf8) + body)
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if count < 0 && errno == EINTR { continue }
            if count < 0 { throw Failure("no answer to \(method) \(path) on 127.0.0.1:\(port): \(String(cString: strerror(errno)))") }
            if count == 0 { break }
            received.append(contentsOf: buffer[0..<count])
        }
        guard let headEnd = ResponseReader.find(received) else {
            throw Failure("the answer to \(method) \(path) on 127.0.0.1:\(port) has no complete head")
        }
        let statusLine = String(decoding: received[..<headEnd], as: UTF8.self).split(separator: "\r\n").first ?? ""
        guard let status = statusLine.split(separator: " ").dropFirst().first.flatMap({ Int($0) }) else {
            throw Failure("the answer to \(method) \(path) on 127.0.0.1:\(port) has no status: \(statusLine.prefix(80))")
        }
        return Response(status: status, body: Array(received[(headEnd + 4)...]))
    }

    /// Whether something accepts TCP connections on 127.0.0.1:`port` (to refuse a taken port early).
    static func accepts(port: UInt16) -> Bool {
        guard let fd = try? connect(port: port) else { return false }
        close(fd)
        return true
    }

    /// A connected socket to 127.0.0.1:`port` (Nagle off); with `timeout`, sends and receives that
    /// wait longer fail (`SO_SNDTIMEO`, `SO_RCVTIMEO`).
    static func connect(port: UInt16, timeout: Duration? = nil) throws -> Int32 {
        // Close-on-exec: `up` starts and restarts its children on other threads while it probes.
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw Failure("socket failed: \(String(cString: strerror(errno)))") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = port.bigEndian
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else {
            let reason = String(cString: strerror(errno))
            close(fd)
            throw Failure("connect to 127.0.0.1:\(port) failed: \(reason)")
        }
        var one: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        if let timeout {
            let microseconds = max(0, timeout.wholeMicroseconds)
            var value = timeval(tv_sec: Int(microseconds / 1_000_000), tv_usec: Int(microseconds % 1_000_000))
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &value, socklen_t(MemoryLayout<timeval>.size))
            setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &value, socklen_t(MemoryLayout<timeval>.size))
        }
        return fd
    }

    static func sendAll(_ fd: Int32, _ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let sent = bytes.withUnsafeBytes { send(fd, $0.baseAddress! + offset, bytes.count - offset, Int32(MSG_NOSIGNAL)) }
            if sent < 0 && errno == EINTR { continue }
            guard sent > 0 else { throw Failure("send failed: \(String(cString: strerror(errno)))") }
            offset += sent
        }
    }

    /// Reads responses with Content-Length (what nginx sends for the benches' routes) one after
    /// another from a kept-alive HTTP/1.1 connection.
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
            while buffer.count < total { guard try fill() else { throw Failure("connection closed mid-response") } }
            let body = Array(buffer[(headEnd! + 4)..<total])
            buffer.removeFirst(total)
            return Response(status: status, body: body)
        }

        mutating func fill() throws -> Bool {
            var got = scratch.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            while got < 0 && errno == EINTR { got = scratch.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) } }
            if got < 0 { throw Failure("recv failed: \(String(cString: strerror(errno)))") }
            if got == 0 { return false }
            buffer += scratch[0..<got]
            return true
        }

        /// Where the head ends (the index of its blank line's CR LF CR LF).
        static func find(_ bytes: [UInt8]) -> Int? {
            guard bytes.count >= 4 else { return nil }
            for index in 0...(bytes.count - 4) where bytes[index] == 13 && bytes[index + 1] == 10 && bytes[index + 2] == 13 && bytes[index + 3] == 10 {
                return index
            }
            return nil
        }
    }
}
