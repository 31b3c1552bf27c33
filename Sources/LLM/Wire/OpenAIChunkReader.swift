/// Reads the usual Chat Completions stream chunk straight from its bytes, without building a
/// `JSONValue`: a streamed answer is one chunk per few characters, and parsing each in full (jansson,
/// then a Swift value for every member) was most of the client's work per chunk.
///
/// It reads only what it can read exactly as the full parse does: strings whose escapes are the
/// short ones (`\"`, `\n`, …; not `\u`) and whose other bytes are valid UTF-8 without control
/// characters, integers of up to 18 digits, literals, no duplicate keys, no nesting deeper than 32,
/// and `error` and `usage` only when absent or null. For anything else `read` returns nil and the
/// decoder parses the chunk in full, so the reader gives the full parse's answer or none.
struct OpenAIChunkReader {
    /// What the decoder takes from a chunk.
    struct Chunk: Equatable {
        /// `model` when it is a string and was asked for.
        var model: String?
        /// Nil when the chunk has no `choices` member.
        var choices: [Choice]?
    }

    struct Choice: Equatable {
        /// `index` when it is an integer, else 0 (as the decoder reads a missing index).
        var index: Int64 = 0
        /// Nil when `delta` is missing or null.
        var delta: Delta?
        /// `finish_reason` when it is a string.
        var finishReason: String?
    }

    struct Delta: Equatable {
        /// `content` when it is a string; nil when missing or null.
        var content: String?
        /// `refusal` when it is a string.
        var refusal: String?
    }

    /// The chunk, or nil when it holds anything this reader leaves to the full parse.
    static func read(_ data: ArraySlice<UInt8>, wantsModel: Bool) -> Chunk? {
        guard data.count <= ServerSentEvent.jsonOptions.maxBytes else { return nil }
        var reader = OpenAIChunkReader(bytes: data)
        do {
            let chunk = try reader.readChunk(wantsModel: wantsModel)
            reader.skipWhitespace()
            return reader.position == data.endIndex ? chunk : nil
        } catch {
            return nil
        }
    }

    /// Something left to the full parse.
    private struct Unsupported: Error {}

    private let bytes: ArraySlice<UInt8>
    private var position: Int
    /// Keys of the objects being read, innermost last, to find a duplicate (which the full parse refuses).
    private var keys: [Range<Int>] = []

    private init(bytes: ArraySlice<UInt8>) {
        self.bytes = bytes
        position = bytes.startIndex
        keys.reserveCapacity(32)
    }

    private static let maxDepth = 32
    private static let choicesKey = Array("choices".utf8)
    private static let modelKey = Array("model".utf8)
    private static let errorKey = Array("error".utf8)
    private static let usageKey = Array("usage".utf8)
    private static let indexKey = Array("index".utf8)
    private static let deltaKey = Array("delta".utf8)
    private static let finishReasonKey = Array("finish_reason".utf8)
    private static let contentKey = Array("content".utf8)
    private static let refusalKey = Array("refusal".utf8)

    // MARK: - The chunk's members

    private mutating func readChunk(wantsModel: Bool) throws(Unsupported) -> Chunk {
        var chunk = Chunk()
        skipWhitespace()
        try readObject(depth: 1) { reader, key throws(Unsupported) in
            if reader.matches(key, Self.choicesKey) {
                chunk.choices = try reader.readChoices()
            } else if wantsModel, reader.matches(key, Self.modelKey), reader.peek() == UInt8(ascii: "\"") {
                chunk.model = try reader.readString()
            } else if reader.matches(key, Self.errorKey) || reader.matches(key, Self.usageKey) {
                try reader.readNull()
            } else {
                try reader.skipValue(depth: 2)
            }
        }
        return chunk
    }

    private mutating func readChoices() throws(Unsupported) -> [Choice] {
        guard peek() == UInt8(ascii: "[") else { throw Unsupported() }
        var choices: [Choice] = []
        try readArray(depth: 2) { reader throws(Unsupported) in
            guard reader.peek() == UInt8(ascii: "{") else { throw Unsupported() }
            var choice = Choice()
            try reader.readObject(depth: 3) { reader, key throws(Unsupported) in
                if reader.matches(key, Self.indexKey), let byte = reader.peek(), byte == UInt8(ascii: "-") || (0x30...0x39).contains(byte) {
                    choice.index = try reader.readInteger()
                } else if reader.matches(key, Self.deltaKey) {
                    choice.delta = try reader.readDelta()
                } else if reader.matches(key, Self.finishReasonKey), reader.peek() == UInt8(ascii: "\"") {
                    choice.finishReason = try reader.readString()
                } else {
                    try reader.skipValue(depth: 4)
                }
            }
            choices.append(choice)
        }
        return choices
    }

    private mutating func readDelta() throws(Unsupported) -> Delta? {
        if peek() == UInt8(ascii: "n") {
            try readNull()
            return nil
        }
        guard peek() == UInt8(ascii: "{") else { throw Unsupported() }
        var delta = Delta()
        try readObject(depth: 4) { reader, key throws(Unsupported) in
            if reader.matches(key, Self.contentKey) {
                if reader.peek() == UInt8(ascii: "n") {
                    try reader.readNull()
                } else {
                    guard reader.peek() == UInt8(ascii: "\"") else { throw Unsupported() }
                    delta.content = try reader.readString()
                }
            } else if reader.matches(key, Self.refusalKey), reader.peek() == UInt8(ascii: "\"") {
                delta.refusal = try reader.readString()
            } else {
                try reader.skipValue(depth: 5)
            }
        }
        return delta
    }

    // MARK: - JSON, strictly

    private func peek() -> UInt8? {
        position < bytes.endIndex ? bytes[position] : nil
    }

    private func matches(_ key: Range<Int>, _ name: [UInt8]) -> Bool {
        bytes[key].elementsEqual(name)
    }

    private mutating func skipWhitespace() {
        while position < bytes.endIndex {
            switch bytes[position] {
            case UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\n"), UInt8(ascii: "\r"): position += 1
            default: return
            }
        }
    }

    private mutating func expect(_ byte: UInt8) throws(Unsupported) {
        guard position < bytes.endIndex, bytes[position] == byte else { throw Unsupported() }
        position += 1
    }

    /// Reads an object; `member` is called with each key's bytes (without quotes) and must read the value.
    private mutating func readObject(depth: Int, _ member: (inout OpenAIChunkReader, Range<Int>) throws(Unsupported) -> Void) throws(Unsupported) {
        guard depth <= Self.maxDepth else { throw Unsupported() }
        try expect(UInt8(ascii: "{"))
        let firstKey = keys.count
        defer { keys.removeSubrange(firstKey...) }
        skipWhitespace()
        if peek() == UInt8(ascii: "}") {
            position += 1
            return
        }
        while true {
            skipWhitespace()
            guard let key = try readPlainKey() else { throw Unsupported() }
            for earlier in keys[firstKey...] where bytes[earlier].elementsEqual(bytes[key]) { throw Unsupported() }
            keys.append(key)
            skipWhitespace()
            try expect(UInt8(ascii: ":"))
            skipWhitespace()
            try member(&self, key)
            skipWhitespace()
            guard let byte = peek() else { throw Unsupported() }
            position += 1
            if byte == UInt8(ascii: "}") { return }
            guard byte == UInt8(ascii: ",") else { throw Unsupported() }
        }
    }

    /// Reads an array; `element` is called at each element and must read it.
    private mutating func readArray(depth: Int, _ element: (inout OpenAIChunkReader) throws(Unsupported) -> Void) throws(Unsupported) {
        guard depth <= Self.maxDepth else { throw Unsupported() }
        try expect(UInt8(ascii: "["))
        skipWhitespace()
        if peek() == UInt8(ascii: "]") {
            position += 1
            return
        }
        while true {
            skipWhitespace()
            try element(&self)
            skipWhitespace()
            guard let byte = peek() else { throw Unsupported() }
            position += 1
            if byte == UInt8(ascii: "]") { return }
            guard byte == UInt8(ascii: ",") else { throw Unsupported() }
        }
    }

    private mutating func skipValue(depth: Int) throws(Unsupported) {
        switch peek() {
        case UInt8(ascii: "{"): try readObject(depth: depth) { reader, _ throws(Unsupported) in try reader.skipValue(depth: depth + 1) }
        case UInt8(ascii: "["): try readArray(depth: depth) { reader throws(Unsupported) in try reader.skipValue(depth: depth + 1) }
        case UInt8(ascii: "\""): _ = try scanString()
        case UInt8(ascii: "n"): try readNull()
        case UInt8(ascii: "t"): try readLiteral("true")
        case UInt8(ascii: "f"): try readLiteral("false")
        default: _ = try readInteger()
        }
    }

    private mutating func readNull() throws(Unsupported) {
        try readLiteral("null")
    }

    private mutating func readLiteral(_ literal: String) throws(Unsupported) {
        let text = literal.utf8
        guard bytes.endIndex - position >= text.count,
              bytes[position..<(position + text.count)].elementsEqual(text) else { throw Unsupported() }
        position += text.count
    }

    /// `-?(0|[1-9][0-9]*)` of at most 18 digits (no fraction or exponent: those are left to the full parse).
    private mutating func readInteger() throws(Unsupported) -> Int64 {
        let negative = peek() == UInt8(ascii: "-")
        if negative { position += 1 }
        let start = position
        var value: Int64 = 0
        while position < bytes.endIndex, (0x30...0x39).contains(bytes[position]) {
            value = value * 10 + Int64(bytes[position] - 0x30)
            position += 1
            guard position - start <= 18 else { throw Unsupported() }
        }
        let digits = position - start
        guard digits > 0, digits == 1 || bytes[start] != 0x30 else { throw Unsupported() }
        return negative ? -value : value
    }

    /// A key without escapes: the range of its bytes, or nil for a key with escapes.
    private mutating func readPlainKey() throws(Unsupported) -> Range<Int>? {
        let (range, escaped) = try scanString()
        return escaped ? nil : range
    }

    private mutating func readString() throws(Unsupported) -> String {
        let (range, escaped) = try scanString()
        let raw = bytes[range]
        guard escaped else { return String(decoding: raw, as: UTF8.self) }
        var decoded: [UInt8] = []
        decoded.reserveCapacity(raw.count)
        var index = raw.startIndex
        while index < raw.endIndex {
            let byte = raw[index]
            index += 1
            guard byte == UInt8(ascii: "\\") else {
                decoded.append(byte)
                continue
            }
            let escape = raw[index] // scanString checked it
            index += 1
            switch escape {
            case UInt8(ascii: "b"): decoded.append(0x08)
            case UInt8(ascii: "f"): decoded.append(0x0C)
            case UInt8(ascii: "n"): decoded.append(0x0A)
            case UInt8(ascii: "r"): decoded.append(0x0D)
            case UInt8(ascii: "t"): decoded.append(0x09)
            default: decoded.append(escape) // " \ /
            }
        }
        return String(decoding: decoded, as: UTF8.self)
    }

    /// Checks a string and returns the range of its bytes between the quotes, and whether it has escapes.
    private mutating func scanString() throws(Unsupported) -> (Range<Int>, escaped: Bool) {
        try expect(UInt8(ascii: "\""))
        let start = position
        var escaped = false
        while position < bytes.endIndex {
            let byte = bytes[position]
            switch byte {
            case UInt8(ascii: "\""):
                position += 1
                return (start..<(position - 1), escaped)
            case UInt8(ascii: "\\"):
                guard position + 1 < bytes.endIndex else { throw Unsupported() }
                switch bytes[position + 1] {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"), UInt8(ascii: "b"), UInt8(ascii: "f"),
                     UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"):
                    escaped = true
                    position += 2
                default:
                    throw Unsupported() // \u, or not an escape at all
                }
            case 0..<0x20:
                throw Unsupported() // a raw control character: the full parse escapes it first
            case 0x20..<0x80:
                position += 1
            default:
                position += try Self.utf8SequenceLength(bytes, at: position)
            }
        }
        throw Unsupported()
    }

    /// The length of the valid UTF-8 sequence of more than one byte at `index` (no overlong forms,
    /// surrogates or code points above U+10FFFF, which jansson refuses too).
    private static func utf8SequenceLength(_ bytes: ArraySlice<UInt8>, at index: Int) throws(Unsupported) -> Int {
        let lead = bytes[index]
        let length: Int
        var second: ClosedRange<UInt8> = 0x80...0xBF
        switch lead {
        case 0xC2...0xDF: length = 2
        case 0xE0: length = 3; second = 0xA0...0xBF
        case 0xE1...0xEC, 0xEE...0xEF: length = 3
        case 0xED: length = 3; second = 0x80...0x9F
        case 0xF0: length = 4; second = 0x90...0xBF
        case 0xF1...0xF3: length = 4
        case 0xF4: length = 4; second = 0x80...0x8F
        default: throw Unsupported()
        }
        guard bytes.endIndex - index >= length, second.contains(bytes[index + 1]) else { throw Unsupported() }
        for offset in 2..<length where !(0x80...0xBF).contains(bytes[index + offset]) { throw Unsupported() }
        return length
    }
}
