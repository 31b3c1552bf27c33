/// A strict JSON reader (RFC 8259) for the object found in an LLM's answer, in pure Swift.
///
/// Why not `JSONValue.parse` (jansson): on a 1,000-task plan (1.2 MB) jansson alone takes 22–35 ms on
/// this machine before its tree is converted to `JSONValue`, which left no room for the 50 ms budget of
/// parse + validate + atomise + waves. This reader makes one pass over bytes that are already valid UTF-8
/// (they come from a Swift `String`) and builds the lighter `RawJSON` tree directly. It is as strict as the JSON
/// module's defaults: duplicate keys, `\u0000`, lone surrogates, leading zeros and integers beyond
/// 64 bits are errors; raw control characters in strings are accepted only when asked (local model
/// servers emit them). Errors carry the line and column in the whole answer.
struct AnswerJSONReader {
    /// What went wrong and at which byte of the answer.
    struct Failure: Error {
        var message: String
        var position: Int
        var isEndOfInput: Bool
    }

    private let bytes: UnsafeBufferPointer<UInt8>
    private let end: Int
    private let maxDepth: Int
    private let allowControlCharacters: Bool
    private var position: Int
    private var depth = 0

    /// Reads the first value in `bytes[range]`; whatever follows it (the closing code fence, prose) is ignored.
    static func read(_ bytes: UnsafeBufferPointer<UInt8>, in range: Range<Int>, maxDepth: Int,
                     allowControlCharacters: Bool) throws(Failure) -> RawJSON {
        var reader = AnswerJSONReader(bytes: bytes, end: range.upperBound, maxDepth: maxDepth,
                                      allowControlCharacters: allowControlCharacters, position: range.lowerBound)
        reader.skipWhitespace()
        return try reader.readValue()
    }

    private init(bytes: UnsafeBufferPointer<UInt8>, end: Int, maxDepth: Int, allowControlCharacters: Bool, position: Int) {
        self.bytes = bytes
        self.end = end
        self.maxDepth = maxDepth
        self.allowControlCharacters = allowControlCharacters
        self.position = position
    }

    private func failure(_ message: String, at offset: Int? = nil) -> Failure {
        Failure(message: message, position: offset ?? position, isEndOfInput: false)
    }

    private func endOfInput(_ expected: String) -> Failure {
        Failure(message: "the text ends where \(expected) was expected", position: end, isEndOfInput: true)
    }

    private mutating func skipWhitespace() {
        while position < end {
            switch bytes[position] {
            case 0x20, 0x0A, 0x0D, 0x09: position += 1
            default: return
            }
        }
    }

    private mutating func readValue() throws(Failure) -> RawJSON {
        guard position < end else { throw endOfInput("a value") }
        switch bytes[position] {
        case UInt8(ascii: "{"): return try readObject()
        case UInt8(ascii: "["): return try readArray()
        case UInt8(ascii: "\""): return .string(try readString())
        case UInt8(ascii: "t"): try readLiteral("true"); return .bool(true)
        case UInt8(ascii: "f"): try readLiteral("false"); return .bool(false)
        case UInt8(ascii: "n"): try readLiteral("null"); return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try readNumber()
        default: throw failure("unexpected character \(describe(bytes[position])); expected a value")
        }
    }

    private mutating func enter() throws(Failure) {
        depth += 1
        if depth > maxDepth { throw failure("nesting deeper than \(maxDepth) levels") }
    }

    private mutating func readObject() throws(Failure) -> RawJSON {
        try enter()
        position += 1
        var members: [(key: String, value: RawJSON)] = []
        // Duplicates are found by comparing keys while the object is small, and through a set once it is not,
        // so a hostile object with many members stays linear.
        var keys: Set<String>?
        skipWhitespace()
        if position < end, bytes[position] == UInt8(ascii: "}") {
            position += 1
            depth -= 1
            return .object(RawObject(members: members))
        }
        while true {
            guard position < end else { throw endOfInput("a member name") }
            guard bytes[position] == UInt8(ascii: "\"") else {
                throw failure("unexpected character \(describe(bytes[position])); expected a member name in double quotes")
            }
            let keyStart = position
            let key = try readString()
            skipWhitespace()
            guard position < end else { throw endOfInput("':'") }
            guard bytes[position] == UInt8(ascii: ":") else {
                throw failure("unexpected character \(describe(bytes[position])); expected ':' after a member name")
            }
            position += 1
            skipWhitespace()
            let value = try readValue()
            let isDuplicate: Bool
            if let inserted = keys?.insert(key).inserted {
                isDuplicate = !inserted
            } else {
                isDuplicate = members.contains { $0.key == key }
                if members.count >= 16 { keys = Set(members.map(\.key) + [key]) }
            }
            if isDuplicate { throw failure("duplicate member \(key.quotedForMessage(limit: 40)) in one object", at: keyStart) }
            members.append((key, value))
            skipWhitespace()
            guard position < end else { throw endOfInput("',' or '}'") }
            let byte = bytes[position]
            position += 1
            if byte == UInt8(ascii: "}") { break }
            guard byte == UInt8(ascii: ",") else {
                throw failure("unexpected character \(describe(byte)); expected ',' or '}' after an object member", at: position - 1)
            }
            skipWhitespace()
        }
        depth -= 1
        return .object(RawObject(members: members))
    }

    private mutating func readArray() throws(Failure) -> RawJSON {
        try enter()
        position += 1
        var elements: [RawJSON] = []
        skipWhitespace()
        if position < end, bytes[position] == UInt8(ascii: "]") {
            position += 1
            depth -= 1
            return .array(elements)
        }
        while true {
            elements.append(try readValue())
            skipWhitespace()
            guard position < end else { throw endOfInput("',' or ']'") }
            let byte = bytes[position]
            position += 1
            if byte == UInt8(ascii: "]") { break }
            guard byte == UInt8(ascii: ",") else {
                throw failure("unexpected character \(describe(byte)); expected ',' or ']' after an array element", at: position - 1)
            }
            skipWhitespace()
        }
        depth -= 1
        return .array(elements)
    }

    /// Reads a string starting at its opening quote. Runs without escapes are copied in one piece.
    private mutating func readString() throws(Failure) -> String {
        position += 1
        var runStart = position
        var result: String?
        while position < end {
            let byte = bytes[position]
            if byte == UInt8(ascii: "\"") {
                let run = String(decoding: UnsafeBufferPointer(rebasing: bytes[runStart..<position]), as: UTF8.self)
                position += 1
                guard var text = result else { return run }
                text += run
                return text
            }
            if byte == UInt8(ascii: "\\") {
                var text = result ?? ""
                text += String(decoding: UnsafeBufferPointer(rebasing: bytes[runStart..<position]), as: UTF8.self)
                try readEscape(into: &text)
                result = text
                runStart = position
                continue
            }
            if byte < 0x20 && !allowControlCharacters {
                throw failure("control character \(describe(byte)) inside a string; escape it (for example \\n)")
            }
            position += 1
        }
        throw endOfInput("the closing '\"' of a string")
    }

    private mutating func readEscape(into text: inout String) throws(Failure) {
        let escapeStart = position
        position += 1
        guard position < end else { throw endOfInput("an escape sequence") }
        let byte = bytes[position]
        position += 1
        switch byte {
        case UInt8(ascii: "\""): text += "\""
        case UInt8(ascii: "\\"): text += "\\"
        case UInt8(ascii: "/"): text += "/"
        case UInt8(ascii: "b"): text += "\u{08}"
        case UInt8(ascii: "f"): text += "\u{0C}"
        case UInt8(ascii: "n"): text += "\n"
        case UInt8(ascii: "r"): text += "\r"
        case UInt8(ascii: "t"): text += "\t"
        case UInt8(ascii: "u"):
            var code = try readHex4()
            if (0xD800...0xDBFF).contains(code) {
                guard position + 1 < end, bytes[position] == UInt8(ascii: "\\"), bytes[position + 1] == UInt8(ascii: "u") else {
                    throw failure("a high surrogate \\u\(String(code, radix: 16)) without its low surrogate", at: escapeStart)
                }
                position += 2
                let low = try readHex4()
                guard (0xDC00...0xDFFF).contains(low) else {
                    throw failure("a high surrogate followed by \\u\(String(low, radix: 16)), which is not a low surrogate", at: escapeStart)
                }
                code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
            } else if (0xDC00...0xDFFF).contains(code) {
                throw failure("a lone low surrogate \\u\(String(code, radix: 16))", at: escapeStart)
            }
            if code == 0 { throw failure("\\u0000 is not allowed in strings", at: escapeStart) }
            text.unicodeScalars.append(Unicode.Scalar(code)!)
        default:
            throw failure("invalid escape \\\(describe(byte, quoted: false)) in a string", at: escapeStart)
        }
    }

    private mutating func readHex4() throws(Failure) -> UInt32 {
        guard position + 4 <= end else { throw endOfInput("four hexadecimal digits") }
        var value: UInt32 = 0
        for _ in 0..<4 {
            let byte = bytes[position]
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
            default: throw failure("invalid hexadecimal digit \(describe(byte)) in a \\u escape")
            }
            value = value << 4 | UInt32(digit)
            position += 1
        }
        return value
    }

    private mutating func readLiteral(_ word: StaticString) throws(Failure) {
        let start = position
        let length = word.utf8CodeUnitCount
        guard position + length <= end else { throw endOfInput("\(word)") }
        for i in 0..<length where bytes[position + i] != word.utf8Start[i] {
            throw failure("unexpected character \(describe(bytes[start])); expected a value", at: start)
        }
        position += length
    }

    /// Integers without fraction or exponent become `.int` (refused beyond 64 bits, as jansson does);
    /// everything else becomes `.double`.
    private mutating func readNumber() throws(Failure) -> RawJSON {
        let start = position
        if bytes[position] == UInt8(ascii: "-") { position += 1 }
        guard position < end, isDigit(bytes[position]) else {
            if position >= end { throw endOfInput("a digit") }
            throw failure("a number needs a digit after '-'", at: start)
        }
        if bytes[position] == UInt8(ascii: "0") {
            position += 1
            if position < end, isDigit(bytes[position]) { throw failure("numbers must not start with 0", at: start) }
        } else {
            while position < end, isDigit(bytes[position]) { position += 1 }
        }
        var isInteger = true
        if position < end, bytes[position] == UInt8(ascii: ".") {
            isInteger = false
            position += 1
            guard position < end, isDigit(bytes[position]) else { throw failure("a number needs a digit after '.'", at: start) }
            while position < end, isDigit(bytes[position]) { position += 1 }
        }
        if position < end, bytes[position] | 0x20 == UInt8(ascii: "e") {
            isInteger = false
            position += 1
            if position < end, bytes[position] == UInt8(ascii: "+") || bytes[position] == UInt8(ascii: "-") { position += 1 }
            guard position < end, isDigit(bytes[position]) else { throw failure("a number needs a digit in its exponent", at: start) }
            while position < end, isDigit(bytes[position]) { position += 1 }
        }
        let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<position]), as: UTF8.self)
        if isInteger {
            guard let value = Int64(text) else { throw failure("the integer \(text) does not fit in 64 bits", at: start) }
            return .int(value)
        }
        guard let value = Double(text), value.isFinite else { throw failure("the number \(text) is out of range", at: start) }
        return .double(value)
    }

    private func isDigit(_ byte: UInt8) -> Bool { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) }

    private func describe(_ byte: UInt8, quoted: Bool = true) -> String {
        let text = (0x21..<0x7F).contains(byte) ? String(UnicodeScalar(byte)) : "U+" + String(byte, radix: 16, uppercase: true)
        return quoted && (0x21..<0x7F).contains(byte) ? "'\(text)'" : text
    }

    /// The 1-based line and column (in characters) of a byte offset in `bytes`.
    static func lineAndColumn(of offset: Int, in bytes: UnsafeBufferPointer<UInt8>) -> (line: Int, column: Int) {
        var line = 1, column = 1
        for i in 0..<min(offset, bytes.count) {
            let byte = bytes[i]
            if byte == UInt8(ascii: "\n") {
                line += 1
                column = 1
            } else if byte & 0xC0 != 0x80 {
                column += 1
            }
        }
        return (line, column)
    }
}
