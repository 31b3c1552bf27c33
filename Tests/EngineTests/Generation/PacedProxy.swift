import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// A loopback TCP proxy that passes requests through at once and answers back slowly, a few bytes
/// at a time with a pause between, so a replay server's streamed answer (which it writes all at once)
/// arrives at the client the way a model writes it: over seconds, in many small pieces.
final class PacedProxy: Sendable {
    let port: Int
    private let upstreamPort: Int
    private let bytesPerPause: Int
    private let pause: Duration
    /// Called before each paced piece with the bytes of the answer passed so far; it may block, to
    /// hold the rest of the answer back until the test has seen what it waits for.
    private let hold: (@Sendable (Int) -> Void)?
    private let listener: Int32
    private let open = Mutex<Set<Int32>>([])
    private let stopped = Atomic<Bool>(false)

    /// Listens on 127.0.0.1 (a free port) and forwards to 127.0.0.1:`upstreamPort`; answers pass at
    /// `bytesPerPause` bytes per `pause`.
    init(upstreamPort: Int, bytesPerPause: Int, pause: Duration, hold: (@Sendable (Int) -> Void)? = nil) throws {
        self.hold = hold
        self.upstreamPort = upstreamPort
        self.bytesPerPause = bytesPerPause
        self.pause = pause
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw ProxyFailure("socket") }
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var address = Self.loopback(port: 0)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(fd, 16) == 0 else { close(fd); throw ProxyFailure("bind/listen") }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        listener = fd
        port = Int(UInt16(bigEndian: address.sin_port))
        Thread { [self] in acceptLoop() }.start()
    }

    /// The base URL of an OpenAI-compatible server behind the proxy.
    var baseURL: String { "http://127.0.0.1:\(port)/v1" }

    /// Stops accepting and cuts every open connection.
    func stop() {
        guard !stopped.exchange(true, ordering: .relaxed) else { return }
        shutdown(listener, Int32(SHUT_RDWR))
        close(listener)
        // Under the lock, so a socket is never shut down after its number was closed and reused.
        open.withLock { sockets in
            for fd in sockets { shutdown(fd, Int32(SHUT_RDWR)) }
        }
    }

    deinit { stop() }

    private static func loopback(port: Int) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return address
    }

    private func acceptLoop() {
        while !stopped.load(ordering: .relaxed) {
            let client = accept(listener, nil, nil)
            if client < 0 {
                if errno == EINTR { continue }
                return
            }
            let upstream = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var address = Self.loopback(port: upstreamPort)
            let connected = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(upstream, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            guard upstream >= 0, connected == 0 else {
                close(client)
                if upstream >= 0 { close(upstream) }
                continue
            }
            open.withLock { $0.formUnion([client, upstream]) }
            let finished = Atomic<Int>(0)
            let done: @Sendable () -> Void = { [self] in
                // The second direction to end closes both sockets.
                guard finished.add(1, ordering: .acquiringAndReleasing).newValue == 2 else { return }
                open.withLock { sockets in
                    sockets.subtract([client, upstream])
                    close(client)
                    close(upstream)
                }
            }
            Thread { [self] in copy(from: client, to: upstream, paced: false); done() }.start()
            Thread { [self] in copy(from: upstream, to: client, paced: true); done() }.start()
        }
    }

    /// Copies until `source` ends, then ends the writing half of `destination`.
    private func copy(from source: Int32, to destination: Int32, paced: Bool) {
        var buffer = [UInt8](repeating: 0, count: paced ? bytesPerPause : 65536)
        let pauseMicroseconds = useconds_t(pause.components.seconds * 1_000_000 + pause.components.attoseconds / 1_000_000_000_000)
        var passed = 0
        loop: while true {
            let count = recv(source, &buffer, buffer.count, 0)
            if count <= 0 { break }
            if paced { hold?(passed) }
            passed += count
            var offset = 0
            while offset < count {
                let written = buffer[offset..<count].withUnsafeBytes { send(destination, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                if written <= 0 { break loop }
                offset += written
            }
            if paced { usleep(pauseMicroseconds) }
        }
        shutdown(destination, Int32(SHUT_WR))
    }
}

struct ProxyFailure: Error, CustomStringConvertible {
    var call: String
    var code: Int32
    init(_ call: String) {
        self.call = call
        code = errno
    }
    var description: String { "\(call) failed: \(String(cString: strerror(code)))" }
}
