import Base
import Glibc

/// A listening socket the containment check opens on the host — on 127.0.0.1 or at a unix path in the
/// stack's socket folder — so that a connect probe has something real to reach even where nothing of
/// the stack runs, and so that a connection that gets through is also seen from the host's side.
final class StandInListener {
    private let fd: Int32
    /// The TCP port (0 for a unix socket).
    let port: UInt16
    /// The unix socket's path (nil for TCP).
    let path: String?

    /// Listens on 127.0.0.1 on a port the kernel picks.
    init?() {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return nil }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let named = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        guard bound == 0, named == 0, listen(fd, 16) == 0 else {
            close(fd)
            return nil
        }
        self.fd = fd
        port = UInt16(bigEndian: address.sin_port)
        path = nil
    }

    /// Listens at `path`, open to every user (0777), as a careless service's socket would be; nil when
    /// the path is too long for a unix socket or cannot be bound.
    init?(unixPath path: String) {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return nil }
        let bound = UnixSocketAddress.bind(fd, to: path)
        guard bound, chmod(path, 0o777) == 0, listen(fd, 16) == 0 else {
            if bound { unlink(path) }
            close(fd)
            return nil
        }
        self.fd = fd
        port = 0
        self.path = path
    }

    /// Whether a connection has arrived (non-blocking `accept`); an accepted one is closed at once.
    func acceptedConnection() -> Bool {
        var accepted = false
        while true {
            let client = accept(fd, nil, nil)
            guard client >= 0 else { return accepted }
            close(client)
            accepted = true
        }
    }

    deinit {
        close(fd)
        if let path { unlink(path) }
    }
}
