import Foundation
import Synchronization
import TestSupport
#if canImport(Glibc)
import Glibc
#endif

/// A loopback TCP proxy that passes requests through at once and answers back slowly, a few bytes
/// at a time with a pause between, so a replay server's streamed answer (which it writes all at once)
/// arrives at the client the way a model writes it: over seconds, in many small pieces.
final class PacedProxy: Sendable {
    private let upstreamPort: Int
    private let bytesPerPause: Int
    private let pause: Duration
    /// Called before each paced piece with the bytes of the answer passed so far; it may block, to
    /// hold the rest of the answer back until the test has seen what it waits for.
    private let hold: (@Sendable (Int) -> Void)?
    private let listener: LoopbackListener
    private let open = Mutex<Set<Int32>>([])

    /// Listens on 127.0.0.1 (a free port) and forwards to 127.0.0.1:`upstreamPort`; answers pass at
    /// `bytesPerPause` bytes per `pause`.
    init(upstreamPort: Int, bytesPerPause: Int, pause: Duration, hold: (@Sendable (Int) -> Void)? = nil) throws {
        self.hold = hold
        self.upstreamPort = upstreamPort
        self.bytesPerPause = bytesPerPause
        self.pause = pause
        listener = try LoopbackListener()
        Thread { [self] in acceptLoop() }.start()
    }

    var port: Int { listener.port }

    /// The base URL of an OpenAI-compatible server behind the proxy.
    var baseURL: String { "http://127.0.0.1:\(port)/v1" }

    /// Stops accepting and cuts every open connection.
    func stop() {
        listener.stop()
        // Under the lock, so a socket is never shut down after its number was closed and reused.
        open.withLock { sockets in
            for fd in sockets { shutdown(fd, Int32(SHUT_RDWR)) }
        }
    }

    deinit { stop() }

    private func acceptLoop() {
        while let client = listener.accept() {
            guard let upstream = LoopbackListener.connect(port: upstreamPort) else {
                close(client)
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
        while true {
            let count = recv(source, &buffer, buffer.count, 0)
            if count <= 0 { break }
            if paced { hold?(passed) }
            passed += count
            if !LoopbackListener.send(buffer[0..<count], to: destination) { break }
            if paced { usleep(pauseMicroseconds) }
        }
        shutdown(destination, Int32(SHUT_WR))
    }
}
