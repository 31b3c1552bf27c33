/// The fan-out thread's own record of one stream: the events held back while the stream's thread
/// replays, then the bytes waiting for room in the connection. Touched by the fan-out thread only.
final class StreamOutput {
    let stream: EventStream
    /// False while the stream's thread writes the replay; the fan-out thread writes only once true.
    var isLive = false
    /// Events that arrived during the replay; on going live, those the replay did not cover are sent.
    var held: [(id: Int64, bytes: [UInt8])] = []
    var heldBytes = 0
    var outbox = Outbox()
    /// Write cost that fits in the connection's send buffer for sure (see `FanOut`); 0 until `poll`
    /// first reports room, since the replay may have filled it.
    var credit = 0
    /// In the fan-out's list of streams to write now.
    var isDue = false
    /// In the fan-out's list of streams waiting for room.
    var isBlocked = false
    /// Forgotten by the fan-out (ended or removed): never written again.
    var isEnded = false
    /// The last event id queued for the client, replayed or live: nothing at or below it is sent again.
    var lastID: Int64 = 0

    init(stream: EventStream) {
        self.stream = stream
    }

    /// Bytes queued for this stream, held or waiting.
    var queuedBytes: Int { heldBytes + outbox.count }
}
