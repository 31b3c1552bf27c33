#if canImport(Glibc)
import Glibc
#endif

/// One server-sent event: its `event:` name (nil when absent) and its `data:` lines joined by "\n".
struct ServerSentEvent: Sendable, Hashable {
    var event: String?
    var data: String
}

/// Splits a byte stream into server-sent events (WHATWG HTML §9.2.6), incrementally: chunks may end
/// anywhere, inside a line, inside a UTF-8 sequence, or between the CR and LF of a line end.
///
/// Lines end with LF, CRLF or CR. `data:` lines accumulate; an empty line dispatches the event;
/// lines starting with `:` are comments (keep-alives); `id:` and `retry:` are read and ignored; a
/// leading BOM is skipped. An event still open when the stream ends is not dispatched (`hasPartialEvent`
/// tells the caller the stream stopped mid-event).
struct ServerSentEventDecoder {
    private var line: [UInt8] = []
    private var afterCR = false
    private var eventName: String?
    private var dataLines: [String] = []
    private var hasData = false
    private var bomBytesSeen = 0
    private static let bom: [UInt8] = [0xEF, 0xBB, 0xBF]
    /// Bytes of the longest line accepted; a longer one is a malformed stream, not unbounded memory.
    let maxLineBytes: Int

    init(maxLineBytes: Int = 64 << 20) {
        self.maxLineBytes = maxLineBytes
    }

    struct LineTooLong: Error {}

    /// True when bytes of an event (or of a line) arrived that no blank line has closed yet.
    var hasPartialEvent: Bool { !line.isEmpty || hasData || eventName != nil }

    /// Feeds bytes; returns the events they completed, in order.
    mutating func feed(_ bytes: some Collection<UInt8>) throws(LineTooLong) -> [ServerSentEvent] {
        var events: [ServerSentEvent] = []
        var fits = true
        let contiguous: Void? = bytes.withContiguousStorageIfAvailable { buffer in
            fits = feedContiguous(buffer, into: &events)
        }
        if contiguous == nil {
            Array(bytes).withUnsafeBufferPointer { buffer in fits = feedContiguous(buffer, into: &events) }
        }
        guard fits else { throw LineTooLong() }
        return events
    }

    /// Scans for line ends with `memchr` and appends whole runs of bytes, so a large answer costs
    /// little per byte even in a debug build. Returns false when a line outgrows `maxLineBytes`.
    private mutating func feedContiguous(_ buffer: UnsafeBufferPointer<UInt8>, into events: inout [ServerSentEvent]) -> Bool {
        guard let base = buffer.baseAddress else { return true }
        let count = buffer.count
        var index = 0
        while index < count {
            // A UTF-8 BOM may start the stream; it is not part of the first line.
            if bomBytesSeen < 3 {
                let byte = buffer[index]
                if line.count == bomBytesSeen, byte == Self.bom[bomBytesSeen] {
                    bomBytesSeen += 1
                    line.append(byte)
                    if bomBytesSeen == 3 { line.removeAll(keepingCapacity: true) }
                    index += 1
                    continue
                }
                bomBytesSeen = 3
            }
            if afterCR {
                afterCR = false
                if buffer[index] == 0x0A { index += 1; continue } // the LF of a CRLF
            }
            let remaining = count - index
            let start = UnsafeRawPointer(base)
            let newline = memchr(start + index, 0x0A, remaining).map { UnsafeRawPointer($0) - start } ?? count
            let carriageReturn = memchr(start + index, 0x0D, newline - index).map { UnsafeRawPointer($0) - start }
            let end = carriageReturn ?? newline
            line.append(contentsOf: UnsafeBufferPointer(rebasing: buffer[index..<end]))
            if line.count > maxLineBytes { return false }
            guard end < count else { break }
            if buffer[end] == 0x0D { afterCR = true }
            if let event = endLine() { events.append(event) }
            index = end + 1
        }
        return true
    }

    /// Handles a complete line; returns an event when the line was blank and data had accumulated.
    private mutating func endLine() -> ServerSentEvent? {
        defer { line.removeAll(keepingCapacity: true) }
        if line.isEmpty {
            defer {
                eventName = nil
                dataLines.removeAll(keepingCapacity: true)
                hasData = false
            }
            guard hasData else { return nil }
            return ServerSentEvent(event: eventName, data: dataLines.joined(separator: "\n"))
        }
        if line[0] == UInt8(ascii: ":") { return nil }
        let field: String
        var value: String
        if let colon = line.firstIndex(of: UInt8(ascii: ":")) {
            field = String(decoding: line[..<colon], as: UTF8.self)
            var start = colon + 1
            if start < line.count, line[start] == UInt8(ascii: " ") { start += 1 }
            value = String(decoding: line[start...], as: UTF8.self)
        } else {
            field = String(decoding: line, as: UTF8.self)
            value = ""
        }
        switch field {
        case "data":
            dataLines.append(value)
            hasData = true
        case "event":
            eventName = value
        default:
            value = "" // id, retry and unknown fields are ignored
        }
        return nil
    }
}
