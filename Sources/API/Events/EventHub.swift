import Base
import Glibc
import Synchronization

/// The fan-out: one thread that writes every live event, already framed, to every stream allowed
/// to see it (its owner's, and of those the per-user streams and the streams of the event's plan).
///
/// Waking a thread per stream for every event cost a thousand context switches per event with a
/// thousand streams open (about 27 ms of CPU per event on two cores); one thread writing to every
/// connection costs a write per stream and little else (about 5 ms). Stream threads only replay,
/// ask for heartbeats and watch for hang-ups.
///
/// Other threads talk to the fan-out thread through a locked queue of commands (`FanOut.Command`)
/// and a wake-up pipe; everything else about the streams lives on that thread (`FanOut`).
final class EventHub: Sendable {
    private struct Queue {
        var commands: [FanOut.Command] = []
        var stopped = false
    }

    private let queue = Mutex<Queue>(Queue())
    private let wake = WakePipe()
    private let registered = Atomic<Int>(0)
    /// The streams added and not yet removed, for the LISTEN thread's account checks.
    private let open = Mutex<[ObjectIdentifier: EventStream]>([:])
    private let maxQueuedBytes: Int

    init(maxQueuedBytes: Int) {
        self.maxQueuedBytes = maxQueuedBytes
    }

    /// Open streams (added and not yet removed).
    var count: Int { registered.load(ordering: .relaxed) }

    /// Registers a stream: events that arrive from now on are held for it until `goLive`. Call it
    /// before querying the replay, so that an event committed meanwhile is held, not missed.
    func add(_ stream: EventStream) {
        registered.add(1, ordering: .relaxed)
        open.withLock { $0[ObjectIdentifier(stream)] = stream }
        if !post(.add(stream)) { stream.end(.relayStopping) }
    }

    /// The streams open now (added and not yet removed).
    var openStreams: [EventStream] { open.withLock { Array($0.values) } }

    /// Ends a stream for `reason` through the fan-out thread, which writes nothing more to it and
    /// then wakes the stream's thread to finish the request.
    func close(_ stream: EventStream, _ reason: EventStream.EndReason) {
        if !post(.close(stream, reason)) { stream.end(.relayStopping) }
    }

    /// Hands the stream to the fan-out thread once its thread has written (and flushed) the replay
    /// up to event `after`: held events above it follow, then every new one. The stream's thread
    /// must not write to the request any more.
    func goLive(_ stream: EventStream, after: Int64) {
        if !post(.live(stream, after: after)) { stream.end(.relayStopping) }
    }

    /// Asks for a heartbeat comment on the stream (sent unless bytes are waiting for it anyway).
    func heartbeat(_ stream: EventStream) {
        post(.heartbeat(stream))
    }

    /// Unregisters a stream whose thread is done with it.
    func remove(_ stream: EventStream) {
        registered.subtract(1, ordering: .relaxed)
        open.withLock { $0[ObjectIdentifier(stream)] = nil }
        post(.remove(stream))
    }

    /// Queues new events (in id order) for the streams that may see them (LISTEN thread).
    func deliver(_ events: [FramedEvent]) {
        guard !events.isEmpty else { return }
        post(.events(events))
    }

    /// Ends every stream and the fan-out thread.
    func closeAll() {
        queue.withLock { $0.stopped = true }
        wake.signal()
    }

    /// Appends a command and wakes the fan-out thread if the queue was empty; false once stopped.
    @discardableResult
    private func post(_ command: FanOut.Command) -> Bool {
        let (accepted, wasEmpty) = queue.withLock { queue -> (Bool, Bool) in
            guard !queue.stopped else { return (false, false) }
            queue.commands.append(command)
            return (true, queue.commands.count == 1)
        }
        if wasEmpty { wake.signal() }
        return accepted
    }

    /// The fan-out thread: waits for commands and for room in the connections of streams that ran
    /// out of credit, and writes, until `closeAll()`.
    func run() {
        var fanOut = FanOut(maxQueuedBytes: maxQueuedBytes)
        var descriptors: [pollfd] = []
        var events: [Int16] = []
        var commands: [FanOut.Command] = []
        while true {
            descriptors.removeAll(keepingCapacity: true)
            descriptors.append(pollfd(fd: wake.descriptor, events: Int16(POLLIN), revents: 0))
            for output in fanOut.blocked {
                descriptors.append(pollfd(fd: output.stream.connection, events: Int16(POLLOUT), revents: 0))
            }
            if poll(&descriptors, nfds_t(descriptors.count), -1) < 0 {
                if errno == EINTR { continue }
                Log.error("fan-out poll failed", ["errno": String(errno), "action": "retry in 10 ms"])
                usleep(10_000)
                continue
            }
            if descriptors.count > 1 {
                events.removeAll(keepingCapacity: true)
                for descriptor in descriptors.dropFirst() { events.append(descriptor.revents) }
                fanOut.handlePoll(events)
            }
            guard descriptors[0].revents != 0 else { continue }
            wake.drain()
            let stopped = queue.withLock { queue -> Bool in
                swap(&commands, &queue.commands)
                return queue.stopped
            }
            for command in commands { fanOut.apply(command) }
            commands.removeAll(keepingCapacity: true)
            if stopped {
                fanOut.endAll()
                return
            }
            fanOut.writeDue()
        }
    }
}
