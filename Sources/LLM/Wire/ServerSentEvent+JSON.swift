import JSON

extension ServerSentEvent {
    /// Options for event data: grammar-constrained output may put raw control characters in strings (measured against llama-cpp-python's server).
    static let jsonOptions = JSONParseOptions(allowControlCharactersInStrings: true)

    /// Parses (part of) an event's data as one JSON document, straight from the bytes.
    ///
    /// Data that is not all ASCII goes through a String first, so bytes that are not UTF-8 become
    /// U+FFFD as they did when the data was text, instead of failing the parse.
    static func parseJSON(_ data: ArraySlice<UInt8>) throws(JSONError) -> JSONValue {
        guard data.allSatisfy({ $0 < 0x80 }) else {
            return try JSONValue.parse(String(decoding: data, as: UTF8.self), options: jsonOptions)
        }
        return try data.withUnsafeBufferPointer { buffer throws(JSONError) in try JSONValue.parse(buffer, options: jsonOptions) }
    }
}
