import Foundation
import Synchronization

/// A listening TCP socket on 127.0.0.1 at a port the kernel picked: for test servers (scripted model
/// servers, proxies) that accept connections on a thread of their own, or, non-blocking, a port on the
/// host that a test proves the sandbox cannot reach.
public final class LoopbackListener: Sendable {
    public let port: Int
    private let fd: Int32
    private let stopped = Atomic<Bool>(false)

    /// A port on 127.0.0.1 that refuses every connection (bound, never listening) and that no other
    /// socket can take while this one lives: "nothing listens there" without the race of stopping a
    /// server and hoping its port stays free (a test running alongside got a stopped server's port).
    public static func refusing() throws -> LoopbackListener {
        try LoopbackListener(blocking: false, listens: false)
    }

    /// With `blocking` false, `accept` returns nil at once when no connection is waiting.
    public convenience init(blocking: Bool = true, backlog: Int32 = 16) throws {
        try self.init(blocking: blocking, listens: true, backlog: backlog)
    }

    private init(blocking: Bool, listens: Bool, backlog: Int32 = 16) throws {
        let flags = Int32(SOCK_CLOEXEC.rawValue) | (blocking ? 0 : Int32(SOCK_NONBLOCK.rawValue))
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | flags, 0)
        guard fd >= 0 else { throw POSIXFailure("socket") }
        // Not for a refusing port: without SO_REUSEADDR no other socket may bind it, listening or not.
        if listens {
            var one: Int32 = 1
            setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        }
        var address = Self.address(port: 0)
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let ready = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, length) == 0 && (!listens || listen(fd, backlog) == 0) && getsockname(fd, $0, &length) == 0
            }
        }
        guard ready else {
            let failure = POSIXFailure("bind/listen on 127.0.0.1")
            close(fd)
            throw failure
        }
        self.fd = fd
        port = Int(UInt16(bigEndian: address.sin_port))
    }

    deinit { stop() }

    /// The next connection; nil once the listener is stopped (or, non-blocking, when none is waiting).
    public func accept() -> Int32? {
        while !stopped.load(ordering: .relaxed) {
            let connection = Glibc.accept(fd, nil, nil)
            if connection >= 0 { return connection }
            if errno != EINTR { return nil }
        }
        return nil
    }

    /// Whether a connection was waiting (accepted and closed again).
    public func acceptedConnection() -> Bool {
        guard let client = accept() else { return false }
        close(client)
        return true
    }

    /// Whether any connection waiting on the listener carried `marker` (read without blocking): other
    /// checks may connect to every loopback port at the same time, but only the code under test knows it.
    public func received(_ marker: String) -> Bool {
        var seen = false
        while let client = accept() {
            var buffer = [UInt8](repeating: 0, count: 512)
            let count = recv(client, &buffer, buffer.count, Int32(MSG_DONTWAIT))
            if count > 0, String(decoding: buffer[0..<count], as: UTF8.self).contains(marker) { seen = true }
            close(client)
        }
        return seen
    }

    /// Stops accepting: a thread blocked in `accept` returns nil.
    public func stop() {
        guard !stopped.exchange(true, ordering: .relaxed) else { return }
        shutdown(fd, Int32(SHUT_RDWR))
        close(fd)
    }

    /// A new connection to 127.0.0.1:`port`, or nil when nothing accepts there.
    public static func connect(port: Int) -> Int32? {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return nil }
        var address = address(port: port)
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else {
            close(fd)
            return nil
        }
        return fd
    }

    /// Writes all of `bytes`; false when the peer went away first.
    public static func send<Bytes: Collection<UInt8>>(_ bytes: Bytes, to fd: Int32) -> Bool {
        let bytes = Array(bytes)
        var offset = 0
        while offset < bytes.count {
            let written = bytes[offset...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if written <= 0 { return false }
            offset += written
        }
        return true
    }

    private static func address(port: Int) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return address
    }
}

/// A failed system call, with `errno`'s text as it was right after the call.
public struct POSIXFailure: Error, CustomStringConvertible {
    public var call: String
    public var code: Int32
    public init(_ call: String) {
        self.call = call
        code = errno
    }
    public var description: String { "\(call) failed: \(String(cString: strerror(code)))" }
}
