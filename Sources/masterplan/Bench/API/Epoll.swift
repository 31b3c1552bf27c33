import Foundation

/// A level-triggered epoll set of sockets, each with a tag. Swift's Glibc module does not show
/// `sys/epoll.h`, so the three calls are looked up with `dlsym` and `struct epoll_event` is laid
/// out by hand (packed on x86-64: 4 bytes of events, 8 of data; 16 bytes elsewhere).
final class Epoll {
    private typealias Create = @convention(c) (Int32) -> Int32
    private typealias Control = @convention(c) (Int32, Int32, Int32, UnsafeMutableRawPointer?) -> Int32
    private typealias Wait = @convention(c) (Int32, UnsafeMutableRawPointer?, Int32, Int32) -> Int32

    #if arch(x86_64)
    private static let eventSize = 12
    private static let dataOffset = 4
    #else
    private static let eventSize = 16
    private static let dataOffset = 8
    #endif
    private static let add: Int32 = 1           // EPOLL_CTL_ADD
    private static let readable: UInt32 = 0x001 // EPOLLIN
    private static let closeOnExec: Int32 = 0o2000000 // EPOLL_CLOEXEC

    private let fd: Int32
    private let control: Control
    private let waitCall: Wait
    private var buffer = [UInt8](repeating: 0, count: 1024 * 16)

    init() throws {
        guard let create = dlsym(nil, "epoll_create1"), let control = dlsym(nil, "epoll_ctl"),
              let wait = dlsym(nil, "epoll_wait") else { throw BenchFailure("epoll is not available") }
        self.control = unsafeBitCast(control, to: Control.self)
        waitCall = unsafeBitCast(wait, to: Wait.self)
        fd = unsafeBitCast(create, to: Create.self)(Self.closeOnExec)
        guard fd >= 0 else { throw BenchFailure("epoll_create1 failed: \(String(cString: strerror(errno)))") }
    }

    deinit { close(fd) }

    /// Watches `socket` for input, reported with `tag`. Calls `epoll_ctl(EPOLL_CTL_ADD)`.
    func add(_ socket: Int32, tag: UInt64) throws {
        var event = [UInt8](repeating: 0, count: Self.eventSize)
        event.withUnsafeMutableBytes { raw in
            raw.storeBytes(of: Self.readable, toByteOffset: 0, as: UInt32.self)
            raw.storeBytes(of: tag, toByteOffset: Self.dataOffset, as: UInt64.self)
        }
        let result = event.withUnsafeMutableBytes { control(fd, Self.add, socket, $0.baseAddress) }
        guard result == 0 else { throw BenchFailure("epoll_ctl failed: \(String(cString: strerror(errno)))") }
    }

    /// Waits up to `timeoutMS` and replaces `tags` with those of the sockets that have input.
    func wait(into tags: inout [UInt64], timeoutMS: Int32) {
        tags.removeAll(keepingCapacity: true)
        let capacity = Int32(buffer.count / Self.eventSize)
        let count = buffer.withUnsafeMutableBytes { waitCall(fd, $0.baseAddress, capacity, timeoutMS) }
        guard count > 0 else { return }
        buffer.withUnsafeBytes { raw in
            for slot in 0..<Int(count) {
                tags.append(raw.loadUnaligned(fromByteOffset: slot * Self.eventSize + Self.dataOffset, as: UInt64.self))
            }
        }
    }
}
