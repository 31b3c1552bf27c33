import Base
import Foundation
import TestSupport
import Glibc

/// A small FastCGI client (the web server's side of the protocol) speaking FastCGI 1.0 records
/// over a unix socket, as nginx does: BEGIN_REQUEST, PARAMS (name-value pairs, then an empty
/// record), STDIN (then an empty record); it reads STDOUT/STDERR records up to END_REQUEST.
final class FastCGITestClient {
    enum RecordType: UInt8 {
        case beginRequest = 1, abortRequest, endRequest, params, stdin, stdout, stderr, data,
             getValues, getValuesResult, unknownType
    }

    struct Record {
        var type: UInt8
        var requestID: UInt16
        var content: [UInt8]
    }

    /// Everything the application sent back for one request.
    struct Response {
        var stdout: [UInt8] = []
        var stderr: [UInt8] = []
        var appStatus: UInt32 = 0
        var protocolStatus: UInt8 = 0
        var ended = false

        /// The CGI head (up to the blank line) split into lines.
        var headLines: [String] {
            let text = String(decoding: stdout, as: UTF8.self)
            guard let end = text.range(of: "\r\n\r\n") else { return [] }
            return text[..<end.lowerBound].components(separatedBy: "\r\n")
        }

        /// The status code from the `Status:` line.
        var status: Int? {
            headLines.first { $0.hasPrefix("Status: ") }.flatMap { Int($0.dropFirst(8).prefix(3)) }
        }

        func header(_ name: String) -> String? {
            let prefix = name.lowercased() + ": "
            return headLines.first { $0.lowercased().hasPrefix(prefix) }.map { String($0.dropFirst(prefix.count)) }
        }

        /// The bytes after the head.
        var body: [UInt8] {
            let marker: [UInt8] = [13, 10, 13, 10]
            guard stdout.count >= 4 else { return [] }
            for index in 0...(stdout.count - 4) where Array(stdout[index..<index + 4]) == marker {
                return Array(stdout[(index + 4)...])
            }
            return []
        }

        var text: String { String(decoding: body, as: UTF8.self) }
    }

    let fd: Int32
    private var pending: [UInt8] = []

    /// Connects to the application's socket; reads give up after `timeoutSeconds`.
    init(path: String, timeoutSeconds: Int = 10) throws {
        // Stored only once connected, so a failed connect never reaches deinit's close (see HTTPConnection).
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw TestFailure("socket: \(String(cString: strerror(errno)))") }
        guard UnixSocketAddress.connect(fd, to: path) else {
            let message = String(cString: strerror(errno))
            Glibc.close(fd)
            throw TestFailure("connect \(path): \(message)")
        }
        self.fd = fd
        var timeout = timeval(tv_sec: timeoutSeconds, tv_usec: 0)
        _ = setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    }

    deinit { close() }

    private var isClosed = false

    func close() {
        guard !isClosed else { return }
        isClosed = true
        Glibc.close(fd)
    }

    // MARK: - Sending

    /// Sends a whole request: BEGIN_REQUEST, the params, the body, and the empty records that end
    /// the PARAMS and STDIN streams.
    func send(params: [(String, String)], body: [UInt8] = [], requestID: UInt16 = 1, keepConnection: Bool = false) throws {
        try sendBeginRequest(requestID: requestID, keepConnection: keepConnection)
        try sendParams(params, requestID: requestID)
        try sendStream(.stdin, body, requestID: requestID)
    }

    func sendBeginRequest(requestID: UInt16 = 1, keepConnection: Bool = false) throws {
        // role RESPONDER (1), flags, 5 reserved bytes
        try sendRecord(.beginRequest, requestID: requestID, content: [0, 1, keepConnection ? 1 : 0, 0, 0, 0, 0, 0])
    }

    func sendParams(_ params: [(String, String)], requestID: UInt16 = 1) throws {
        var encoded: [UInt8] = []
        for (name, value) in params {
            let nameBytes = Array(name.utf8)
            let valueBytes = Array(value.utf8)
            encoded += Self.encodeLength(nameBytes.count) + Self.encodeLength(valueBytes.count) + nameBytes + valueBytes
        }
        try sendStream(.params, encoded, requestID: requestID)
    }

    /// Sends `bytes` as records of at most 65535 bytes, then the empty record that ends the stream.
    func sendStream(_ type: RecordType, _ bytes: [UInt8], requestID: UInt16 = 1, end: Bool = true) throws {
        var offset = 0
        while offset < bytes.count {
            let count = min(65535, bytes.count - offset)
            try sendRecord(type, requestID: requestID, content: Array(bytes[offset..<offset + count]))
            offset += count
        }
        if end { try sendRecord(type, requestID: requestID, content: []) }
    }

    /// Name-value pair length: one byte below 128, else four bytes with the high bit set.
    static func encodeLength(_ length: Int) -> [UInt8] {
        if length < 128 { return [UInt8(length)] }
        return [UInt8((length >> 24) & 0x7f) | 0x80, UInt8((length >> 16) & 0xff), UInt8((length >> 8) & 0xff), UInt8(length & 0xff)]
    }

    func sendRecord(_ type: RecordType, requestID: UInt16, content: [UInt8]) throws {
        let padding = (8 - content.count % 8) % 8
        var record: [UInt8] = [1, type.rawValue, UInt8(requestID >> 8), UInt8(requestID & 0xff),
                               UInt8(content.count >> 8), UInt8(content.count & 0xff), UInt8(padding), 0]
        record += content
        record += [UInt8](repeating: 0, count: padding)
        try writeAll(record)
    }

    func writeAll(_ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeBytes { raw in
                Glibc.send(fd, raw.baseAddress! + offset, bytes.count - offset, Int32(MSG_NOSIGNAL))
            }
            if written < 0 {
                if errno == EINTR { continue }
                throw TestFailure("send: \(String(cString: strerror(errno)))")
            }
            offset += written
        }
    }

    // MARK: - Receiving

    /// The next record, or nil when the application closed the connection.
    func readRecord() throws -> Record? {
        guard let header = try readExactly(8) else { return nil }
        guard header[0] == 1 else { throw TestFailure("unexpected FastCGI version \(header[0])") }
        let length = Int(header[4]) << 8 | Int(header[5])
        let padding = Int(header[6])
        guard let body = try readExactly(length + padding) else { throw TestFailure("connection closed inside a record") }
        return Record(type: header[1], requestID: UInt16(header[2]) << 8 | UInt16(header[3]), content: Array(body.prefix(length)))
    }

    /// Reads records into `response` until its stdout contains `marker` (or END_REQUEST arrives).
    func readStdout(into response: inout Response, until marker: String) throws {
        let needle = Array(marker.utf8)
        while !Self.contains(response.stdout, needle) && !response.ended {
            guard try readNext(into: &response) else { throw TestFailure("connection closed before \"\(marker)\" arrived") }
        }
    }

    /// Reads records until END_REQUEST.
    func readResponse(into response: inout Response) throws {
        while !response.ended {
            guard try readNext(into: &response) else { throw TestFailure("connection closed before END_REQUEST") }
        }
    }

    /// Reads a whole response.
    func readResponse() throws -> Response {
        var response = Response()
        try readResponse(into: &response)
        return response
    }

    /// True when the application closed its end: the next read sees end of file.
    func readsEndOfFile() throws -> Bool {
        try readExactly(1) == nil
    }

    private func readNext(into response: inout Response) throws -> Bool {
        guard let record = try readRecord() else { return false }
        switch RecordType(rawValue: record.type) {
        case .stdout: response.stdout += record.content
        case .stderr: response.stderr += record.content
        case .endRequest:
            guard record.content.count >= 5 else { throw TestFailure("short END_REQUEST record") }
            let c = record.content
            response.appStatus = UInt32(c[0]) << 24 | UInt32(c[1]) << 16 | UInt32(c[2]) << 8 | UInt32(c[3])
            response.protocolStatus = c[4]
            response.ended = true
        default:
            throw TestFailure("unexpected record type \(record.type)")
        }
        return true
    }

    private func readExactly(_ count: Int) throws -> [UInt8]? {
        while pending.count < count {
            var buffer = [UInt8](repeating: 0, count: 65536)
            let got = buffer.withUnsafeMutableBytes { Glibc.recv(fd, $0.baseAddress, $0.count, 0) }
            if got < 0 {
                if errno == EINTR { continue }
                if errno == EAGAIN || errno == EWOULDBLOCK { throw TestFailure("timed out waiting for the application") }
                throw TestFailure("recv: \(String(cString: strerror(errno)))")
            }
            if got == 0 {
                if pending.isEmpty { return nil }
                throw TestFailure("connection closed after \(pending.count) of \(count) bytes")
            }
            pending += buffer[0..<got]
        }
        let result = Array(pending[0..<count])
        pending.removeFirst(count)
        return result
    }

    static func contains(_ haystack: [UInt8], _ needle: [UInt8]) -> Bool {
        guard !needle.isEmpty, haystack.count >= needle.count else { return needle.isEmpty }
        for start in 0...(haystack.count - needle.count) where haystack[start] == needle[0] {
            if Array(haystack[start..<start + needle.count]) == needle { return true }
        }
        return false
    }
}
