import Dispatch
import FastCGI
import Foundation
import TestSupport
import Synchronization

/// Serves FastCGI requests with the module under test: `threads` threads, each with its own
/// `Request`, accepting on one socket and running `handler` for each request.
final class TestServer: Sendable {
    let directory: TemporaryFolder
    let socket: ListeningSocket
    /// Errors the handler threw, as text; a test that expects none checks this is empty.
    let handlerErrors = Mutex<[String]>([])
    private let exited = DispatchSemaphore(value: 0)
    private let threadCount: Int

    var socketPath: String { socket.path ?? "" }

    /// Listens on a new socket in a new temporary folder.
    convenience init(threads: Int = 1, handler: @escaping @Sendable (Request) throws -> Void) throws {
        let directory = try TemporaryFolder(prefix: "mpfcgi")
        let socket = try ListeningSocket.listen(path: directory.file("app.sock"))
        self.init(directory: directory, socket: socket, threads: threads, handler: handler)
    }

    init(directory: TemporaryFolder, socket: ListeningSocket, threads: Int = 1, handler: @escaping @Sendable (Request) throws -> Void) {
        self.directory = directory
        self.socket = socket
        self.threadCount = threads
        // The test process must still end on SIGTERM (libfcgi's handler would only interrupt accept).
        try? FastCGILibrary.resetSignalHandlers()
        for _ in 0..<threads {
            let thread = Thread { [self] in
                defer { exited.signal() }
                let request: Request
                do {
                    request = try Request(socket: socket)
                } catch {
                    handlerErrors.withLock { $0.append("Request.init: \(error)") }
                    return
                }
                while true {
                    do throws(FastCGIError) {
                        try request.accept()
                    } catch .listenerShutDown {
                        return
                    } catch {
                        handlerErrors.withLock { $0.append("accept: \(error)") }
                        return
                    }
                    do {
                        try handler(request)
                    } catch {
                        handlerErrors.withLock { $0.append("handler: \(error)") }
                    }
                    request.finish()
                }
            }
            thread.start()
        }
    }

    /// Wakes every accepting thread, waits for them to end, and removes the socket and folder.
    func stop() {
        socket.shutdown()
        for _ in 0..<threadCount {
            if exited.wait(timeout: .now() + 15) == .timedOut {
                handlerErrors.withLock { $0.append("a server thread did not stop within 15 s") }
            }
        }
        socket.close(removingSocketFile: true)
        directory.remove()
    }

    var errors: [String] { handlerErrors.withLock { $0 } }
}

/// The params nginx-style clients send for a simple request.
func requestParams(method: String = "GET", uri: String = "/", query: String = "", extra: [(String, String)] = []) -> [(String, String)] {
    [("REQUEST_METHOD", method), ("DOCUMENT_URI", uri), ("REQUEST_URI", query.isEmpty ? uri : uri + "?" + query),
     ("QUERY_STRING", query), ("SERVER_PROTOCOL", "HTTP/1.1"), ("REMOTE_ADDR", "127.0.0.1")] + extra
}
