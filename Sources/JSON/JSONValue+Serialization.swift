/// How `JSONValue.serialized` lays out text.
public enum JSONFormat: Sendable {
    /// No whitespace at all: for the wire and the database.
    case compact
    /// Two-space indentation, one member per line: for people.
    case pretty
}

extension JSONValue {
    /// The document as UTF-8 bytes.
    ///
    /// Written in Swift rather than with `json_dumps`: jansson prints doubles with `%.17g`
    /// (0.7 becomes 0.69999999999999996), while Swift prints the shortest text that reads back
    /// to the same double; and it writes in one pass without building a C tree first.
    /// NaN and infinities have no JSON form and throw.
    public func serializedBytes(_ format: JSONFormat = .compact) throws(JSONError) -> [UInt8] {
        var writer = JSONWriter(format: format)
        try writer.write(self, depth: 0)
        return writer.out
    }

    /// The document as a String (see `serializedBytes`).
    public func serialized(_ format: JSONFormat = .compact) throws(JSONError) -> String {
        String(decoding: try serializedBytes(format), as: UTF8.self)
    }

    /// The compact text of a value that is known to be finite (no NaN or infinity), e.g. one that was parsed.
    public var jsonText: String {
        (try? serialized()) ?? "null"
    }
}

struct JSONWriter {
    /// Deeper documents than this are refused when writing, so a hostile value cannot exhaust the stack.
    static let maxDepth = 2048

    let format: JSONFormat
    var out: [UInt8] = []

    init(format: JSONFormat) {
        self.format = format
        out.reserveCapacity(256)
    }

    mutating func write(_ value: JSONValue, depth: Int) throws(JSONError) {
        switch value {
        case .null: append("null")
        case .bool(let b): append(b ? "true" : "false")
        case .int(let i): append(String(i))
        case .double(let d):
            guard d.isFinite else {
                throw JSONError(kind: .invalidValue, message: "\(d) has no JSON form", line: 1, column: 1, position: out.count)
            }
            if d == d.rounded(), abs(d) < 1e15 {
                // Keep a visible fraction so the value reads back as a number, not an integer.
                append(String(Int64(d))); append(".0")
            } else {
                append(String(d))
            }
        case .string(let s): writeString(s)
        case .array(let elements):
            guard depth < Self.maxDepth else { throw tooDeep() }
            out.append(UInt8(ascii: "["))
            for (i, element) in elements.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                newline(depth + 1)
                try write(element, depth: depth + 1)
            }
            if !elements.isEmpty { newline(depth) }
            out.append(UInt8(ascii: "]"))
        case .object(let object):
            guard depth < Self.maxDepth else { throw tooDeep() }
            out.append(UInt8(ascii: "{"))
            for (i, member) in object.members.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                newline(depth + 1)
                writeString(member.key)
                out.append(UInt8(ascii: ":"))
                if case .pretty = format { out.append(UInt8(ascii: " ")) }
                try write(member.value, depth: depth + 1)
            }
            if !object.isEmpty { newline(depth) }
            out.append(UInt8(ascii: "}"))
        }
    }

    private func tooDeep() -> JSONError {
        JSONError(kind: .tooDeep, message: "nesting deeper than \(Self.maxDepth) levels", line: 1, column: 1, position: out.count)
    }

    private mutating func newline(_ depth: Int) {
        guard case .pretty = format else { return }
        out.append(UInt8(ascii: "\n"))
        out.append(contentsOf: repeatElement(UInt8(ascii: " "), count: depth * 2))
    }

    private mutating func append(_ s: String) { out.append(contentsOf: s.utf8) }

    private mutating func writeString(_ s: String) {
        out.append(UInt8(ascii: "\""))
        for byte in s.utf8 {
            switch byte {
            case UInt8(ascii: "\""): out.append(UInt8(ascii: "\\")); out.append(byte)
            case UInt8(ascii: "\\"): out.append(UInt8(ascii: "\\")); out.append(byte)
            case 0..<0x20: Self.appendEscaped(controlByte: byte, to: &out)
            default: out.append(byte)
            }
        }
        out.append(UInt8(ascii: "\""))
    }

    /// Appends the JSON escape of a byte below 0x20.
    static func appendEscaped(controlByte byte: UInt8, to out: inout [UInt8]) {
        switch byte {
        case 0x08: out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "b")])
        case 0x09: out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "t")])
        case 0x0A: out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "n")])
        case 0x0C: out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "f")])
        case 0x0D: out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "r")])
        default:
            let hex: [UInt8] = Array("0123456789abcdef".utf8)
            out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0"),
                                    hex[Int(byte >> 4)], hex[Int(byte & 0xF)]])
        }
    }
}
