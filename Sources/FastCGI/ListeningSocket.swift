internal import CFastCGI
import Glibc
import Synchronization

/// The socket a FastCGI application accepts nginx's connections on: a unix socket at a path, or a
/// socket inherited on a file descriptor (fd 0, as spawn-fcgi and systemd pass it).
///
/// Many threads, and many forked processes, may accept on one `ListeningSocket` at once, each with
/// its own `Request` (measured: `FCGX_Accept_r` needs no lock for that). A prefork supervisor
/// creates the socket before forking; each worker creates its `Request` after the fork.
///
/// The socket is created here rather than with `FCGX_OpenSocket`, which calls `exit()` when `bind`
/// fails (a missing folder ends the whole process with no message to the caller) and cannot set the
/// file mode without changing the process-wide umask.
///
/// The descriptor is closed by ``close(removingSocketFile:)`` or, failing that, when the object is
/// released. The socket file is removed only on request, so a forked worker that exits never
/// removes the file its supervisor still serves on.
public final class ListeningSocket: Sendable {
    /// The listening descriptor. Pass it to a child process (on fd 0) to hand the socket over; do
    /// not read from or close it directly.
    public let fileDescriptor: Int32
    /// The unix socket path, when this process created the socket from a path.
    public let path: String?
    /// Device and inode of the socket file this object created, to avoid removing a newer file.
    private let createdFile: FileIdentity?
    private let closed = Atomic<Bool>(false)
    private let shutDown = Atomic<Bool>(false)

    /// The file mode given to new socket files: read and write for everyone, because nginx's
    /// workers run as `nobody` and get 502 "Permission denied" otherwise. Restrict access with the
    /// folder's permissions instead.
    public static let defaultMode: UInt32 = 0o666

    /// The longest usable unix socket path in bytes (`sun_path` holds 108 bytes with the NUL).
    public static let maximumPathLength = 107

    private init(fileDescriptor: Int32, path: String?, createdFile: FileIdentity?) {
        self.fileDescriptor = fileDescriptor
        self.path = path
        self.createdFile = createdFile
    }

    deinit {
        if !closed.load(ordering: .acquiring) { _ = Glibc.close(fileDescriptor) }
    }

    /// Creates a unix socket at `path` and listens on it. Calls `socket`, `bind`, `chmod`, `listen`
    /// (and `FCGX_Init` once).
    ///
    /// - A stale socket file left by a dead server is removed first. A socket file a live server
    ///   still accepts on is not touched (`.socketPathInUse`), nor is anything that is not a socket
    ///   (`.socketPathNotASocket`).
    /// - The new file gets `mode` (default ``defaultMode``, 0666) so nginx's workers can connect;
    ///   the folders above it must be searchable (`x`) by them too.
    /// - A path with `:` is refused: libfcgi and most FastCGI tools read `host:port` as TCP.
    public static func listen(path: String, backlog: Int32 = 1024, mode: UInt32 = defaultMode) throws(FastCGIError) -> ListeningSocket {
        try validate(path: path)
        try FastCGILibrary.initialize()
        try removeStaleSocket(at: path)

        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw .systemCallFailed(call: "socket", path: path, errno: errno) }
        var address = try socketAddress(path)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        guard bound == 0 else {
            let code = errno
            _ = Glibc.close(fd)
            throw .systemCallFailed(call: "bind", path: path, errno: code)
        }
        // chmod rather than umask(0) around bind: umask is process-wide and other threads may be
        // creating files at the same moment. Nobody can connect before listen() below.
        guard chmod(path, mode_t(mode)) == 0 else {
            let code = errno
            _ = Glibc.close(fd)
            _ = unlink(path)
            throw .systemCallFailed(call: "chmod", path: path, errno: code)
        }
        guard Glibc.listen(fd, backlog) == 0 else {
            let code = errno
            _ = Glibc.close(fd)
            _ = unlink(path)
            throw .systemCallFailed(call: "listen", path: path, errno: code)
        }
        return ListeningSocket(fileDescriptor: fd, path: path, createdFile: FileIdentity(path: path))
    }

    /// Takes over a listening socket this process inherited, by default on fd 0 as spawn-fcgi and
    /// systemd (`StandardInput=socket`) pass it. Calls `getsockopt(SO_ACCEPTCONN)` to check it (and
    /// `FCGX_Init` once).
    ///
    /// The returned object owns the descriptor: it is closed with the object.
    public static func inherited(fileDescriptor: Int32 = 0) throws(FastCGIError) -> ListeningSocket {
        var type: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        guard getsockopt(fileDescriptor, SOL_SOCKET, SO_TYPE, &type, &length) == 0 else {
            let code = errno
            let reason = code == ENOTSOCK ? "it is not a socket" : FastCGIError.errnoText(code)
            throw .notAListeningSocket(fileDescriptor: fileDescriptor, reason: reason)
        }
        guard type == Int32(SOCK_STREAM.rawValue) else {
            throw .notAListeningSocket(fileDescriptor: fileDescriptor, reason: "it is not a stream socket")
        }
        var accepting: Int32 = 0
        length = socklen_t(MemoryLayout<Int32>.size)
        guard getsockopt(fileDescriptor, SOL_SOCKET, SO_ACCEPTCONN, &accepting, &length) == 0, accepting != 0 else {
            throw .notAListeningSocket(fileDescriptor: fileDescriptor, reason: "listen() was not called on it")
        }
        try FastCGILibrary.initialize()
        return ListeningSocket(fileDescriptor: fileDescriptor, path: boundPath(of: fileDescriptor), createdFile: nil)
    }

    /// Stops accepting: every thread of this process blocked in `Request.accept()` on this socket
    /// wakes, and that and every later `accept()` throws `.listenerShutDown`. Calls `shutdown`.
    ///
    /// The listening socket is shared with forked children (it is one open file), so this stops
    /// them accepting too: use it to stop a whole single-process server (the SSE relay, tests), not
    /// to retire one worker of a pool.
    public func shutdown() {
        shutDown.store(true, ordering: .releasing)
        _ = Glibc.shutdown(fileDescriptor, Int32(SHUT_RDWR))
    }

    /// True once ``shutdown()`` was called.
    public var isShutDown: Bool { shutDown.load(ordering: .acquiring) }

    /// Closes the descriptor (once; later calls do nothing) and, when asked and this object created
    /// the socket file and the file at `path` is still that one, removes the file. Calls `close`
    /// and `unlink`.
    public func close(removingSocketFile: Bool = false) {
        let (exchanged, _) = closed.compareExchange(expected: false, desired: true, ordering: .acquiringAndReleasing)
        guard exchanged else { return }
        _ = Glibc.close(fileDescriptor)
        if removingSocketFile, let path, let createdFile, FileIdentity(path: path) == createdFile {
            _ = unlink(path)
        }
    }

    // MARK: - Helpers

    private static func validate(path: String) throws(FastCGIError) {
        if path.isEmpty { throw .invalidSocketPath(path: path, reason: "the path is empty") }
        if path.contains(":") {
            throw .invalidSocketPath(path: path, reason: "it contains ':', which libfcgi and FastCGI tools read as host:port; choose a path without ':'")
        }
        if path.utf8.contains(0) { throw .invalidSocketPath(path: path, reason: "it contains a NUL byte") }
        if path.utf8.count > maximumPathLength {
            throw .invalidSocketPath(path: path, reason: "it is \(path.utf8.count) bytes long; unix socket paths hold at most \(maximumPathLength)")
        }
    }

    private static func socketAddress(_ path: String) throws(FastCGIError) -> sockaddr_un {
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: bytes)  // the rest stays zero: NUL-terminated, length checked above
        }
        return address
    }

    /// Removes a socket file nobody accepts on any more; refuses to touch anything else.
    private static func removeStaleSocket(at path: String) throws(FastCGIError) {
        var info = stat()
        guard lstat(path, &info) == 0 else {
            if errno == ENOENT { return }
            throw .systemCallFailed(call: "lstat", path: path, errno: errno)
        }
        guard info.st_mode & S_IFMT == S_IFSOCK else { throw .socketPathNotASocket(path: path) }
        if isAccepting(path) { throw .socketPathInUse(path: path) }
        guard unlink(path) == 0 || errno == ENOENT else {
            throw .systemCallFailed(call: "unlink", path: path, errno: errno)
        }
    }

    /// True when a non-blocking connect to `path` succeeds or finds the backlog full (a live server).
    private static func isAccepting(_ path: String) -> Bool {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { _ = Glibc.close(fd) }
        guard var address = try? socketAddress(path) else { return false }
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        return result == 0 || errno == EAGAIN || errno == EINPROGRESS
    }

    /// The filesystem path a unix socket is bound to, if any. Calls `getsockname`.
    private static func boundPath(of fd: Int32) -> String? {
        var address = sockaddr_un()
        var length = socklen_t(MemoryLayout<sockaddr_un>.size)
        let result = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        guard result == 0, address.sun_family == sa_family_t(AF_UNIX) else { return nil }
        let path = withUnsafeBytes(of: address.sun_path) { raw -> String in
            let bytes = raw.prefix { $0 != 0 }
            return String(decoding: bytes, as: UTF8.self)
        }
        return path.isEmpty ? nil : path
    }
}

/// A file's device and inode: which file a path names right now.
struct FileIdentity: Sendable, Equatable {
    let device: UInt64
    let inode: UInt64

    init?(path: String) {
        var info = stat()
        guard lstat(path, &info) == 0 else { return nil }
        device = UInt64(info.st_dev)
        inode = UInt64(info.st_ino)
    }
}
