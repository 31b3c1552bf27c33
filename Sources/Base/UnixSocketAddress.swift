import Glibc

/// `connect` and `bind` of a socket to a unix socket path, and a probe: the `sockaddr_un` is built
/// here once. A path must be shorter than `sun_path` (108 bytes, room for its NUL); a longer one fails
/// with `ENAMETOOLONG`, one holding a NUL with `EINVAL`, and nothing is called.
public enum UnixSocketAddress {
    /// Calls `connect(2)`; true when connected, else false with `errno` set.
    public static func connect(_ fd: Int32, to path: String) -> Bool {
        call(path) { address, length in Glibc.connect(fd, address, length) }
    }

    /// Calls `bind(2)`; true when bound, else false with `errno` set.
    public static func bind(_ fd: Int32, to path: String) -> Bool {
        call(path) { address, length in Glibc.bind(fd, address, length) }
    }

    /// Whether something accepts connections at `path` (a blocking connect that succeeds).
    public static func accepts(_ path: String) -> Bool {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        return connect(fd, to: path)
    }

    private static func call(_ path: String, _ body: (UnsafePointer<sockaddr>, socklen_t) -> Int32) -> Bool {
        var address = sockaddr_un()
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else {
            errno = ENAMETOOLONG
            return false
        }
        guard !bytes.contains(0) else {
            errno = EINVAL
            return false
        }
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: bytes) }
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        } == 0
    }
}
