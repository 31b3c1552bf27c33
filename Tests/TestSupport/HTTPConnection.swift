import Foundation

/// One HTTP/1.1 exchange over TCP to 127.0.0.1 (`Connection: close`), enough to talk to nginx as a
/// browser or REST client would: a whole response, or a stream read piece by piece (SSE).
public final class HTTPConnection: @unchecked Sendable {
    // Used by one test thread at a time; `received` is only touched by that thread.

    public struct Response: Sendable {
        public var status: Int
        /// Header names in lower case.
        public var headers: [String: String]
        public var body: [UInt8]
        public var text: String { String(decoding: body, as: UTF8.self) }
    }

    public let fd: Int32
    public private(set) var received: [UInt8] = []
    private var closed = false

    /// Connects to 127.0.0.1:`port`; from `sourceAddress` when given (any 127.x.y.z works on Linux's
    /// loopback, so a test can be several clients as nginx's `$remote_addr` sees them).
    public init(port: UInt16, timeoutSeconds: Int = 30, sourceAddress: String? = nil) throws {
        // The descriptor is stored only once connected: a class whose init throws after every stored
        // property is set still runs deinit, which would close the number a second time — by then,
        // perhaps, another thread's new socket (a fuzzed request once failed with EBADF that way).
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw TestFailure("socket: \(String(cString: strerror(errno)))") }
        if let sourceAddress {
            var source = sockaddr_in()
            source.sin_family = sa_family_t(AF_INET)
            source.sin_addr.s_addr = inet_addr(sourceAddress)
            let bound = withUnsafePointer(to: &source) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            guard bound == 0 else {
                let message = String(cString: strerror(errno))
                Glibc.close(fd)
                throw TestFailure("bind \(sourceAddress): \(message)")
            }
        }
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
            throw TestFailure("connect 127.0.0.1:\(port): \(message)")
        }
        self.fd = fd
        setTimeout(seconds: timeoutSeconds)
    }

    deinit { close() }

    public func setTimeout(seconds: Int) {
        var timeout = timeval(tv_sec: seconds, tv_usec: 0)
        _ = setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    }

    public func close() {
        guard !closed else { return }
        closed = true
        Glibc.close(fd)
    }

    /// Sends the request head and body.
    /// HTTP/1.0 for streams: nginx then sends the body as it comes, without chunk framing.
    public func send(_ method: String, _ target: String, headers: [(String, String)] = [], body: [UInt8] = [],
                     version: String = "1.1") throws {
        var head = "\(method) \(target) HTTP/\(version)\r\nHost: localhost\r\nConnection: close\r\n"
        for (name, value) in headers { head += "\(name): \(value)\r\n" }
        if !body.isEmpty || ["POST", "PUT", "PATCH"].contains(method) { head += "Content-Length: \(body.count)\r\n" }
        head += "\r\n"
        try sendRaw(Array(head.utf8) + body)
    }

    /// Sends bytes as they are.
    public func sendRaw(_ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress! + offset, bytes.count - offset, Int32(MSG_NOSIGNAL)) }
            guard written > 0 else { throw TestFailure("send: \(String(cString: strerror(errno)))") }
            offset += written
        }
    }

    /// Reads until `marker` has arrived anywhere in what was received so far.
    public func read(until marker: String) throws {
        let needle = Array(marker.utf8)
        while !Self.contains(received, needle) {
            guard try readSome() else {
                throw TestFailure("connection closed before \"\(marker)\" arrived; got: \(String(decoding: received.suffix(500), as: UTF8.self))")
            }
        }
    }

    /// What was received so far, as text.
    public var receivedText: String { String(decoding: received, as: UTF8.self) }

    /// Reads to the end of the connection and parses the response (chunked bodies are decoded).
    public func readResponse() throws -> Response {
        while try readSome() {}
        guard let headEnd = Self.find(received, Array("\r\n\r\n".utf8)) else {
            throw TestFailure("no HTTP head in: \(receivedText.prefix(300))")
        }
        let head = String(decoding: received[..<headEnd], as: UTF8.self)
        let lines = head.components(separatedBy: "\r\n")
        let statusParts = lines[0].split(separator: " ")
        guard statusParts.count >= 2, let status = Int(statusParts[1]) else { throw TestFailure("bad status line: \(lines[0])") }
        var headers: [String: String] = [:]
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        var body = Array(received[(headEnd + 4)...])
        if headers["transfer-encoding"]?.lowercased() == "chunked" { body = try Self.dechunk(body) }
        return Response(status: status, headers: headers, body: body)
    }

    /// Reads until one whole response has arrived (the head, then `content-length` bytes of body or a
    /// chunked body through its last chunk) or the server closed, whichever comes first, as an HTTP
    /// client does: a server that keeps the connection open after the message does not hold the test.
    /// Returns the response as it came on the wire.
    @discardableResult
    public func readMessage() throws -> String {
        while !Self.isCompleteMessage(received), try readSome() {}
        return receivedText
    }

    /// True once `bytes` hold a whole response (see `readMessage`).
    static func isCompleteMessage(_ bytes: [UInt8]) -> Bool {
        guard let headEnd = find(bytes, Array("\r\n\r\n".utf8)) else { return false }
        let fields = String(decoding: bytes[..<headEnd], as: UTF8.self).lowercased().components(separatedBy: "\r\n").dropFirst()
        func field(_ name: String) -> String? {
            fields.first { $0.hasPrefix(name + ":") }.map { $0.dropFirst(name.count + 1).trimmingCharacters(in: .whitespaces) }
        }
        let body = bytes[(headEnd + 4)...]
        if field("transfer-encoding") == "chunked" { return body.count >= 5 && Array(body.suffix(5)) == Array("0\r\n\r\n".utf8) }
        if let length = field("content-length").flatMap({ Int($0) }) { return body.count >= length }
        return false
    }

    /// The body of a response as it came on the wire (`readMessage`), de-chunked when it was chunked.
    public static func body(ofMessage message: String) throws -> String {
        let bytes = Array(message.utf8)
        guard let headEnd = find(bytes, Array("\r\n\r\n".utf8)) else { throw TestFailure("no HTTP head in: \(message.prefix(300))") }
        let body = Array(bytes[(headEnd + 4)...])
        let chunked = String(decoding: bytes[..<headEnd], as: UTF8.self).lowercased().contains("\r\ntransfer-encoding: chunked")
        return String(decoding: chunked ? try dechunk(body) : body, as: UTF8.self)
    }

    /// One read; false at the end of the connection.
    @discardableResult
    public func readSome() throws -> Bool {
        var buffer = [UInt8](repeating: 0, count: 65536)
        let got = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        if got < 0 {
            if errno == EAGAIN || errno == EWOULDBLOCK { throw TestFailure("timed out waiting for the server; got: \(receivedText.suffix(300))") }
            throw TestFailure("recv: \(String(cString: strerror(errno)))")
        }
        if got == 0 { return false }
        received += buffer[0..<got]
        return true
    }

    static func dechunk(_ bytes: [UInt8]) throws -> [UInt8] {
        var out: [UInt8] = []
        var index = 0
        while index < bytes.count {
            guard let lineEnd = bytes[index...].firstIndex(of: UInt8(ascii: "\r")).map({ $0 - index }) else { break }
            let sizeText = String(decoding: bytes[index..<(index + lineEnd)], as: UTF8.self).split(separator: ";")[0]
            guard let size = Int(sizeText, radix: 16) else { throw TestFailure("bad chunk size \(sizeText)") }
            index += lineEnd + 2
            if size == 0 { break }
            out += bytes[index..<min(bytes.count, index + size)]
            index += size + 2
        }
        return out
    }

    public static func find(_ haystack: [UInt8], _ needle: [UInt8]) -> Int? {
        guard needle.count <= haystack.count else { return nil }
        for start in 0...(haystack.count - needle.count) where haystack[start] == needle[0] {
            if haystack[start..<(start + needle.count)].elementsEqual(needle) { return start }
        }
        return nil
    }

    public static func contains(_ haystack: [UInt8], _ needle: [UInt8]) -> Bool { find(haystack, needle) != nil }
}
