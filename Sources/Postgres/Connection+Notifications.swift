import Base
import CLibPQ
import Foundation

/// One NOTIFY received on a LISTENing connection.
public struct Notification: Sendable, Equatable {
    public var channel: String
    public var payload: String
    /// The backend process id of the session that sent it.
    public var senderPID: Int32
}

/// Lets another thread interrupt a `Connection.waitForNotifications` call (a self-pipe).
public final class WaitInterrupter: Sendable {
    // Two file descriptors set once at init and closed in deinit: immutable, hence Sendable.
    private let readFD: Int32
    private let writeFD: Int32

    public init() {
        var fds: [Int32] = [-1, -1]
        _ = pipe(&fds)
        readFD = fds[0]
        writeFD = fds[1]
        _ = fcntl(readFD, F_SETFL, fcntl(readFD, F_GETFL) | O_NONBLOCK)
        _ = fcntl(writeFD, F_SETFL, fcntl(writeFD, F_GETFL) | O_NONBLOCK)
    }

    deinit {
        Foundation.close(readFD)
        Foundation.close(writeFD)
    }

    /// Wakes the waiting thread; safe from any thread (and from a signal handler's helper thread).
    public func interrupt() {
        var byte: UInt8 = 1
        _ = write(writeFD, &byte, 1)
    }

    var descriptor: Int32 { readFD }

    /// Empties the pipe so the next wait blocks again.
    func drain() {
        var buffer = [UInt8](repeating: 0, count: 64)
        while read(readFD, &buffer, buffer.count) > 0 {}
    }
}

extension Connection {
    /// Subscribes to a channel. The name is quoted with `PQescapeIdentifier`, since LISTEN takes no
    /// bind parameter. Remembered, and re-issued after a reconnect.
    public func listen(_ channel: String) throws(PostgresError) {
        try simpleQuery("LISTEN \(try quoteIdentifier(channel))")
        if !channels.contains(channel) { channels.append(channel) }
    }

    /// Unsubscribes from a channel.
    public func unlisten(_ channel: String) throws(PostgresError) {
        try simpleQuery("UNLISTEN \(try quoteIdentifier(channel))")
        channels.removeAll { $0 == channel }
    }

    /// Sends a notification; delivered to listeners when the surrounding transaction commits.
    public func notify(_ channel: String, payload: String = "") throws(PostgresError) {
        try query("SELECT pg_notify($1, $2)", [channel, payload])
    }

    /// Notifications already received by libpq, without waiting. Calls `PQnotifies`.
    public func pendingNotifications() -> [Notification] {
        var received: [Notification] = []
        while let note = PQnotifies(rawHandle) {
            received.append(Notification(channel: String(cString: note.pointee.relname),
                                         payload: String(cString: note.pointee.extra),
                                         senderPID: note.pointee.be_pid))
            PQfreemem(note)
        }
        return received
    }

    /// Waits until at least one notification arrives, the timeout passes (returns an empty array),
    /// or `interrupter` fires (throws `.interrupted`). Polls `PQsocket`, then `PQconsumeInput`.
    ///
    /// If the connection is lost while waiting this throws a `.connection` error; the next call
    /// reconnects and re-LISTENs, and the caller must catch up by querying, because notifications
    /// sent in between are gone.
    public func waitForNotifications(timeout: Duration?, interrupter: WaitInterrupter? = nil) throws(PostgresError) -> [Notification] {
        try ensureAlive()
        let ready = pendingNotifications()
        if !ready.isEmpty { return ready }
        let clock = ContinuousClock()
        let deadline = timeout.map { clock.now + $0 }
        while true {
            var fds = [pollfd(fd: PQsocket(rawHandle), events: Int16(POLLIN), revents: 0)]
            if let interrupter { fds.append(pollfd(fd: interrupter.descriptor, events: Int16(POLLIN), revents: 0)) }
            var waitMS: Int32 = -1
            if let deadline {
                let left = deadline - clock.now
                if left <= .zero { return [] }
                waitMS = Int32(clamping: left.roundedUpMilliseconds)
            }
            let n = poll(&fds, nfds_t(fds.count), waitMS)
            if n < 0 {
                if errno == EINTR { continue }
                throw PostgresError(kind: .connection, message: "poll on the PostgreSQL socket failed: \(String(cString: strerror(errno)))")
            }
            if n == 0 { continue }
            if let interrupter, fds.count > 1, fds[1].revents != 0 {
                interrupter.drain()
                throw PostgresError(kind: .interrupted, message: "waiting for notifications was interrupted")
            }
            if fds[0].revents != 0 {
                if PQconsumeInput(rawHandle) == 0 || PQstatus(rawHandle) != CONNECTION_OK {
                    let message = PostgresError.oneLine(String(cString: PQerrorMessage(rawHandle)))
                    throw PostgresError(kind: .connection, message: "lost the connection to PostgreSQL while listening: \(message)")
                }
                let received = pendingNotifications()
                if !received.isEmpty { return received }
            }
        }
    }
}
