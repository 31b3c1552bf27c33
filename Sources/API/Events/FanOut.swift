import Base
import FastCGI
import Foundation
import Glibc

/// The fan-out thread's state and work: which streams are open (by owner), what each is waiting
/// for, and the writes themselves. Lives on that one thread (`EventHub.run()`), so it needs no lock;
/// the other threads reach it only through the hub's command queue.
///
/// Writes never block the thread: each live stream has a credit, the write cost that fits in its
/// connection's send buffer for sure. It is refilled (to the stream's `sendAllowance`) only when
/// `poll` reports the connection writable, and every write spends a conservative estimate of what
/// the kernel charges for it (`writeCost`). A stream with credit is written at once, without any
/// system call but the write; one without waits in its outbox until `poll` reports room. Polling
/// only the streams that ran out keeps a fan-out to a thousand streams at a thousand writes. A
/// stream whose queue passes `maxQueuedBytes` is ended as a slow client (its browser reconnects
/// with Last-Event-ID and replays).
struct FanOut {
    enum Command {
        /// A new stream; events for it are held from now on.
        case add(EventStream)
        /// The stream's thread has written the replay up to `after`: send what was held beyond it,
        /// and everything from now on.
        case live(EventStream, after: Int64)
        /// The stream's heartbeat is due.
        case heartbeat(EventStream)
        /// The stream is over (its client left, or it ended); forget it without writing.
        case remove(EventStream)
        /// The stream must end (its token expired or its account changed): write nothing more to
        /// it and wake its thread.
        case close(EventStream, EventStream.EndReason)
        /// New events, in id order.
        case events([FramedEvent])
    }

    let maxQueuedBytes: Int
    private var outputs: [ObjectIdentifier: StreamOutput] = [:]
    private var byOwner: [UUID: [StreamOutput]] = [:]
    /// Live streams with new bytes and credit: written by `writeDue()`.
    private var due: [StreamOutput] = []
    /// Live streams with bytes waiting and no credit: polled for room to write.
    private(set) var blocked: [StreamOutput] = []

    init(maxQueuedBytes: Int) {
        self.maxQueuedBytes = maxQueuedBytes
    }

    /// What writing `count` bytes may take from the send buffer, at most: the kernel charges the
    /// data and a buffer header (a small write costs a whole 512 B–1 KiB allocation plus 232 bytes
    /// of `sk_buff`; a large one whole pages), and libfcgi adds a record header and padding.
    static func writeCost(_ count: Int) -> Int { 2 * (count + 16) + 1024 }

    /// The most bytes a write may carry with `credit` left (0 when not even one byte fits).
    static func bytesAffordable(with credit: Int) -> Int { max(0, (credit - 1024) / 2 - 16) }

    mutating func apply(_ command: Command) {
        switch command {
        case .add(let stream):
            let output = StreamOutput(stream: stream)
            outputs[ObjectIdentifier(stream)] = output
            byOwner[stream.ownerID, default: []].append(output)
        case .live(let stream, let after):
            guard let output = outputs[ObjectIdentifier(stream)] else { return }
            output.isLive = true
            output.lastID = max(output.lastID, after)
            for event in output.held where event.id > after {
                output.outbox.append(event.bytes)
                output.lastID = event.id
            }
            output.held = []
            output.heldBytes = 0
            if !output.outbox.isEmpty { schedule(output) }
        case .heartbeat(let stream):
            guard let output = outputs[ObjectIdentifier(stream)], output.isLive, output.outbox.isEmpty else { return }
            output.outbox.append(SSEFrame.heartbeat)
            schedule(output)
        case .remove(let stream):
            forget(stream)
        case .close(let stream, let reason):
            end(stream, reason)
        case .events(let events):
            for event in events { deliver(event) }
        }
    }

    /// Queues one event on every stream allowed to see it.
    private mutating func deliver(_ event: FramedEvent) {
        guard let candidates = byOwner[event.ownerID] else { return }
        var slow: [StreamOutput] = []
        // An event the LISTEN thread read before the replay's query but handed over only after
        // the stream went live was replayed already: ids at or below the last one sent are skipped.
        for output in candidates where output.stream.accepts(ownerID: event.ownerID, planID: event.planID) && event.id > output.lastID {
            if output.queuedBytes + event.bytes.count > maxQueuedBytes {
                slow.append(output)
            } else if output.isLive {
                output.outbox.append(event.bytes)
                output.lastID = event.id
                schedule(output)
            } else {
                output.held.append((event.id, event.bytes))
                output.heldBytes += event.bytes.count
            }
        }
        for output in slow {
            Log.warning("slow stream closed", ["owner": output.stream.ownerID.uuidString,
                                               "plan": output.stream.planID?.uuidString ?? "all",
                                               "queued_bytes": String(output.queuedBytes), "last_id": String(output.lastID),
                                               "action": "the client reconnects with Last-Event-ID"])
            end(output.stream, .slowClient)
        }
    }

    /// Marks a live stream that got new bytes for writing (at once if it has credit, else when its
    /// connection has room).
    private mutating func schedule(_ output: StreamOutput) {
        guard !output.isDue && !output.isBlocked else { return }
        output.isDue = true
        due.append(output)
    }

    /// Writes every stream that got new bytes since the last call, as far as its credit goes;
    /// those left with bytes wait for `poll` (`blocked`).
    mutating func writeDue() {
        guard !due.isEmpty else { return }
        let outputs = due
        due.removeAll(keepingCapacity: true)
        for output in outputs {
            output.isDue = false
            guard !output.isEnded else { continue }
            send(output)
            if !output.isEnded && !output.outbox.isEmpty {
                output.isBlocked = true
                blocked.append(output)
            }
        }
    }

    /// The streams `poll` reported (`events` per stream of `blocked`, in order): those with room
    /// get their credit back and are written; those that hung up end.
    mutating func handlePoll(_ events: [Int16]) {
        let outputs = blocked
        blocked.removeAll(keepingCapacity: true)
        for (output, events) in zip(outputs, events) {
            guard !output.isEnded else { continue }
            let events = Int32(events)
            if events & (POLLERR | POLLHUP | POLLNVAL) != 0 {
                end(output.stream, .clientGone)
                continue
            }
            if events & POLLOUT != 0 {
                output.credit = output.stream.sendAllowance
                send(output)
            }
            if output.isEnded || output.outbox.isEmpty {
                output.isBlocked = false
            } else {
                blocked.append(output)
            }
        }
    }

    /// Writes as much of the stream's outbox as its credit allows, and flushes it to the web server.
    private mutating func send(_ output: StreamOutput) {
        let request = output.stream.request
        var wrote = false
        do throws(FastCGIError) {
            while let piece = output.outbox.nextPiece(limit: Self.bytesAffordable(with: output.credit)) {
                try request.write(piece)
                output.outbox.consume(piece.count)
                output.credit -= Self.writeCost(piece.count)
                wrote = true
            }
            if wrote { try request.flush() }
        } catch {
            switch error {
            case .clientGone, .noActiveRequest:
                // The client left, or the stream's thread already finished the request: nothing to say.
                end(output.stream, .clientGone)
            default:
                Log.warning("stream write failed", ["owner": output.stream.ownerID.uuidString, "error": error.description,
                                                    "last_id": String(output.lastID)])
                end(output.stream, .writeFailed)
            }
        }
    }

    /// Ends the stream: forgets it and wakes its thread, which finishes the request.
    mutating func end(_ stream: EventStream, _ reason: EventStream.EndReason) {
        forget(stream)
        stream.end(reason)
    }

    /// Ends every stream (the relay is stopping).
    mutating func endAll() {
        for output in Array(outputs.values) { end(output.stream, .relayStopping) }
    }

    private mutating func forget(_ stream: EventStream) {
        guard let output = outputs.removeValue(forKey: ObjectIdentifier(stream)) else { return }
        // Left in `due` or `blocked`, it is skipped there and dropped on the next pass.
        output.isEnded = true
        byOwner[stream.ownerID]?.removeAll { $0.stream === stream }
        if byOwner[stream.ownerID]?.isEmpty == true { byOwner[stream.ownerID] = nil }
    }
}
