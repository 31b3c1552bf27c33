/// Reads the reply out of a chat answer that is still arriving, so it can be shown while the model
/// writes it.
///
/// The answer is the chat schema's JSON document (`{"reply", "plan_request"}`, members in any order,
/// possibly inside a ```` ```json ```` fence), or prose from a model that ignored the schema. For
/// JSON the result is the decoded top-level `"reply"` string up to its last complete character: an
/// escape still being received (`\`, `\u00`, a high surrogate waiting for its low half) is left out
/// until it is whole. For prose it is the prose up to the first `{` (where an embedded JSON answer
/// would begin), without surrounding whitespace.
///
/// Stateless, one pass over the text: called again with a longer text, it returns the same text or a
/// longer one that starts with it; for the whole answer it returns what `ChatHandler.reply(from:)`
/// stores whenever that parses. Malformed JSON stops the reply where the damage begins.
enum PartialChatReply {
    /// The reply so far in `received`, the answer's text as received until now.
    static func text(in received: String) -> String {
        var reader = Reader(Array(received.unicodeScalars))
        reader.skipWhitespace()
        guard let first = reader.peek else { return "" }
        if first == "{" { return reader.replyMember() ?? "" }
        if first == "`" {
            switch reader.fence() {
            case .object: return reader.replyMember() ?? ""
            case .incomplete: return ""
            case .other: break
            }
        }
        return prose(received)
    }

    /// Prose up to the first `{`, without leading or trailing whitespace.
    private static func prose(_ received: String) -> String {
        let before = received.unicodeScalars.prefix { $0 != "{" }
        let trimmed = before.drop(while: \.properties.isWhitespace).reversed().drop(while: \.properties.isWhitespace).reversed()
        var text = String.UnicodeScalarView()
        text.append(contentsOf: trimmed)
        return String(text)
    }

    /// A cursor over the answer's Unicode scalars.
    private struct Reader {
        let scalars: [Unicode.Scalar]
        var position = 0

        init(_ scalars: [Unicode.Scalar]) { self.scalars = scalars }

        var peek: Unicode.Scalar? { position < scalars.count ? scalars[position] : nil }

        /// JSON whitespace: space, tab, line feed, carriage return.
        mutating func skipWhitespace() {
            while let scalar = peek, scalar == " " || scalar == "\t" || scalar == "\n" || scalar == "\r" { position += 1 }
        }

        enum Fence { case object, incomplete, other }

        /// At a backtick: moves to the `{` that opens a fenced object (```` ``` ```` or ```` ```json ````).
        mutating func fence() -> Fence {
            var ticks = 0
            while peek == "`" { ticks += 1; position += 1 }
            if ticks < 3 { return peek == nil ? .incomplete : .other }
            // The info string ("json") runs to the end of the line.
            while let scalar = peek, scalar != "\n", scalar != "{" { position += 1 }
            skipWhitespace()
            guard let scalar = peek else { return .incomplete }
            return scalar == "{" ? .object : .other
        }

        /// At the object's `{`: the decoded `"reply"` member so far, or nil while it has not begun
        /// (or when the object has none, or breaks before it).
        mutating func replyMember() -> String? {
            position += 1
            while true {
                skipWhitespace()
                guard peek == "\"" else { return nil }
                let key = string()
                guard key.complete else { return nil }
                skipWhitespace()
                guard peek == ":" else { return nil }
                position += 1
                skipWhitespace()
                if key.text == "reply" {
                    guard peek == "\"" else { return nil }
                    return string().text
                }
                guard skipValue() else { return nil }
                skipWhitespace()
                guard peek == "," else { return nil }
                position += 1
            }
        }

        /// At a `"`: the string decoded up to its closing quote (`complete`), or else up to the end of
        /// what arrived or to an escape that is unfinished or invalid.
        mutating func string() -> (text: String, complete: Bool) {
            position += 1
            var text = String.UnicodeScalarView()
            while let scalar = peek {
                if scalar == "\"" {
                    position += 1
                    return (String(text), true)
                }
                if scalar == "\\" {
                    guard let decoded = escape() else { return (String(text), false) }
                    text.append(decoded)
                    continue
                }
                text.append(scalar)
                position += 1
            }
            return (String(text), false)
        }

        /// At a `\`: the escaped scalar, moving past it; nil, without moving, when the escape is not
        /// complete yet or is not valid JSON (which the final parse rejects too).
        mutating func escape() -> Unicode.Scalar? {
            let start = position
            guard position + 1 < scalars.count else { return nil }
            let decoded: Unicode.Scalar?
            switch scalars[position + 1] {
            case "\"": decoded = "\""
            case "\\": decoded = "\\"
            case "/": decoded = "/"
            case "b": decoded = "\u{08}"
            case "f": decoded = "\u{0C}"
            case "n": decoded = "\n"
            case "r": decoded = "\r"
            case "t": decoded = "\t"
            case "u":
                guard let code = hex4(at: position + 2) else { return nil }
                switch code {
                case 0xD800...0xDBFF:
                    guard position + 7 < scalars.count, scalars[position + 6] == "\\", scalars[position + 7] == "u",
                          let low = hex4(at: position + 8), (0xDC00...0xDFFF).contains(low) else { return nil }
                    position = start + 12
                    return Unicode.Scalar(0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00))
                case 0xDC00...0xDFFF, 0:
                    return nil
                default:
                    position = start + 6
                    return Unicode.Scalar(code)
                }
            default:
                decoded = nil
            }
            if decoded != nil { position = start + 2 }
            return decoded
        }

        /// The four hexadecimal digits at `index`, or nil when fewer have arrived or one is not a digit.
        func hex4(at index: Int) -> UInt32? {
            guard index + 4 <= scalars.count else { return nil }
            var value: UInt32 = 0
            for scalar in scalars[index..<index + 4] {
                let digit: UInt32
                switch scalar {
                case "0"..."9": digit = scalar.value - 0x30
                case "a"..."f": digit = scalar.value - 0x61 + 10
                case "A"..."F": digit = scalar.value - 0x41 + 10
                default: return nil
                }
                value = value << 4 | digit
            }
            return value
        }

        /// Moves past one complete value (string, object, array, number or literal); false when the
        /// value is not complete yet or not valid.
        mutating func skipValue() -> Bool {
            guard let first = peek else { return false }
            if first == "\"" { return string().complete }
            if first == "{" || first == "[" {
                var depth = 0
                while let scalar = peek {
                    switch scalar {
                    case "\"":
                        guard string().complete else { return false }
                        continue
                    case "{", "[":
                        depth += 1
                    case "}", "]":
                        depth -= 1
                        if depth == 0 { position += 1; return true }
                    default:
                        break
                    }
                    position += 1
                }
                return false
            }
            // A number or literal ends at the first delimiter; at the end of the text it may go on.
            let start = position
            while let scalar = peek, !(scalar == "," || scalar == "}" || scalar == "]" || scalar == " " || scalar == "\t"
                                       || scalar == "\n" || scalar == "\r") {
                position += 1
            }
            return peek != nil && position > start
        }
    }
}
