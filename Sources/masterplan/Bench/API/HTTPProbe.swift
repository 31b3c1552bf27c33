import Foundation

/// A blocking HTTP/1.1 client on 127.0.0.1 for the bench's few single requests and its load threads.
struct HTTPProbe {
    struct Response {
        var status: Int
        var body: [UInt8]
    }

    static func get(port: UInt16, path: String, headers: [String: String]) throws -> Response {
        try request(port: port, method: "GET", path: path, headers: headers, body: [])
    }

    static func request(port: UInt16, method: String, path: String, headers: [String: String], body: [UInt8]) throws -> Response {
        let fd = try connect(port: port)
        defer { close(fd) }
        var head = "\(method) \(path) HTTP/1.1\r\nHost: bench\r\nConnection: close\r\nContent-Length: \(body.count)\r\n"
        for (name, value) in headers { head += "\(name): \(value)\r\n" }
        try sendAll(fd, Array((head + "\r\n").utf8) + body)
        var reader = ResponseReader(fd: fd)
        guard let response = try reader.next() else { throw BenchFailure("no response to \(path)") }
        return response
    }

    static func connect(port: UInt16) throws -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = port.bigEndian
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else {
            close(fd)
            throw BenchFailure("connect to 127.0.0.1:\(port) failed: \(String(cString: strerror(errno)))")
        }
        var one: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        return fd
    }

    static func sendAll(_ fd: Int32, _ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let sent = bytes.withUnsafeBytes { send(fd, $0.baseAddress! + offset, bytes.count - offset, Int32(MSG_NOSIGNAL)) }
            guard sent > 0 else { throw BenchFailure("send failed: \(String(cString: strerror(errno)))") }
            offset += sent
        }
    }

    /// Reads responses with Content-Length (what nginx sends for these routes) one after another.
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
            while buffer.count < total { guard try fill() else { throw BenchFailure("connection closed mid-response") } }
            let body = Array(buffer[(headEnd! + 4)..<total])
            buffer.removeFirst(total)
            return Response(status: status, body: body)
        }

        mutating func fill() throws -> Bool {
            let got = scratch.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if got < 0 { throw BenchFailure("recv failed: \(String(cString: strerror(errno)))") }
            if got == 0 { return false }
            buffer += scratch[0..<got]
            return true
        }

        static func find(_ bytes: [UInt8]) -> Int? {
            guard bytes.count >= 4 else { return nil }
            for index in 0...(bytes.count - 4) where bytes[index] == 13 && bytes[index + 1] == 10 && bytes[index + 2] == 13 && bytes[index + 3] == 10 {
                return index
            }
            return nil
        }
    }
}
