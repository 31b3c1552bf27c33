internal import CFastCGI
import Glibc
import Synchronization

/// One FastCGI request slot, owning a libfcgi `FCGX_Request`: accept a request, read its params and
/// body, write the response, finish, and accept the next one.
///
/// Use one `Request` per thread, reused for every request that thread serves:
///
/// ```swift
/// let request = try Request(socket: socket)
/// while true {
///     try request.accept()
///     defer { request.finish() }
///     let body = try request.readBody(limit: 1 << 20)
///     try request.respond(status: 200, headers: [("Content-Type", "application/json")], body: reply)
/// }
/// ```
///
/// Several threads, each with its own `Request`, may `accept()` on the same socket concurrently.
/// The type is `Sendable` so a request can be handed to the thread that serves it; every operation
/// takes an internal lock, so calls from two threads cannot corrupt it, but one request is meant to
/// be driven by one thread at a time. Request properties such as `method`, `path` and `query`
/// come from ``params`` (see ``RequestParams``) through dynamic member lookup.
@dynamicMemberLookup
public final class Request: Sendable {
    /// The socket this slot accepts on.
    public let socket: ListeningSocket
    private let state: Mutex<RequestState>

    /// Prepares a request slot on `socket`. Calls `FCGX_InitRequest` (and `FCGX_Init` once).
    ///
    /// With `interruptibleAccept`, a signal delivered to the thread blocked in ``accept()`` (with a
    /// handler installed without `SA_RESTART`) makes it throw `.acceptInterrupted`
    /// (`FCGI_FAIL_ACCEPT_ON_INTR`); without it, libfcgi retries the accept.
    public init(socket: ListeningSocket, interruptibleAccept: Bool = false) throws(FastCGIError) {
        try FastCGILibrary.initialize()
        self.socket = socket
        // libfcgi's streams keep a pointer back to the FCGX_Request, so it must never move: it lives
        // in its own allocation for the life of this object.
        let raw = UnsafeMutablePointer<FCGX_Request>.allocate(capacity: 1)
        raw.initialize(to: FCGX_Request())
        _ = FCGX_InitRequest(raw, socket.fileDescriptor, interruptibleAccept ? FCGI_FAIL_ACCEPT_ON_INTR : 0)
        state = Mutex(RequestState(raw: raw))
    }

    deinit {
        state.withLock { state in
            if state.isActive { FCGX_Finish_r(state.raw) }
            // Closes a connection the web server asked to keep open (FCGI_KEEP_CONN); a no-op otherwise.
            FCGX_Free(state.raw, 1)
            state.raw.deinitialize(count: 1)
            state.raw.deallocate()
        }
    }

    /// Waits for the next request and reads its params. Calls `FCGX_Accept_r`.
    ///
    /// A request still active is finished first (as `FCGX_Accept_r` does). Throws
    /// `.listenerShutDown` after `socket.shutdown()`, `.acceptInterrupted` when a signal interrupted
    /// the wait (see ``init(socket:interruptibleAccept:)`` and ``FastCGILibrary``), and
    /// `.acceptFailed` otherwise.
    public func accept() throws(FastCGIError) {
        if socket.isShutDown { throw .listenerShutDown }
        try state.withLock { state throws(FastCGIError) in
            state.reset()
            let code = FCGX_Accept_r(state.raw)
            guard code == 0 else {
                if socket.isShutDown { throw .listenerShutDown }
                if code == -EINTR { throw .acceptInterrupted }
                throw .acceptFailed(code: code)
            }
            // One request per connection, whatever the web server asked (FCGI_KEEP_CONN): a kept
            // connection ties this worker to one nginx connection, and a test that reused one was
            // seen to fail intermittently under load. nginx's default (fastcgi_keep_conn off)
            // opens a connection per request anyway.
            state.raw.pointee.keepConnection = 0
            state.isActive = true
            state.params = RequestParams(Self.readParams(state.raw.pointee.envp))
        }
    }

    /// Ends the current request: flushes what is buffered, sends the end of the response and closes
    /// the connection (unless the web server asked to keep it). Calls `FCGX_Finish_r`.
    ///
    /// Does nothing when no request is active. Write errors are not reported here (the connection is
    /// closed either way); `flush()` first to learn whether the client received everything.
    public func finish() {
        state.withLock { state in
            guard state.isActive else { return }
            FCGX_Finish_r(state.raw)
            state.isActive = false
        }
    }

    /// True between a successful ``accept()`` and ``finish()``.
    public var isActive: Bool { state.withLock { $0.isActive } }

    /// The params of the current (or last) request; empty before the first ``accept()``.
    public var params: RequestParams { state.withLock { $0.params } }

    /// Forwards to ``params``: `request.method`, `request.path`, `request.query`,
    /// `request.headers`, `request.contentLength`, `request.remoteAddress`, …
    public subscript<Value>(dynamicMember keyPath: KeyPath<RequestParams, Value>) -> Value {
        params[keyPath: keyPath]
    }

    /// The descriptor of the current connection to the web server (`FCGX_Request.ipcFd`), for a
    /// caller that polls many requests at once; nil when none is open. Never read, write or close it.
    public var connectionFileDescriptor: Int32? {
        state.withLock { state in
            let fd = state.raw.pointee.ipcFd
            return state.isActive && fd >= 0 ? fd : nil
        }
    }

    /// Runs `body` with the state locked, for the extensions in other files.
    func withState<Result: Sendable>(_ body: (inout RequestState) throws(FastCGIError) -> Result) throws(FastCGIError) -> Result {
        try state.withLock { state throws(FastCGIError) -> Result in try body(&state) }
    }

    /// Copies libfcgi's `NAME=value` environment array into a dictionary.
    private static func readParams(_ envp: FCGX_ParamArray?) -> [String: String] {
        var params: [String: String] = [:]
        guard var entry = envp else { return params }
        while let cString = entry.pointee {
            let bytes = UnsafeBufferPointer(start: UnsafeRawPointer(cString).assumingMemoryBound(to: UInt8.self), count: strlen(cString))
            if let equals = bytes.firstIndex(of: UInt8(ascii: "=")) {
                let name = String(decoding: bytes[..<equals], as: UTF8.self)
                params[name] = String(decoding: bytes[(equals + 1)...], as: UTF8.self)
            }
            entry += 1
        }
        return params
    }
}

/// Everything mutable about a request slot; only touched with the slot's lock held.
struct RequestState: ~Copyable {
    /// The libfcgi request, allocated once per slot; never escapes the lock.
    let raw: UnsafeMutablePointer<FCGX_Request>
    var isActive = false
    var params = RequestParams([:])
    /// The body was read or discarded; a second read would see nothing.
    var bodyConsumed = false
    /// The input stream reached its end (the web server's empty STDIN record was read).
    var inputAtEnd = false
    var headWritten = false
    var clientGone = false

    init(raw: UnsafeMutablePointer<FCGX_Request>) {
        self.raw = raw
    }

    mutating func reset() {
        isActive = false
        params = RequestParams([:])
        bodyConsumed = false
        inputAtEnd = false
        headWritten = false
        clientGone = false
    }

    /// The input stream of the active request, or `.noActiveRequest`.
    func inputStream() throws(FastCGIError) -> UnsafeMutablePointer<FCGX_Stream> {
        guard isActive, let stream = raw.pointee.in else { throw .noActiveRequest }
        return stream
    }

    /// The output stream of the active request, or `.noActiveRequest`.
    func outputStream() throws(FastCGIError) -> UnsafeMutablePointer<FCGX_Stream> {
        guard isActive, let stream = raw.pointee.out else { throw .noActiveRequest }
        return stream
    }
}
