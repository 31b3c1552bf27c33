import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Sends one HTTP/1.1 request over a fresh loopback connection and returns the response as it came on
/// the wire: head and body, read to the end of the message (its `content-length`, or the last chunk),
/// or to the server's close, whichever comes first — as an HTTP client reads it. Whether the server
/// said `connection: close` is in the head for the test to check.
enum RawHTTP {
    static func exchange(port: Int, method: String, path: String, headers: [(String, String)] = [], body: String = "") throws -> String {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw POSIXFailure("socket") }
        defer { close(fd) }
        // A safety net for a hung server, not a speed check: the replay server answers on Swift
        // concurrency's threads, which the whole suite shares, so a loaded run may take a while.
        var timeout = timeval(tv_sec: 60, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { throw POSIXFailure("connect") }
        var text = "\(method) \(path) HTTP/1.1\r\nhost: 127.0.0.1:\(port)\r\nconnection: close\r\n"
        for (name, value) in headers { text += "\(name): \(value)\r\n" }
        if !body.isEmpty || method == "POST" { text += "content-type: application/json\r\ncontent-length: \(body.utf8.count)\r\n" }
        text += "\r\n" + body
        let bytes = Array(text.utf8)
        var offset = 0
        while offset < bytes.count {
            let sent = bytes[offset...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard sent > 0 else { throw POSIXFailure("send") }
            offset += sent
        }
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = recv(fd, &buffer, buffer.count, 0)
            if count < 0 {
                // Say how far the exchange got, so a hung server shows where it stopped.
                let head = String(decoding: received.prefix(300), as: UTF8.self)
                throw POSIXFailure("recv from 127.0.0.1:\(port) \(method) \(path) after \(received.count) bytes [\(head)]")
            }
            if count == 0 { break }
            received.append(contentsOf: buffer[0..<count])
            if isComplete(received) { break }
        }
        return String(decoding: received, as: UTF8.self)
    }

    /// True once `bytes` hold a whole response: the head, then `content-length` bytes of body or a
    /// chunked body through its last (empty) chunk.
    static func isComplete(_ bytes: [UInt8]) -> Bool {
        guard let split = bytes.firstRange(of: Array("\r\n\r\n".utf8)) else { return false }
        let head = String(decoding: bytes[..<split.lowerBound], as: UTF8.self).lowercased()
        let fields = head.split(separator: "\r\n").dropFirst()
        func field(_ name: String) -> String? {
            fields.first { $0.hasPrefix(name + ":") }.map { $0.dropFirst(name.count + 1).trimmingCharacters(in: .whitespaces) }
        }
        let body = bytes[split.upperBound...]
        if field("transfer-encoding") == "chunked" {
            return body.count >= 5 && Array(body.suffix(5)) == Array("0\r\n\r\n".utf8)
        }
        if let length = field("content-length").flatMap({ Int($0) }) { return body.count >= length }
        return false
    }

    /// The body of a chunked response, de-chunked.
    static func dechunked(_ response: String) -> String {
        let bytes = Array(response.utf8)
        guard let split = bytes.firstRange(of: Array("\r\n\r\n".utf8)) else { return "" }
        var index = split.upperBound
        var body: [UInt8] = []
        while let lineEnd = bytes[index...].firstRange(of: Array("\r\n".utf8)),
              let size = Int(String(decoding: bytes[index..<lineEnd.lowerBound], as: UTF8.self), radix: 16), size > 0 {
            let start = lineEnd.upperBound
            guard start + size <= bytes.count else { break }
            body += bytes[start..<(start + size)]
            index = start + size + 2
        }
        return String(decoding: body, as: UTF8.self)
    }
}
