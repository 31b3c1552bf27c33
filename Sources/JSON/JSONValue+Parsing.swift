import CJansson

/// Limits and leniencies for `JSONValue.parse`.
public struct JSONParseOptions: Sendable {
    /// The deepest nesting of arrays and objects accepted. jansson itself stops at 2048.
    public var maxDepth: Int = 512
    /// The largest document accepted, in bytes.
    public var maxBytes: Int = 64 << 20
    /// Two members with one key in one object are an error (the later one would silently win otherwise).
    public var rejectDuplicateKeys: Bool = true
    /// Accept raw control characters (such as a newline) inside strings, as some grammar-constrained
    /// model servers emit them; they are read as if escaped. Strict JSON forbids them.
    public var allowControlCharactersInStrings: Bool = false

    public init(maxDepth: Int = 512, maxBytes: Int = 64 << 20, rejectDuplicateKeys: Bool = true,
                allowControlCharactersInStrings: Bool = false) {
        self.maxDepth = maxDepth
        self.maxBytes = maxBytes
        self.rejectDuplicateKeys = rejectDuplicateKeys
        self.allowControlCharactersInStrings = allowControlCharactersInStrings
    }

    public static let `default` = JSONParseOptions()
}

extension JSONValue {
    /// Parses one JSON document (any value at the top level). Calls `json_loadb`.
    public static func parse(_ text: String, options: JSONParseOptions = .default) throws(JSONError) -> JSONValue {
        var text = text
        // withUTF8 rethrows untyped errors; carry the typed one out in a Result.
        let result = text.withUTF8 { buffer in Result { () throws(JSONError) in try parse(buffer, options: options) } }
        return try result.get()
    }

    /// Parses one JSON document from bytes, which must be UTF-8. Calls `json_loadb`.
    public static func parse(_ bytes: [UInt8], options: JSONParseOptions = .default) throws(JSONError) -> JSONValue {
        try bytes.withUnsafeBufferPointer { buffer throws(JSONError) in try parse(buffer, options: options) }
    }

    /// Parses one JSON document from a buffer of UTF-8 bytes. Calls `json_loadb`.
    public static func parse(_ buffer: UnsafeBufferPointer<UInt8>, options: JSONParseOptions = .default) throws(JSONError) -> JSONValue {
        if buffer.count > options.maxBytes {
            throw JSONError(kind: .tooLarge, message: "document is \(buffer.count) bytes, more than the limit of \(options.maxBytes)",
                            line: 1, column: 1, position: options.maxBytes)
        }
        let needsRewrite = try JSONPrescan.check(buffer, maxDepth: options.maxDepth,
                                                 allowControlCharacters: options.allowControlCharactersInStrings)
        if needsRewrite {
            let rewritten = JSONPrescan.escapeControlCharactersInStrings(buffer)
            return try rewritten.withUnsafeBufferPointer { b throws(JSONError) in try load(b, options: options) }
        }
        return try load(buffer, options: options)
    }

    private static func load(_ buffer: UnsafeBufferPointer<UInt8>, options: JSONParseOptions) throws(JSONError) -> JSONValue {
        var error = json_error_t()
        var flags = Int(JSON_DECODE_ANY)
        if options.rejectDuplicateKeys { flags |= Int(JSON_REJECT_DUPLICATES) }
        let root: UnsafeMutablePointer<json_t>? = buffer.withMemoryRebound(to: CChar.self) { chars in
            // An empty buffer may have a nil base address; jansson wants a valid pointer.
            let empty: [CChar] = [0]
            if let base = chars.baseAddress { return json_loadb(base, chars.count, flags, &error) }
            return empty.withUnsafeBufferPointer { json_loadb($0.baseAddress!, 0, flags, &error) }
        }
        guard let root else { throw JSONError(jansson: error) }
        defer { json_decref(root) }
        return JanssonTree.value(of: root)
    }
}

extension JSONError {
    /// Maps jansson's `json_error_t` (text, line, column, position and `json_error_code`).
    init(jansson error: json_error_t) {
        var error = error
        let text = withUnsafeBytes(of: &error.text) { raw -> String in
            let bytes = raw.bindMemory(to: UInt8.self)
            let end = bytes.firstIndex(of: 0) ?? bytes.count - 1
            return String(decoding: bytes[..<end], as: UTF8.self)
        }
        let kind: Kind
        switch json_error_code(&error) {
        case json_error_invalid_utf8: kind = .invalidUTF8
        case json_error_stack_overflow: kind = .tooDeep
        case json_error_premature_end_of_input: kind = .endOfInput
        case json_error_duplicate_key: kind = .duplicateKey
        case json_error_null_character, json_error_null_byte_in_key: kind = .nullCharacter
        case json_error_numeric_overflow: kind = .numberOutOfRange
        case json_error_invalid_syntax, json_error_end_of_input_expected, json_error_invalid_format: kind = .syntax
        default: kind = .other
        }
        self.init(kind: kind, message: text, line: max(1, Int(error.line)), column: max(1, Int(error.column)),
                  position: max(0, Int(error.position)))
    }
}

/// Converts a jansson tree into `JSONValue`s. The tree is borrowed, never freed here.
enum JanssonTree {
    static func value(of node: UnsafeMutablePointer<json_t>) -> JSONValue {
        switch node.pointee.type {
        case JSON_OBJECT:
            var object = JSONObject()
            var iterator = json_object_iter(node)
            while let current = iterator {
                let key = String(cString: json_object_iter_key(current))
                if let child = json_object_iter_value(current) { object[key] = value(of: child) }
                iterator = json_object_iter_next(node, current)
            }
            return .object(object)
        case JSON_ARRAY:
            let count = json_array_size(node)
            var elements: [JSONValue] = []
            elements.reserveCapacity(count)
            for i in 0..<count {
                if let child = json_array_get(node, i) { elements.append(value(of: child)) }
            }
            return .array(elements)
        case JSON_STRING:
            let length = json_string_length(node)
            guard let chars = json_string_value(node) else { return .string("") }
            return chars.withMemoryRebound(to: UInt8.self, capacity: length) {
                .string(String(decoding: UnsafeBufferPointer(start: $0, count: length), as: UTF8.self))
            }
        case JSON_INTEGER:
            return .int(Int64(json_integer_value(node)))
        case JSON_REAL:
            return .double(json_real_value(node))
        case JSON_TRUE:
            return .bool(true)
        case JSON_FALSE:
            return .bool(false)
        default:
            return .null
        }
    }
}

/// A single pass over the bytes before jansson sees them: enforces the depth limit with an exact
/// line and column, and finds raw control characters inside strings.
enum JSONPrescan {
    /// Returns true when raw control characters inside strings must be escaped before parsing.
    static func check(_ buffer: UnsafeBufferPointer<UInt8>, maxDepth: Int, allowControlCharacters: Bool) throws(JSONError) -> Bool {
        var depth = 0
        var inString = false
        var escaped = false
        var line = 1
        var column = 0
        var sawControl = false
        for (offset, byte) in buffer.enumerated() {
            if byte == UInt8(ascii: "\n") {
                line += 1
                column = 0
            } else if byte & 0xC0 != 0x80 {
                column += 1
            }
            if inString {
                if escaped { escaped = false; continue }
                if byte == UInt8(ascii: "\\") { escaped = true }
                else if byte == UInt8(ascii: "\"") { inString = false }
                else if byte < 0x20 && allowControlCharacters { sawControl = true }
                continue
            }
            switch byte {
            case UInt8(ascii: "\""): inString = true
            case UInt8(ascii: "["), UInt8(ascii: "{"):
                depth += 1
                if depth > maxDepth {
                    throw JSONError(kind: .tooDeep, message: "nesting deeper than \(maxDepth) levels",
                                    line: line, column: max(column, 1), position: offset)
                }
            case UInt8(ascii: "]"), UInt8(ascii: "}"): depth -= 1
            default: break
            }
        }
        return sawControl
    }

    /// Copies the document, replacing raw control characters inside strings by their escapes.
    static func escapeControlCharactersInStrings(_ buffer: UnsafeBufferPointer<UInt8>) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(buffer.count + 16)
        var inString = false
        var escaped = false
        for byte in buffer {
            if inString {
                if escaped { escaped = false; out.append(byte); continue }
                if byte == UInt8(ascii: "\\") { escaped = true }
                else if byte == UInt8(ascii: "\"") { inString = false }
                else if byte < 0x20 { JSONWriter.appendEscaped(controlByte: byte, to: &out); continue }
                out.append(byte)
                continue
            }
            if byte == UInt8(ascii: "\"") { inString = true }
            out.append(byte)
        }
        return out
    }
}
