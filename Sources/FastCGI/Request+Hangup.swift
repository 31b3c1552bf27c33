internal import CFastCGI
import Base
import Glibc

extension Request {
    /// Waits until the client goes away, one of `watching` becomes readable, or `timeout` passes
    /// (nil: no timeout). Calls `poll` on the connection (`FCGX_Request.ipcFd`) and `watching`.
    ///
    /// nginx closes the FastCGI connection as soon as the browser goes away, so the connection
    /// becoming readable or hung up after the request's input has ended means the client is gone
    /// (an `FCGI_ABORT_REQUEST` record counts the same). To make that true, any unread body is read
    /// and discarded first (`FCGX_GetStr`): read the body before waiting if you need it.
    ///
    /// Typical use in an SSE stream: watch a wake-up pipe (or a database socket) with the heartbeat
    /// interval as the timeout, write and flush on `.ready`/`.timedOut`, stop on `.clientGone`.
    public func waitForHangup(watching: [Int32] = [], timeout: Duration? = nil) throws(FastCGIError) -> HangupWaitResult {
        let connection: Int32 = try withState { state throws(FastCGIError) -> Int32 in
            guard state.isActive else { throw .noActiveRequest }
            if state.clientGone { return -1 }
            do throws(FastCGIError) {
                try Self.discardInput(&state)
            } catch .clientGone {
                return -1
            }
            return state.raw.pointee.ipcFd
        }
        guard connection >= 0 else { return .clientGone }

        let clock = ContinuousClock()
        let deadline = timeout.map { clock.now + $0 }
        while true {
            var descriptors = [pollfd(fd: connection, events: Int16(POLLIN), revents: 0)]
            descriptors += watching.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
            let count = poll(&descriptors, nfds_t(descriptors.count), Self.milliseconds(until: deadline, clock: clock))
            if count < 0 {
                if errno == EINTR { return .interrupted }
                throw .pollFailed(errno: errno)
            }
            if count == 0 { return .timedOut }
            let connectionEvents = descriptors[0].revents
            if connectionEvents != 0, Self.connectionClosed(connection, events: connectionEvents) {
                _ = try? withState { state throws(FastCGIError) in state.clientGone = true }
                return .clientGone
            }
            let ready = descriptors.dropFirst().filter { $0.revents != 0 }.map(\.fd)
            if !ready.isEmpty { return .ready(ready) }
            if let deadline, clock.now >= deadline { return .timedOut }
        }
    }

    /// True when the client is gone, checked without waiting (`poll` with a zero timeout).
    public func isClientGone() throws(FastCGIError) -> Bool {
        try waitForHangup(timeout: .zero) == .clientGone
    }

    /// Whether the connection's poll events mean the web server closed it. After the input has
    /// ended, nginx sends nothing more on a live request, so end of file, an error, or any data (an
    /// abort record) all mean the request is over. Calls `recv(MSG_PEEK)`.
    static func connectionClosed(_ fd: Int32, events: Int16) -> Bool {
        if events & Int16(POLLHUP | POLLERR | POLLNVAL) != 0 { return true }
        var byte: UInt8 = 0
        let peeked = recv(fd, &byte, 1, Int32(MSG_PEEK | MSG_DONTWAIT))
        if peeked < 0 { return errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR }
        return true
    }

    /// Milliseconds from now to `deadline` for `poll` (rounded up; -1 for none).
    static func milliseconds(until deadline: ContinuousClock.Instant?, clock: ContinuousClock) -> Int32 {
        guard let deadline else { return -1 }
        let left = deadline - clock.now
        if left <= .zero { return 0 }
        return Int32(clamping: left.roundedUpMilliseconds)
    }
}
