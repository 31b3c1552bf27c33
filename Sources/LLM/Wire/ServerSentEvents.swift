#if canImport(Glibc)
import Glibc
#endif

/// One server-sent event: its `event:` name (nil when absent) and its `data:` lines joined by LF.
///
/// The data stays bytes: the providers' decoders parse it as JSON without first making a String of it.
struct ServerSentEvent: Sendable, Hashable {
    var event: String?
    /// The `data:` lines joined by LF, as they arrived (UTF-8 from a well-behaved server; not checked here).
    var dataBytes: [UInt8]

    init(event: String?, dataBytes: [UInt8]) {
        self.event = event
        self.dataBytes = dataBytes
    }

    init(event: String?, data: String) {
        self.init(event: event, dataBytes: Array(data.utf8))
    }

    /// The data as text; bytes that are not UTF-8 become U+FFFD.
    var data: String { String(decoding: dataBytes, as: UTF8.self) }
}

/// Splits a byte stream into server-sent events (WHATWG HTML §9.2.6), incrementally: chunks may end
/// anywhere, inside a line, inside a UTF-8 sequence, or between the CR and LF of a line end.
///
/// Lines end with LF, CRLF or CR. `data:` lines accumulate; an empty line dispatches the event;
/// lines starting with `:` are comments (keep-alives); `id:` and `retry:` are read and ignored; a
/// leading BOM is skipped. An event still open when the stream ends is not dispatched (`hasPartialEvent`
/// tells the caller the stream stopped mid-event).
///
/// Works on bytes throughout: a line that arrives whole is read where it lies in the chunk, and only a
/// line split across chunks is copied, so a streamed answer costs one allocation per event (its data).
struct ServerSentEventDecoder {
    /// The start of a line whose end has not arrived yet.
    private var line: [UInt8] = []
    private var afterCR = false
    private var eventName: String?
    /// The event's `data:` lines so far, joined by LF.
    private var data: [UInt8] = []
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

    /// Scans for line ends with `memchr` and handles each whole line in place. Returns false when a
    /// line outgrows `maxLineBytes`.
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
            let piece = UnsafeBufferPointer(rebasing: buffer[index..<end])
            if end == count {
                // The line goes on in a later chunk.
                line.append(contentsOf: piece)
                return line.count <= maxLineBytes
            }
            if buffer[end] == 0x0D { afterCR = true }
            let event: ServerSentEvent?
            if line.isEmpty {
                guard piece.count <= maxLineBytes else { return false }
                event = endLine(piece)
            } else {
                line.append(contentsOf: piece)
                guard line.count <= maxLineBytes else { return false }
                // Taken out of `self` while endLine mutates it; put back empty to keep its capacity.
                var whole: [UInt8] = []
                swap(&whole, &line)
                event = whole.withUnsafeBufferPointer { endLine($0) }
                whole.removeAll(keepingCapacity: true)
                swap(&whole, &line)
            }
            if let event { events.append(event) }
            index = end + 1
        }
        return true
    }

    private static let dataField = Array("data".utf8)
    private static let eventField = Array("event".utf8)

    /// Handles a complete line (without its line end); returns an event when the line was blank and
    /// data had accumulated.
    private mutating func endLine(_ line: UnsafeBufferPointer<UInt8>) -> ServerSentEvent? {
        if line.isEmpty {
            defer {
                eventName = nil
                data.removeAll(keepingCapacity: true)
                hasData = false
            }
            guard hasData else { return nil }
            return ServerSentEvent(event: eventName, dataBytes: data)
        }
        let colon = UInt8(ascii: ":")
        if line[0] == colon { return nil }
        let fieldEnd = line.firstIndex(of: colon) ?? line.count
        var valueStart = min(fieldEnd + 1, line.count)
        if valueStart < line.count, line[valueStart] == UInt8(ascii: " ") { valueStart += 1 }
        let field = UnsafeBufferPointer(rebasing: line[..<fieldEnd])
        let value = UnsafeBufferPointer(rebasing: line[valueStart...])
        if field.elementsEqual(Self.dataField) {
            if hasData { data.append(0x0A) }
            data.append(contentsOf: value)
            hasData = true
        } else if field.elementsEqual(Self.eventField) {
            eventName = String(decoding: value, as: UTF8.self)
        }
        // id, retry and unknown fields are ignored.
        return nil
    }
}
