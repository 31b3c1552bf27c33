/// The last bytes of a program's output, kept in bounded memory however much the program writes.
///
/// A sandboxed program may print gigabytes in a loop; only the tail is useful (the failing assertion,
/// the traceback) and only the tail is kept. Memory stays below twice the capacity plus one read.
public struct OutputTail: Sendable, Equatable {
    /// The most bytes kept.
    public let capacity: Int
    /// Every byte the program wrote, kept or not.
    public private(set) var totalBytes: Int = 0
    private var buffer: [UInt8] = []

    public init(capacity: Int) {
        self.capacity = max(0, capacity)
    }

    /// Adds bytes read from the program.
    public mutating func append(_ bytes: UnsafeRawBufferPointer) {
        totalBytes += bytes.count
        guard capacity > 0 else { return }
        if bytes.count >= capacity {
            buffer = Array(bytes.suffix(capacity))
            return
        }
        buffer.append(contentsOf: bytes)
        // Compact only now and then, so that appending stays linear overall.
        if buffer.count > 2 * capacity {
            buffer.removeFirst(buffer.count - capacity)
        }
    }

    /// Adds bytes read from the program.
    public mutating func append(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { append($0) }
    }

    /// The kept bytes: at most `capacity`, the newest ones.
    public var bytes: [UInt8] {
        buffer.count > capacity ? Array(buffer.suffix(capacity)) : buffer
    }

    /// Bytes written but no longer kept.
    public var droppedBytes: Int { totalBytes - min(totalBytes, capacity, buffer.count) }

    /// The kept bytes as text; invalid UTF-8 becomes U+FFFD, and a character cut in half at the start
    /// of the tail is dropped rather than shown as garbage.
    public var text: String {
        var kept = bytes[...]
        if droppedBytes > 0 {
            // At most three continuation bytes can belong to a character whose first byte was dropped.
            var skipped = 0
            while skipped < 3, let first = kept.first, first & 0xC0 == 0x80 {
                kept = kept.dropFirst()
                skipped += 1
            }
        }
        return String(decoding: kept, as: UTF8.self)
    }
}
