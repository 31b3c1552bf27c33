import FastCGI
import Foundation
import Glibc
import Store
import Synchronization

/// One open SSE stream, as its own thread and the fan-out thread (`EventHub`) both see it: who may
/// see what, the FastCGI request the bytes go to, and the signal that tells the stream's thread to
/// end.
///
/// Who writes to `request`: the stream's thread until it hands the stream over with
/// `EventHub.goLive` (head, `retry:`, the replay), the fan-out thread alone afterwards (live events
/// and heartbeats). The hand-over goes through the hub's locked queue, so the two never write at
/// once.
final class EventStream: Sendable {
    /// Why a stream must end, set by whoever noticed first.
    enum EndReason: Sendable, Equatable {
        /// The relay is stopping; the browser reconnects elsewhere with Last-Event-ID.
        case relayStopping
        /// The client reads too slowly: more than the relay's `maxQueuedBytes` waited for it.
        case slowClient
        /// The client went away (seen by the fan-out thread while writing).
        case clientGone
        /// Writing to the web server failed otherwise (logged by the fan-out thread).
        case writeFailed
        /// The account was disabled or its token version moved on (a new password): the token
        /// behind the stream is dead.
        case accessEnded
        /// The access token behind the stream (or behind its ticket) expired.
        case tokenExpired
    }

    let ownerID: UUID
    /// The account and token version the stream was opened with; checked by the LISTEN thread.
    let account: AccountVersion
    /// Seconds since 1970 at which the access token behind the stream expires; the stream ends then.
    let expiresAt: Int64
    /// Nil for the per-user stream; a plan id for a plan's stream.
    let planID: UUID?
    let request: Request
    /// The FastCGI connection (`FCGX_Request.ipcFd`), polled for hang-up and for room to write; -1
    /// when the request has none.
    let connection: Int32
    /// The write cost that fits without blocking once `poll` reports the connection writable (see
    /// `sendAllowance(for:)`).
    let sendAllowance: Int
    private let endSignal = WakePipe()
    private let reason = Mutex<EndReason?>(nil)

    init(account: AccountVersion, expiresAt: Int64, planID: UUID?, request: Request) {
        ownerID = account.userID
        self.account = account
        self.expiresAt = expiresAt
        self.planID = planID
        self.request = request
        connection = request.connectionFileDescriptor ?? -1
        sendAllowance = Self.sendAllowance(for: connection)
    }

    /// True when the event (owner, plan) belongs on this stream.
    func accepts(ownerID: UUID, planID: UUID?) -> Bool {
        ownerID == self.ownerID && (self.planID == nil || self.planID == planID)
    }

    /// Readable once the stream must end (poll it with the connection).
    var endDescriptor: Int32 { endSignal.descriptor }

    /// Why the stream must end; nil while it may go on.
    var endReason: EndReason? { reason.withLock { $0 } }

    /// Asks the stream's thread to end (the first reason is kept).
    func end(_ why: EndReason) {
        reason.withLock { if $0 == nil { $0 = why } }
        endSignal.signal()
    }

    /// Bounds how long one write to the connection may block (`SO_SNDTIMEO`): a safety net for the
    /// fan-out thread, which writes only what its credit says fits, and for `finish()` on a stalled
    /// client. A write that times out fails, and the stream ends as a slow client.
    func limitSendTime(milliseconds: Int) {
        guard connection >= 0 else { return }
        var limit = timeval(tv_sec: milliseconds / 1000, tv_usec: (milliseconds % 1000) * 1000)
        _ = setsockopt(connection, SOL_SOCKET, SO_SNDTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
    }

    /// How much write cost (`FanOut.writeCost`) surely fits once `poll` reports the connection
    /// writable. Linux reports a unix stream socket writable while at most a quarter of its send
    /// buffer (`SO_SNDBUF`) is charged, and a write blocks only when all of it is: half the buffer
    /// more never blocks. For TCP (writable while at most two thirds are queued) a quarter.
    /// `limitSendTime` covers whatever this misjudges.
    static func sendAllowance(for fd: Int32) -> Int {
        var size: Int32 = 0
        var domain: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        guard fd >= 0, getsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, &length) == 0, size > 0 else { return 8192 }
        length = socklen_t(MemoryLayout<Int32>.size)
        let isUnix = getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &length) == 0 && domain == AF_UNIX
        return max(4096, Int(size) / (isUnix ? 2 : 4))
    }
}
