import Glibc

/// The compiled seccomp program bwrap installs in every box, kept in an unnamed file the executor holds
/// open: each run opens it afresh through `/proc/self/fd` (so concurrent runs never share a file offset),
/// and nothing on disk can be removed, swapped or edited under a running executor.
final class SeccompProgramFile: Sendable {
    /// The open descriptor (close-on-exec) of the unnamed file.
    let descriptor: Int32

    /// Writes `program` into an unnamed file in `folder` (`O_TMPFILE`), read-only from then on.
    init(program: [UInt8], folder: String = "/tmp") throws(SandboxError) {
        let fd = HostPath.unnamedFile(in: folder, mode: 0o400)
        guard fd >= 0 else {
            throw SandboxError(kind: .invalidConfiguration,
                               message: "cannot create the seccomp program's file in \(folder): \(String(cString: strerror(errno)))")
        }
        var written = 0
        while written < program.count {
            let count = program[written...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else {
                let code = errno
                close(fd)
                throw SandboxError(kind: .invalidConfiguration,
                                   message: "cannot write the seccomp program: \(String(cString: strerror(code)))")
            }
            written += count
        }
        // Numbered 10 or above: a spawned child's file actions write descriptors 0–5 before they open
        // this one through /proc/self/fd, and must not clobber it first.
        let high = fcntl(fd, F_DUPFD_CLOEXEC, 10)
        let code = errno
        close(fd)
        guard high >= 0 else {
            throw SandboxError(kind: .invalidConfiguration, message: "cannot keep the seccomp program open: \(String(cString: strerror(code)))")
        }
        descriptor = high
    }

    /// The path a spawned child opens (in the child, before exec) to read the program from the start.
    var pathInChild: String { "/proc/self/fd/\(descriptor)" }

    deinit { close(descriptor) }
}
