internal import CFastCGI
import Glibc

extension Request {
    /// Writes the status and headers: a CGI `Status: 200 OK` line, one line per header, and the
    /// blank line. Calls `FCGX_PutStr` (buffered: nothing leaves before ``flush()``, a full buffer
    /// or ``finish()``).
    ///
    /// Header names must be HTTP tokens other than `Status`; values must not contain CR, LF or NUL
    /// (`.invalidHeader`, nothing written). For a streamed response (server-sent events) send
    /// `X-Accel-Buffering: no` or configure `fastcgi_buffering off` in nginx, then ``flush()``.
    public func writeHead(status: Int, headers: [(name: String, value: String)] = []) throws(FastCGIError) {
        let head = try Self.encodeHead(status: status, headers: headers)
        try withState { state throws(FastCGIError) in
            let output = try state.outputStream()
            guard !state.headWritten else { throw .headAlreadyWritten }
            try Self.put(head, to: output, state: &state)
            state.headWritten = true
        }
    }

    /// Appends body bytes to the response. Calls `FCGX_PutStr`. Throws `.headNotWritten` before
    /// ``writeHead(status:headers:)``, `.clientGone` when the web server closed the connection.
    public func write(_ bytes: [UInt8]) throws(FastCGIError) {
        try withState { state throws(FastCGIError) in
            let output = try state.outputStream()
            guard state.headWritten else { throw .headNotWritten }
            try Self.put(bytes, to: output, state: &state)
        }
    }

    /// Appends UTF-8 text to the response body. Calls `FCGX_PutStr`.
    public func write(_ text: String) throws(FastCGIError) {
        try write(Array(text.utf8))
    }

    /// Sends everything buffered to the web server now (each server-sent event, for instance).
    /// Calls `FCGX_FFlush`. Throws `.clientGone` when the client has gone away (`EPIPE`).
    public func flush() throws(FastCGIError) {
        try withState { state throws(FastCGIError) in
            let output = try state.outputStream()
            if state.clientGone { throw .clientGone }
            _ = FCGX_FFlush(output)
            try Self.checkOutput(output, state: &state)
        }
    }

    /// True once the status and headers of the current request were written.
    public var isHeadWritten: Bool { (try? withState { $0.headWritten }) ?? false }

    /// Writes a whole response: status, headers (plus `Content-Length` unless given, or the status
    /// forbids one: 1xx, 204, 304) and body. Calls `FCGX_PutStr`. The request stays active;
    /// ``finish()`` ends it.
    public func respond(status: Int, headers: [(name: String, value: String)] = [], body: [UInt8] = []) throws(FastCGIError) {
        var allHeaders = headers
        let forbidsLength = (100..<200).contains(status) || status == 204 || status == 304
        if !forbidsLength && !headers.contains(where: { $0.name.lowercased() == "content-length" }) {
            allHeaders.append((name: "Content-Length", value: String(body.count)))
        }
        if body.count >= Self.directWriteThreshold {
            try writeWhole(head: try Self.encodeHead(status: status, headers: allHeaders), body: body)
            return
        }
        try writeHead(status: status, headers: allHeaders)
        if !body.isEmpty { try write(body) }
    }

    /// Bodies at least this large bypass libfcgi's 8 KiB output buffer (see `writeWhole`).
    static let directWriteThreshold = 16 << 10

    /// The largest content of one FastCGI record that needs no padding (65535 rounded down to 8).
    static let recordContentLimit = 65_528

    /// Writes the head and a large body at once: as STDOUT records of up to 64 KiB, all in one
    /// `writev` (libfcgi would write a record, and the web server read one, per 8 KiB: 17 of each
    /// for a 130 KiB plan). The records go straight to the connection (`FCGX_Request.ipcFd`) after
    /// whatever libfcgi still buffers (`FCGX_FFlush`), so libfcgi's own end-of-stream and
    /// end-of-request records follow them as usual at ``finish()``.
    func writeWhole(head: [UInt8], body: [UInt8]) throws(FastCGIError) {
        try withState { state throws(FastCGIError) in
            let output = try state.outputStream()
            guard !state.headWritten else { throw .headAlreadyWritten }
            if state.clientGone { throw .clientGone }
            _ = FCGX_FFlush(output)
            try Self.checkOutput(output, state: &state)
            state.headWritten = true
            let fd = state.raw.pointee.ipcFd
            let requestID = state.raw.pointee.requestId
            let failure = head.withUnsafeBytes { headBytes in
                body.withUnsafeBytes { bodyBytes in Self.writeRecords(of: [headBytes, bodyBytes], requestID: requestID, to: fd) }
            }
            guard let code = failure else { return }
            if code == EPIPE || code == ECONNRESET {
                state.clientGone = true
                throw .clientGone
            }
            throw .writeFailed(code: code)
        }
    }

    /// Frames `parts` (one byte stream) as STDOUT records and writes them with `writev`, resuming
    /// after a partial write or a signal; nil, or the errno that stopped it.
    static func writeRecords(of parts: [UnsafeRawBufferPointer], requestID: Int32, to fd: Int32) -> Int32? {
        let total = parts.reduce(0) { $0 + $1.count }
        let recordCount = (total + recordContentLimit - 1) / recordContentLimit
        var headers = [UInt8](repeating: 0, count: recordCount * 8)
        var vectors: [iovec] = []
        vectors.reserveCapacity(recordCount * 3)
        // The vectors point into `headers`, so they are written before its storage is let go.
        return headers.withUnsafeMutableBytes { headerBytes -> Int32? in
            var part = 0, offset = 0
            for record in 0..<recordCount {
                let length = min(recordContentLimit, total - record * recordContentLimit)
                let header = headerBytes.baseAddress! + record * 8
                header.storeBytes(of: 1, toByteOffset: 0, as: UInt8.self)                                  // FCGI_VERSION_1
                header.storeBytes(of: 6, toByteOffset: 1, as: UInt8.self)                                  // FCGI_STDOUT
                header.storeBytes(of: UInt8(truncatingIfNeeded: requestID >> 8), toByteOffset: 2, as: UInt8.self)
                header.storeBytes(of: UInt8(truncatingIfNeeded: requestID), toByteOffset: 3, as: UInt8.self)
                header.storeBytes(of: UInt8(truncatingIfNeeded: length >> 8), toByteOffset: 4, as: UInt8.self)
                header.storeBytes(of: UInt8(truncatingIfNeeded: length), toByteOffset: 5, as: UInt8.self)
                vectors.append(iovec(iov_base: header, iov_len: 8))
                var left = length
                while left > 0 {
                    let take = min(left, parts[part].count - offset)
                    if take > 0 {
                        vectors.append(iovec(iov_base: UnsafeMutableRawPointer(mutating: parts[part].baseAddress! + offset), iov_len: take))
                    }
                    left -= take
                    offset += take
                    if offset == parts[part].count {
                        part += 1
                        offset = 0
                    }
                }
            }
            return Self.writeAll(vectors, to: fd)
        }
    }

    /// `writev` until every vector is written; nil, or the errno that stopped it.
    static func writeAll(_ vectors: [iovec], to fd: Int32) -> Int32? {
        var vectors = vectors
        var first = 0
        while first < vectors.count {
            let count = Int32(min(vectors.count - first, 1024))
            let written = vectors.withUnsafeBufferPointer { writev(fd, $0.baseAddress! + first, count) }
            if written < 0 {
                if errno == EINTR { continue }
                return errno
            }
            var left = written
            while left > 0 && first < vectors.count {
                if left >= vectors[first].iov_len {
                    left -= vectors[first].iov_len
                    first += 1
                } else {
                    vectors[first].iov_base = vectors[first].iov_base.map { $0 + left }
                    vectors[first].iov_len -= left
                    left = 0
                }
            }
        }
        return nil
    }

    /// Writes a whole response with a UTF-8 text body. Calls `FCGX_PutStr`.
    public func respond(status: Int, headers: [(name: String, value: String)] = [], body: String) throws(FastCGIError) {
        try respond(status: status, headers: headers, body: Array(body.utf8))
    }

    // MARK: - Encoding and output

    static func encodeHead(status: Int, headers: [(name: String, value: String)]) throws(FastCGIError) -> [UInt8] {
        guard (100...999).contains(status) else { throw .invalidStatus(status) }
        var text = "Status: \(status) \(reasonPhrase(for: status))\r\n"
        for (name, value) in headers {
            guard isToken(name), name.lowercased() != "status",
                  !value.utf8.contains(where: { $0 == 13 || $0 == 10 || $0 == 0 }) else {
                throw .invalidHeader(name: name)
            }
            text += "\(name): \(value)\r\n"
        }
        text += "\r\n"
        return Array(text.utf8)
    }

    /// RFC 9110 `token`: one or more of the visible characters other than separators.
    static func isToken(_ name: String) -> Bool {
        !name.isEmpty && name.utf8.allSatisfy { byte in
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"):
                return true
            default:
                return "!#$%&'*+-.^_`|~".utf8.contains(byte)
            }
        }
    }

    /// Writes bytes in pieces `FCGX_PutStr` can take (its length is an `int`), checking each.
    static func put(_ bytes: [UInt8], to output: UnsafeMutablePointer<FCGX_Stream>, state: inout RequestState) throws(FastCGIError) {
        if state.clientGone { throw .clientGone }
        let piece = 1 << 20
        var offset = 0
        while offset < bytes.count {
            let count = min(piece, bytes.count - offset)
            let written = bytes.withUnsafeBufferPointer { buffer in
                buffer.withMemoryRebound(to: CChar.self) { FCGX_PutStr($0.baseAddress! + offset, Int32(count), output) }
            }
            try checkOutput(output, state: &state)
            // A short write with no error recorded means the stream was already closed.
            guard written == Int32(count) else { throw .writeFailed(code: FCGX_CALL_SEQ_ERROR) }
            offset += count
        }
    }

    /// Turns the output stream's sticky error into a Swift error. libfcgi keeps the first error
    /// and then reports success for later flushes of a closed stream, so it is checked every time.
    static func checkOutput(_ output: UnsafeMutablePointer<FCGX_Stream>, state: inout RequestState) throws(FastCGIError) {
        let code = FCGX_GetError(output)
        guard code != 0 else { return }
        if code == EPIPE || code == ECONNRESET {
            state.clientGone = true
            throw .clientGone
        }
        throw .writeFailed(code: code)
    }

    /// The standard reason phrase, or "Status" for codes without one.
    static func reasonPhrase(for status: Int) -> String {
        switch status {
        case 100: "Continue"
        case 101: "Switching Protocols"
        case 200: "OK"
        case 201: "Created"
        case 202: "Accepted"
        case 204: "No Content"
        case 206: "Partial Content"
        case 301: "Moved Permanently"
        case 302: "Found"
        case 303: "See Other"
        case 304: "Not Modified"
        case 307: "Temporary Redirect"
        case 308: "Permanent Redirect"
        case 400: "Bad Request"
        case 401: "Unauthorized"
        case 403: "Forbidden"
        case 404: "Not Found"
        case 405: "Method Not Allowed"
        case 406: "Not Acceptable"
        case 408: "Request Timeout"
        case 409: "Conflict"
        case 410: "Gone"
        case 411: "Length Required"
        case 412: "Precondition Failed"
        case 413: "Content Too Large"
        case 415: "Unsupported Media Type"
        case 422: "Unprocessable Content"
        case 428: "Precondition Required"
        case 429: "Too Many Requests"
        case 500: "Internal Server Error"
        case 501: "Not Implemented"
        case 502: "Bad Gateway"
        case 503: "Service Unavailable"
        case 504: "Gateway Timeout"
        default: "Status"
        }
    }
}
