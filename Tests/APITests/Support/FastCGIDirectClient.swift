import Base
import Foundation
import TestSupport

/// Speaks FastCGI to a worker socket directly (no nginx), for what nginx would never let through,
/// such as a body above nginx's own limit. Just enough of the protocol: one request, role responder.
enum FastCGIDirectClient {
    struct Response {
        var status: Int
        var headers: [String: String]
        var body: [UInt8]
    }

    /// Sends `params` and the first `sendBodyBytes` bytes of the body, then reads the response.
    static func request(socket path: String, params: [(String, String)], body: [UInt8], sendBodyBytes: Int) throws -> Response {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        guard UnixSocketAddress.connect(fd, to: path) else { throw TestFailure("connect \(path): \(String(cString: strerror(errno)))") }
        var timeout = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))

        var out: [UInt8] = []
        out += record(type: 1, content: [0, 1, 0, 0, 0, 0, 0, 0])  // BEGIN_REQUEST, role responder, no keep-alive
        var encoded: [UInt8] = []
        for (name, value) in params { encoded += length(name.utf8.count) + length(value.utf8.count) + Array(name.utf8) + Array(value.utf8) }
        out += record(type: 4, content: encoded) + record(type: 4, content: [])
        var offset = 0
        let limit = min(sendBodyBytes, body.count)
        while offset < limit {
            let end = min(limit, offset + 65_535)
            out += record(type: 5, content: Array(body[offset..<end]))
            offset = end
        }
        if limit == body.count { out += record(type: 5, content: []) }
        var sent = 0
        while sent < out.count {
            let written = out.withUnsafeBytes { send(fd, $0.baseAddress! + sent, out.count - sent, Int32(MSG_NOSIGNAL)) }
            guard written > 0 else { break }  // the worker may answer and close before taking everything
            sent += written
        }

        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while true {
            let got = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if got <= 0 { break }
            received += buffer[0..<got]
        }
        var stdout: [UInt8] = []
        var index = 0
        while index + 8 <= received.count {
            let type = received[index + 1]
            let contentLength = Int(received[index + 4]) << 8 | Int(received[index + 5])
            let padding = Int(received[index + 6])
            let start = index + 8
            guard start + contentLength <= received.count else { break }
            if type == 6 { stdout += received[start..<(start + contentLength)] }
            index = start + contentLength + padding
        }
        let text = String(decoding: stdout, as: UTF8.self)
        guard let split = text.range(of: "\r\n\r\n") else { throw TestFailure("no CGI head in: \(text.prefix(300))") }
        var headers: [String: String] = [:]
        for line in text[..<split.lowerBound].components(separatedBy: "\r\n") {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        let status = Int(headers["status"]?.prefix(3) ?? "200") ?? 0
        return Response(status: status, headers: headers, body: Array(text[split.upperBound...].utf8))
    }

    static func record(type: UInt8, content: [UInt8]) -> [UInt8] {
        [1, type, 0, 1, UInt8(content.count >> 8), UInt8(content.count & 0xFF), 0, 0] + content
    }

    static func length(_ count: Int) -> [UInt8] {
        count < 128 ? [UInt8(count)] : [UInt8(0x80 | (count >> 24)), UInt8((count >> 16) & 0xFF), UInt8((count >> 8) & 0xFF), UInt8(count & 0xFF)]
    }
}
