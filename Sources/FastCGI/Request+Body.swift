internal import CFastCGI
import Glibc

extension Request {
    /// A body limit for requests that do not say otherwise: 1 MiB, as the API's nginx config caps it.
    public static let defaultBodyLimit = 1 << 20

    /// Reads the whole request body, at most `limit` bytes. Calls `FCGX_GetStr`.
    ///
    /// A `CONTENT_LENGTH` above `limit` throws `.bodyTooLarge` before any byte is read; a body that
    /// turns out longer than `limit` anyway (the length lied, or there was none) throws as soon as
    /// byte `limit + 1` arrives, so no more than `limit + 1` bytes are ever held. Either way the
    /// rest of the body is left unread and the response can still be written (a 413). The body can
    /// be read once per request (`.bodyAlreadyRead` afterwards).
    public func readBody(limit: Int = Request.defaultBodyLimit) throws(FastCGIError) -> [UInt8] {
        precondition(limit >= 0, "a body limit cannot be negative")
        return try withState { state throws(FastCGIError) -> [UInt8] in
            let input = try state.inputStream()
            guard !state.bodyConsumed else { throw .bodyAlreadyRead }
            state.bodyConsumed = true
            let declared = try state.params.declaredContentLength()
            if let declared, declared > limit { throw .bodyTooLarge(limit: limit, declared: declared) }
            // Reading one byte past the limit is how a body longer than declared is noticed.
            let ceiling = limit == Int.max ? limit : limit + 1
            var body: [UInt8] = []
            body.reserveCapacity(min(declared ?? 0, limit))
            var chunk = [UInt8](repeating: 0, count: 16 * 1024)
            while true {
                let wanted = min(chunk.count, ceiling - body.count)
                let got = chunk.withUnsafeMutableBufferPointer { buffer in
                    buffer.withMemoryRebound(to: CChar.self) { FCGX_GetStr($0.baseAddress, Int32(wanted), input) }
                }
                if got > 0 { body.append(contentsOf: chunk[0..<Int(got)]) }
                if body.count > limit { throw .bodyTooLarge(limit: limit, declared: declared) }
                if got < wanted {
                    let code = FCGX_GetError(input)
                    guard code == 0 else { throw Self.readError(code, state: &state) }
                    state.inputAtEnd = true
                    return body
                }
            }
        }
    }

    /// Reads and drops whatever is left of the body, up to the end of the input stream, so that the
    /// connection carries nothing more from the web server unless it closes. Calls `FCGX_GetStr`.
    static func discardInput(_ state: inout RequestState) throws(FastCGIError) {
        guard !state.inputAtEnd else { return }
        let input = try state.inputStream()
        state.bodyConsumed = true
        var chunk = [UInt8](repeating: 0, count: 16 * 1024)
        while true {
            let got = chunk.withUnsafeMutableBufferPointer { buffer in
                buffer.withMemoryRebound(to: CChar.self) { FCGX_GetStr($0.baseAddress, Int32($0.count), input) }
            }
            if got < Int32(chunk.count) {
                let code = FCGX_GetError(input)
                guard code == 0 else { throw readError(code, state: &state) }
                state.inputAtEnd = true
                return
            }
        }
    }

    /// A broken connection while reading means the web server (and so the client) is gone.
    static func readError(_ code: Int32, state: inout RequestState) -> FastCGIError {
        if code == EPIPE || code == ECONNRESET {
            state.clientGone = true
            return .clientGone
        }
        return .readFailed(code: code)
    }
}
