/// Bytes waiting to go to one live stream, in order. Chunks are the shared framed events (not
/// copied); the first may be partly written already, since a stream is sent only as much as fits
/// without blocking.
struct Outbox {
    private var chunks: [[UInt8]] = []
    /// Index in `chunks` of the first chunk not completely written.
    private var head = 0
    /// Bytes of `chunks[head]` already written.
    private var offset = 0
    /// Bytes not yet written.
    private(set) var count = 0

    var isEmpty: Bool { count == 0 }

    mutating func append(_ bytes: [UInt8]) {
        guard !bytes.isEmpty else { return }
        chunks.append(bytes)
        count += bytes.count
    }

    /// The next bytes to write, at most `limit` of them; nil when empty. A whole chunk is returned
    /// as it is, without a copy.
    func nextPiece(limit: Int) -> [UInt8]? {
        guard head < chunks.count, limit > 0 else { return nil }
        let chunk = chunks[head]
        if offset == 0 && chunk.count <= limit { return chunk }
        return Array(chunk[offset..<min(chunk.count, offset + limit)])
    }

    /// Marks `written` bytes (what `nextPiece` returned) as written.
    mutating func consume(_ written: Int) {
        offset += written
        count -= written
        if offset == chunks[head].count {
            head += 1
            offset = 0
        }
        if head == chunks.count {
            chunks.removeAll(keepingCapacity: chunks.capacity <= 64)
            head = 0
        } else if head >= 64 && head * 2 >= chunks.count {
            chunks.removeFirst(head)
            head = 0
        }
    }
}
