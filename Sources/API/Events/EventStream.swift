import Foundation
import Glibc
import Synchronization

/// One open SSE stream's inbox: the framed events the LISTEN thread handed it, and a descriptor
/// that becomes readable when there is something new (polled together with the client's connection).
///
/// The LISTEN thread appends and wakes; the stream's own thread takes. Bytes are shared, not copied:
/// every stream that may see an event holds the same framed array.
public final class EventStream: Sendable {
    public let ownerID: UUID
    /// Nil for the per-user stream; a plan id for a plan's stream.
    public let planID: UUID?
    /// Readable when the inbox has something (or the stream must close): the read end of a pipe.
    public let wakeDescriptor: Int32
    private let wakeWriter: Int32
    private let inbox = Mutex<Inbox>(Inbox())
    private let maxQueuedBytes: Int

    struct Inbox {
        var frames: [(id: Int64, bytes: [UInt8])] = []
        var bytes = 0
        /// The client reads too slowly: the stream is closed; the browser reconnects with Last-Event-ID.
        var overflowed = false
        var closed = false
    }

    public init(ownerID: UUID, planID: UUID?, maxQueuedBytes: Int) {
        self.ownerID = ownerID
        self.planID = planID
        self.maxQueuedBytes = maxQueuedBytes
        // A pipe (eventfd is not visible from Swift's Glibc module); both ends non-blocking.
        var ends: [Int32] = [-1, -1]
        if pipe(&ends) != 0 { ends = [-1, -1] }
        for fd in ends where fd >= 0 {
            _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
            _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
        }
        wakeDescriptor = ends[0]
        wakeWriter = ends[1]
    }

    deinit {
        Glibc.close(wakeDescriptor)
        Glibc.close(wakeWriter)
    }

    /// True when the event (owner, plan) belongs on this stream.
    public func accepts(ownerID: UUID, planID: UUID?) -> Bool {
        ownerID == self.ownerID && (self.planID == nil || self.planID == planID)
    }

    /// Queues a framed event and wakes the stream's thread (LISTEN thread).
    func enqueue(id: Int64, bytes: [UInt8]) {
        let wake = inbox.withLock { inbox -> Bool in
            guard !inbox.closed, !inbox.overflowed else { return false }
            if inbox.bytes + bytes.count > maxQueuedBytes {
                inbox.overflowed = true
                inbox.frames = []
                inbox.bytes = 0
                return true
            }
            inbox.frames.append((id, bytes))
            inbox.bytes += bytes.count
            return inbox.frames.count == 1
        }
        if wake { signal() }
    }

    /// Asks the stream to end (the relay is stopping).
    func close() {
        inbox.withLock { $0.closed = true }
        signal()
    }

    /// Everything queued so far, and whether the stream must end (stream thread).
    func take() -> (frames: [(id: Int64, bytes: [UInt8])], mustEnd: Bool) {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 64) { buffer in
            while read(wakeDescriptor, buffer.baseAddress, buffer.count) > 0 {}
        }
        return inbox.withLock { inbox in
            let frames = inbox.frames
            inbox.frames = []
            inbox.bytes = 0
            return (frames, inbox.closed || inbox.overflowed)
        }
    }

    /// True once the inbox overflowed (for the log).
    var overflowed: Bool { inbox.withLock { $0.overflowed } }

    private func signal() {
        var one: UInt8 = 1
        _ = write(wakeWriter, &one, 1)
    }
}
