/// Finds the one JSON object in an LLM's answer, which may be bare, inside a Markdown code fence, or
/// surrounded by prose.
///
/// Works on UTF-8 bytes and never parses; it only decides where the object starts and ends, so that
/// the JSON parser's messages (with line and column) describe the object the model meant.
enum JSONObjectLocator {
    /// Where the object lies in the answer's bytes.
    struct Span: Equatable {
        var start: Int
        var end: Int
        /// False when prose was searched and the text ran out before the braces balanced: the answer was cut off.
        var isBalanced: Bool
        var length: Int { end - start }
    }

    /// Prose rarely holds more than a few brace pairs; a bound keeps hostile input linear.
    static let maxProseCandidates = 16

    /// Locates the object, or returns nil when the answer holds no `{` at all.
    ///
    /// Preference: an answer that starts with `{` is the object (so code fences inside its strings do
    /// not confuse); else the first code fence whose content starts with `{`; else, in prose, the
    /// longest balanced `{…}` among the first few (a plan dwarfs a stray `{name}` in a sentence).
    /// In the first two cases the span runs to the end of the answer: the JSON reader stops at the end
    /// of the object by itself, which spares a second pass over a large answer.
    static func locate(in bytes: UnsafeBufferPointer<UInt8>) -> Span? {
        guard let first = bytes.firstIndex(where: { !isWhitespace($0) }) else { return nil }
        if bytes[first] == UInt8(ascii: "{") { return Span(start: first, end: bytes.count, isBalanced: true) }
        if let fenced = fencedObjectStart(bytes) { return Span(start: fenced, end: bytes.count, isBalanced: true) }
        var best: Span?
        var position = 0
        var tried = 0
        while tried < maxProseCandidates, let start = firstBrace(bytes, from: position) {
            let span = match(bytes, from: start)
            if !span.isBalanced { return best ?? span }
            if best == nil || span.length > best!.length { best = span }
            position = span.end
            tried += 1
        }
        return best
    }

    /// The object starting at `start`, up to its matching brace, skipping braces inside strings.
    static func match(_ bytes: UnsafeBufferPointer<UInt8>, from start: Int) -> Span {
        var depth = 0
        var inString = false
        var escaped = false
        var i = start
        while i < bytes.count {
            let byte = bytes[i]
            if inString {
                if escaped { escaped = false }
                else if byte == UInt8(ascii: "\\") { escaped = true }
                else if byte == UInt8(ascii: "\"") { inString = false }
            } else if byte == UInt8(ascii: "\"") {
                inString = true
            } else if byte == UInt8(ascii: "{") {
                depth += 1
            } else if byte == UInt8(ascii: "}") {
                depth -= 1
                if depth == 0 { return Span(start: start, end: i + 1, isBalanced: true) }
            }
            i += 1
        }
        return Span(start: start, end: bytes.count, isBalanced: false)
    }

    /// The index of the `{` that opens the content of the first code fence (```` ``` ```` or ```` ```json ````) holding an object.
    private static func fencedObjectStart(_ bytes: UnsafeBufferPointer<UInt8>) -> Int? {
        let tick = UInt8(ascii: "`")
        var i = 0
        var fenceCount = 0
        while i + 2 < bytes.count {
            guard bytes[i] == tick, bytes[i + 1] == tick, bytes[i + 2] == tick else { i += 1; continue }
            fenceCount += 1
            var j = i + 3
            while j < bytes.count, bytes[j] == tick { j += 1 }
            // Only an opening fence (odd count) starts content; skip its info string ("json") to the line end.
            if fenceCount % 2 == 1 {
                while j < bytes.count, bytes[j] != UInt8(ascii: "\n"), bytes[j] != UInt8(ascii: "{") { j += 1 }
                while j < bytes.count, isWhitespace(bytes[j]) { j += 1 }
                if j < bytes.count, bytes[j] == UInt8(ascii: "{") { return j }
            }
            i = j
        }
        return nil
    }

    private static func firstBrace(_ bytes: UnsafeBufferPointer<UInt8>, from position: Int) -> Int? {
        var i = position
        while i < bytes.count {
            if bytes[i] == UInt8(ascii: "{") { return i }
            i += 1
        }
        return nil
    }

    private static func isWhitespace(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D
    }
}
