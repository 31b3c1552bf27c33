import Base
import FastCGI
import Glibc

/// One API worker process (a php-fpm child): a plain loop that accepts one FastCGI request, answers
/// it on the worker's own PostgreSQL connection and finishes it, `maxRequests` times (0: forever).
///
/// Signals, as the supervisor sends them: SIGQUIT ends the loop after the request in flight (it is
/// blocked while a request is handled, so no system call of the handler is interrupted); SIGTERM
/// and SIGINT end the process at once (their default action).
public struct APIWorker {
    public let socket: ListeningSocket
    public let configuration: APIConfiguration
    public let maxRequests: Int

    public init(socket: ListeningSocket, configuration: APIConfiguration, maxRequests: Int) {
        self.socket = socket
        self.configuration = configuration
        self.maxRequests = maxRequests
    }

    /// Sets up this process's signals for a worker: TERM/INT default (die), QUIT → flag, HUP ignored
    /// (the supervisor reloads), PIPE ignored (writes to a gone client fail with EPIPE).
    static func installSignalHandlers() {
        ProcessSignals.prepare()
        ProcessSignals.reset(SIGTERM)
        ProcessSignals.reset(SIGINT)
        ProcessSignals.reset(SIGALRM)
        ProcessSignals.reset(SIGCHLD)
        ProcessSignals.reset(SIGHUP, ignore: true)
        ProcessSignals.reset(SIGPIPE, ignore: true)
        ProcessSignals.install(SIGQUIT) { _ in ProcessSignals.quit.store(true, ordering: .relaxed) }
        ProcessSignals.setBlocked([SIGQUIT, SIGTERM, SIGINT, SIGHUP, SIGALRM, SIGCHLD], false)
    }

    /// Serves until SIGQUIT, `maxRequests`, or a broken socket; returns the exit status.
    public func run() -> Int32 {
        Self.installSignalHandlers()
        let application = APIApplication(configuration: configuration)
        application.connect()
        let request: Request
        do {
            request = try Request(socket: socket, interruptibleAccept: true)
        } catch {
            Log.error("worker cannot prepare a request", ["error": error.description])
            return 1
        }
        var served = 0
        while !ProcessSignals.quit.load(ordering: .relaxed) {
            do throws(FastCGIError) {
                try request.accept()
            } catch .acceptInterrupted {
                continue
            } catch .listenerShutDown {
                break
            } catch {
                Log.error("accept failed", ["error": error.description])
                return 1
            }
            ProcessSignals.setBlocked([SIGQUIT], true)
            serve(request, with: application)
            request.finish()
            ProcessSignals.setBlocked([SIGQUIT], false)
            served += 1
            if maxRequests > 0 && served >= maxRequests { break }
        }
        return 0
    }

    /// Reads the body (at most `bodyLimit` bytes), lets the application answer, writes the answer.
    func serve(_ request: Request, with application: APIApplication) {
        let params = request.params
        var body: [UInt8] = []
        if params.contentLength.map({ $0 > 0 }) ?? ["POST", "PUT", "PATCH"].contains(params.method) {
            let read = Result { () throws(FastCGIError) -> [UInt8] in try request.readBody(limit: configuration.bodyLimit) }
            switch read {
            case .success(let bytes):
                body = bytes
            case .failure(let error):
                if case .bodyTooLarge = error {
                    write(.problem(.bodyTooLarge(limit: configuration.bodyLimit)), to: request)
                } else if case .clientGone = error {
                    return
                } else {
                    write(.problem(.invalidParameter("(body)", "the request body could not be read: \(error.description)")), to: request)
                }
                return
            }
        }
        let httpRequest = HTTPRequest(method: params.method, path: params.path,
                                      query: params.query.map { (name: $0.name, value: $0.value) }, headers: params.headers,
                                      body: body, remoteAddress: params.remoteAddress ?? "")
        write(application.handle(httpRequest), to: request)
    }

    func write(_ response: HTTPResponse, to request: Request) {
        do {
            try request.respond(status: response.status, headers: response.headers, body: response.body)
        } catch {
            if case .clientGone = error { return }
            Log.warning("response not written", ["error": error.description])
        }
    }
}
