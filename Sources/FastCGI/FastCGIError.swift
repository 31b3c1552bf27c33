internal import CFastCGI
import Glibc

/// What went wrong while listening for, reading or answering a FastCGI request.
///
/// `description` is one sentence saying what happened and, where there is one, what to do. It never
/// quotes request data (parameter values, body bytes); the raw values stay in the associated values.
/// `errno` values are the C `errno` of the failing system call; libfcgi's own negative codes
/// (`FCGX_PROTOCOL_ERROR` …) are kept as they are and named in the description.
public enum FastCGIError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The socket path cannot be used as given (empty, contains `:` or NUL, too long).
    case invalidSocketPath(path: String, reason: String)
    /// Something that is not a socket (a regular file, a folder) is already at the socket path; it is
    /// not removed.
    case socketPathNotASocket(path: String)
    /// A live server accepts connections on the socket path already.
    case socketPathInUse(path: String)
    /// A system call failed (`socket`, `bind`, `chmod`, `listen`, `unlink`, `sigaction` …).
    case systemCallFailed(call: String, path: String?, errno: Int32)
    /// The inherited descriptor is not a listening stream socket.
    case notAListeningSocket(fileDescriptor: Int32, reason: String)
    /// `FCGX_Init` failed.
    case initializationFailed(code: Int32)
    /// A signal interrupted `accept` (only when the request was made with `interruptibleAccept`,
    /// or when libfcgi's own SIGTERM/SIGUSR1 handler asked for shutdown). Check your stop flag and
    /// call `accept()` again or stop.
    case acceptInterrupted
    /// `ListeningSocket.shutdown()` was called: no more requests will be accepted on this socket.
    case listenerShutDown
    /// `FCGX_Accept_r` failed for another reason; `code` is a negated `errno` or a libfcgi code.
    case acceptFailed(code: Int32)
    /// The call needs an accepted request, and there is none (before `accept()` or after `finish()`).
    case noActiveRequest
    /// The request body was already read (or discarded) for this request.
    case bodyAlreadyRead
    /// `CONTENT_LENGTH` is present but not a non-negative integer.
    case invalidContentLength(String)
    /// The body is larger than the caller's limit. `declared` is `CONTENT_LENGTH` when the request
    /// had one (it may be smaller than the body when the length lied).
    case bodyTooLarge(limit: Int, declared: Int?)
    /// Reading the body from the web server failed; `code` is an `errno` or a libfcgi code.
    case readFailed(code: Int32)
    /// `writeHead` was called a second time for the same request.
    case headAlreadyWritten
    /// Body bytes were written before the status line and headers.
    case headNotWritten
    /// The status code is not a three-digit HTTP status.
    case invalidStatus(Int)
    /// A header name is not an HTTP token, is `Status`, or its value contains CR, LF or NUL.
    case invalidHeader(name: String)
    /// The web server closed the connection: the browser went away (a write or flush failed with
    /// `EPIPE`/`ECONNRESET`, or the hangup poll saw the connection close).
    case clientGone
    /// Writing the response failed for another reason; `code` is an `errno` or a libfcgi code.
    case writeFailed(code: Int32)
    /// `poll` itself failed.
    case pollFailed(errno: Int32)

    public var description: String {
        switch self {
        case let .invalidSocketPath(path, reason):
            return "cannot listen on FastCGI socket path \"\(path)\": \(reason)"
        case let .socketPathNotASocket(path):
            return "\"\(path)\" exists and is not a socket; move it away or choose another socket path"
        case let .socketPathInUse(path):
            return "another server is already accepting connections on \"\(path)\"; stop it or choose another socket path"
        case let .systemCallFailed(call, path, code):
            let target = path.map { " for \"\($0)\"" } ?? ""
            return "\(call)\(target) failed: \(Self.errnoText(code))"
        case let .notAListeningSocket(fd, reason):
            return "file descriptor \(fd) is not a listening socket (\(reason)); start the process with the FastCGI socket on it, or pass a socket path"
        case let .initializationFailed(code):
            return "FCGX_Init failed: \(Self.codeText(code))"
        case .acceptInterrupted:
            return "waiting for a FastCGI connection was interrupted by a signal"
        case .listenerShutDown:
            return "the FastCGI listening socket was shut down; no more requests are accepted"
        case let .acceptFailed(code):
            return "accepting a FastCGI request failed: \(Self.codeText(code))"
        case .noActiveRequest:
            return "no FastCGI request is active; call accept() first"
        case .bodyAlreadyRead:
            return "the request body was already read"
        case .invalidContentLength:
            return "the request's CONTENT_LENGTH is not a non-negative integer"
        case let .bodyTooLarge(limit, declared):
            if let declared, declared > limit {
                return "the request body of \(declared) bytes is larger than the limit of \(limit) bytes"
            }
            return "the request body is larger than the limit of \(limit) bytes"
        case let .readFailed(code):
            return "reading the request body failed: \(Self.codeText(code))"
        case .headAlreadyWritten:
            return "the response status and headers were already written"
        case .headNotWritten:
            return "write the response status and headers (writeHead) before the body"
        case let .invalidStatus(status):
            return "\(status) is not a three-digit HTTP status code"
        case let .invalidHeader(name):
            return "the response header \"\(name)\" has an invalid name or a value with CR, LF or NUL"
        case .clientGone:
            return "the client has gone away (the web server closed the FastCGI connection)"
        case let .writeFailed(code):
            return "writing the response failed: \(Self.codeText(code))"
        case let .pollFailed(code):
            return "poll failed: \(Self.errnoText(code))"
        }
    }

    /// `strerror` text plus the symbolic number, e.g. "No such file or directory (errno 2)".
    static func errnoText(_ code: Int32) -> String {
        "\(String(cString: strerror(code))) (errno \(code))"
    }

    /// Text for a libfcgi result: its own negative codes, a negated errno, or a positive errno.
    static func codeText(_ code: Int32) -> String {
        switch code {
        case FCGX_UNSUPPORTED_VERSION: return "the web server speaks an unsupported FastCGI version"
        case FCGX_PROTOCOL_ERROR: return "FastCGI protocol error (the connection closed or sent a malformed record)"
        case FCGX_PARAMS_ERROR: return "malformed FastCGI parameters"
        case FCGX_CALL_SEQ_ERROR: return "libfcgi call-sequence error"
        case -9998: return "libfcgi is not initialised (FCGX_Init was not called)"
        case -9999: return "unknown libfcgi error"
        case ..<0: return errnoText(-code)
        default: return errnoText(code)
        }
    }
}
