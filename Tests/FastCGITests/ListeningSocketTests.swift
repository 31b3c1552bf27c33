import Base
import FastCGI
import Foundation
import Testing
import TestSupport

/// Creating, inheriting, sharing and stopping the listening socket.
@Suite(.dedicatedThreads, .serialized) struct ListeningSocketTests {
    @Test func socketFileLetsEveryoneConnect() throws {
        let directory = try TemporaryFolder(prefix: "mpfcgi")
        defer { directory.remove() }
        let path = directory.file("api.sock")
        let socket = try ListeningSocket.listen(path: path)
        defer { socket.close(removingSocketFile: true) }

        var info = stat()
        #expect(lstat(path, &info) == 0)
        #expect(info.st_mode & S_IFMT == S_IFSOCK)
        // nginx's workers run as nobody: "others" need write permission to connect.
        #expect(info.st_mode & 0o777 == 0o666)
        #expect(socket.path == path)
    }

    @Test func staleSocketFileIsReplaced() throws {
        let directory = try TemporaryFolder(prefix: "mpfcgi")
        defer { directory.remove() }
        let path = directory.file("stale.sock")
        // A server that died without removing its socket file.
        let dead = try ListeningSocket.listen(path: path)
        dead.close()
        #expect(FileManager.default.fileExists(atPath: path))

        let socket = try ListeningSocket.listen(path: path)
        let server = TestServer(directory: directory, socket: socket) { request in
            try request.respond(status: 200, body: "fresh")
        }
        defer { server.stop() }
        let client = try FastCGITestClient(path: path)
        try client.send(params: requestParams(uri: "/"))
        #expect(try client.readResponse().text == "fresh")
    }

    @Test func liveSocketIsNotTakenOver() throws {
        let directory = try TemporaryFolder(prefix: "mpfcgi")
        defer { directory.remove() }
        let path = directory.file("live.sock")
        let live = try ListeningSocket.listen(path: path)
        defer { live.close(removingSocketFile: true) }
        #expect(throws: FastCGIError.socketPathInUse(path: path)) { try ListeningSocket.listen(path: path) }
    }

    @Test func somethingElseAtThePathIsLeftAlone() throws {
        let directory = try TemporaryFolder(prefix: "mpfcgi")
        defer { directory.remove() }
        let path = directory.file("notes.txt")
        try "keep me".write(toFile: path, atomically: false, encoding: .utf8)
        #expect(throws: FastCGIError.socketPathNotASocket(path: path)) { try ListeningSocket.listen(path: path) }
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "keep me")
    }

    @Test(arguments: ["/tmp/app:9000.sock", "", "/tmp/" + String(repeating: "x", count: 120)])
    func unusablePathsAreRefused(path: String) {
        #expect {
            try ListeningSocket.listen(path: path)
        } throws: { error in
            guard case let .invalidSocketPath(refused, reason) = error as? FastCGIError else { return false }
            return refused == path && !reason.isEmpty
        }
    }

    @Test func pathWithColonNamesTheReason() {
        #expect {
            try ListeningSocket.listen(path: "/tmp/app:sock")
        } throws: { error in
            "\(error)".contains("':'") && "\(error)".contains("host:port")
        }
    }

    /// FCGX_OpenSocket calls exit() when bind fails; the module must throw instead.
    @Test func bindFailureIsAnErrorNotAProcessExit() {
        let path = "/tmp/mp-no-such-folder-\(getpid())/app.sock"
        #expect(throws: FastCGIError.systemCallFailed(call: "bind", path: path, errno: ENOENT)) {
            try ListeningSocket.listen(path: path)
        }
        #expect(FastCGIError.systemCallFailed(call: "bind", path: path, errno: ENOENT).description
            == "bind for \"\(path)\" failed: No such file or directory (errno 2)")
    }

    @Test func closeRemovesTheSocketFileOnlyWhenAsked() throws {
        let directory = try TemporaryFolder(prefix: "mpfcgi")
        defer { directory.remove() }
        let kept = try ListeningSocket.listen(path: directory.file("kept.sock"))
        kept.close()
        #expect(FileManager.default.fileExists(atPath: directory.file("kept.sock")))
        let removed = try ListeningSocket.listen(path: directory.file("removed.sock"))
        removed.close(removingSocketFile: true)
        #expect(!FileManager.default.fileExists(atPath: directory.file("removed.sock")))
    }

    @Test func inheritedSocketServesRequests() throws {
        let directory = try TemporaryFolder(prefix: "mpfcgi")
        defer { directory.remove() }
        let path = directory.file("inherited.sock")
        // What spawn-fcgi or systemd would hand over: a bound, listening socket on a descriptor.
        let fd = try Self.bareListeningSocket(path: path)
        let socket = try ListeningSocket.inherited(fileDescriptor: fd)
        #expect(socket.fileDescriptor == fd)
        #expect(socket.path == path)

        let server = TestServer(directory: directory, socket: socket) { request in
            try request.respond(status: 200, body: "inherited")
        }
        defer { server.stop() }
        let client = try FastCGITestClient(path: path)
        try client.send(params: requestParams(uri: "/"))
        #expect(try client.readResponse().text == "inherited")
    }

    @Test func descriptorThatIsNotAListeningSocketIsRefused() throws {
        let devNull = open("/dev/null", O_RDONLY)
        defer { close(devNull) }
        #expect(throws: FastCGIError.notAListeningSocket(fileDescriptor: devNull, reason: "it is not a socket")) {
            try ListeningSocket.inherited(fileDescriptor: devNull)
        }
        let unlistened = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(unlistened) }
        #expect(throws: FastCGIError.notAListeningSocket(fileDescriptor: unlistened, reason: "listen() was not called on it")) {
            try ListeningSocket.inherited(fileDescriptor: unlistened)
        }
    }

    @Test func shutdownWakesBlockedAccepts() throws {
        let directory = try TemporaryFolder(prefix: "mpfcgi")
        defer { directory.remove() }
        let socket = try ListeningSocket.listen(path: directory.file("stop.sock"))
        defer { socket.close(removingSocketFile: true) }
        let outcomes = Mailbox<String>()
        for _ in 0..<2 {
            Thread {
                do throws(FastCGIError) {
                    let request = try Request(socket: socket)
                    outcomes.put("waiting")
                    try request.accept()
                    outcomes.put("accepted")
                } catch {
                    outcomes.put("\(error == .listenerShutDown ? "listenerShutDown" : error.description)")
                }
            }.start()
        }
        #expect(outcomes.take() == "waiting")
        #expect(outcomes.take() == "waiting")
        Thread.sleep(forTimeInterval: 0.1)  // let both threads block inside FCGX_Accept_r
        socket.shutdown()
        #expect(socket.isShutDown)
        #expect(outcomes.take() == "listenerShutDown")
        #expect(outcomes.take() == "listenerShutDown")
    }

    @Test func initializationIgnoresSIGPIPEAndResetRestoresSIGTERM() throws {
        try FastCGILibrary.initialize()
        #expect(FastCGILibrary.isSIGPIPEIgnored)
        try FastCGILibrary.resetSignalHandlers()
        var action = sigaction()
        #expect(sigaction(SIGTERM, nil, &action) == 0)
        #expect(unsafeBitCast(action.__sigaction_handler.sa_handler, to: Int.self) == 0)  // SIG_DFL
        #expect(FastCGILibrary.isSIGPIPEIgnored)
    }

    /// A listening unix socket made with plain system calls.
    static func bareListeningSocket(path: String) throws -> Int32 {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0, UnixSocketAddress.bind(fd, to: path), listen(fd, 16) == 0 else {
            throw TestFailure("could not create a listening socket at \(path): \(String(cString: strerror(errno)))")
        }
        return fd
    }
}
