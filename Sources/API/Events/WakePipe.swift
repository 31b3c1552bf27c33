import Glibc

/// A pipe one thread polls and others write a byte to, to wake it (eventfd is not visible from
/// Swift's Glibc module). Both ends are non-blocking and close-on-exec.
final class WakePipe: Sendable {
    // Two descriptors set once in init and closed in deinit: immutable, hence Sendable.
    /// Readable once `signal()` was called and until `drain()`.
    let descriptor: Int32
    private let writer: Int32

    init() {
        var ends: [Int32] = [-1, -1]
        if pipe(&ends) != 0 { ends = [-1, -1] }
        for fd in ends where fd >= 0 {
            _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
            _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
        }
        descriptor = ends[0]
        writer = ends[1]
    }

    deinit {
        if descriptor >= 0 { Glibc.close(descriptor) }
        if writer >= 0 { Glibc.close(writer) }
    }

    /// Makes `descriptor` readable; never blocks (a full pipe is readable already).
    func signal() {
        var one: UInt8 = 1
        _ = write(writer, &one, 1)
    }

    /// Empties the pipe, so that the next poll waits again.
    func drain() {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 64) { buffer in
            while read(descriptor, buffer.baseAddress, buffer.count) > 0 {}
        }
    }
}
