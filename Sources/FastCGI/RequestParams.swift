/// The FastCGI parameters of one request (the CGI environment nginx sends), with the parts a
/// handler needs decoded: method, path, query items, headers, content type and length, client address.
///
/// A plain value: `Request.accept()` takes one snapshot, so it stays valid after `finish()` and can
/// be handed to other threads. Names are as nginx's `fastcgi_params` sets them.
public struct RequestParams: Sendable, Equatable {
    /// Every parameter, by name (`REQUEST_METHOD`, `QUERY_STRING`, `HTTP_ACCEPT`, …). Bytes that are
    /// not UTF-8 are replaced with U+FFFD.
    public let all: [String: String]
    /// `QUERY_STRING` split at `&` into percent-decoded name/value pairs, in order, repeats kept.
    public let query: [QueryItem]
    /// HTTP request headers from the `HTTP_*` parameters plus `CONTENT_TYPE` and `CONTENT_LENGTH`,
    /// keyed by lower-case name with dashes (`HTTP_LAST_EVENT_ID` → `last-event-id`).
    public let headers: [String: String]

    public init(_ all: [String: String]) {
        self.all = all
        query = Self.parseQuery(all["QUERY_STRING"] ?? "")
        var headers: [String: String] = [:]
        for (name, value) in all {
            if name.hasPrefix("HTTP_") {
                headers[Self.headerName(fromParam: name.dropFirst(5))] = value
            } else if (name == "CONTENT_TYPE" || name == "CONTENT_LENGTH") && !value.isEmpty {
                headers[Self.headerName(fromParam: Substring(name))] = value
            }
        }
        self.headers = headers
    }

    /// The parameter named `name`, if the web server sent it.
    public subscript(_ name: String) -> String? { all[name] }

    /// `REQUEST_METHOD` (`GET`, `POST`, …), empty when missing.
    public var method: String { all["REQUEST_METHOD"] ?? "" }

    /// The request path without the query: `DOCUMENT_URI` (nginx has already percent-decoded and
    /// normalised it). Without `DOCUMENT_URI`, the part of `REQUEST_URI` before `?`.
    public var path: String {
        if let uri = all["DOCUMENT_URI"], !uri.isEmpty { return uri }
        let requestURI = all["REQUEST_URI"] ?? ""
        return String(requestURI.prefix { $0 != "?" })
    }

    /// The raw `QUERY_STRING`, empty when missing.
    public var queryString: String { all["QUERY_STRING"] ?? "" }

    /// The first query value for `name`, if any.
    public func queryValue(_ name: String) -> String? {
        query.first { $0.name == name }?.value
    }

    /// Every query value for `name`, in order.
    public func queryValues(_ name: String) -> [String] {
        query.filter { $0.name == name }.map(\.value)
    }

    /// The request header `name`, matched without regard to case and with `_` equal to `-`.
    public func header(_ name: String) -> String? {
        headers[Self.headerName(fromParam: Substring(name))]
    }

    /// `CONTENT_TYPE`, or nil when missing or empty.
    public var contentType: String? {
        guard let value = all["CONTENT_TYPE"], !value.isEmpty else { return nil }
        return value
    }

    /// `CONTENT_LENGTH` as a number; nil when missing, empty or not a non-negative integer.
    public var contentLength: Int? { try? declaredContentLength() }

    /// `REMOTE_ADDR`: the client's address as nginx saw it.
    public var remoteAddress: String? { all["REMOTE_ADDR"] }

    /// `CONTENT_LENGTH`: nil when missing or empty; an error when present but malformed.
    func declaredContentLength() throws(FastCGIError) -> Int? {
        guard let text = all["CONTENT_LENGTH"], !text.isEmpty else { return nil }
        guard text.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }), let value = Int(text) else {
            throw .invalidContentLength(text)
        }
        return value
    }

    // MARK: - Decoding

    /// Splits a query string at `&` into percent-decoded items (`+` is a space; a name without `=`
    /// has an empty value; empty pieces are skipped; a `%` not followed by two hex digits stays as is).
    public static func parseQuery(_ queryString: String) -> [QueryItem] {
        queryString.split(separator: "&", omittingEmptySubsequences: true).map { piece in
            if let equals = piece.firstIndex(of: "=") {
                return QueryItem(name: percentDecode(piece[..<equals], plusIsSpace: true),
                                 value: percentDecode(piece[piece.index(after: equals)...], plusIsSpace: true))
            }
            return QueryItem(name: percentDecode(piece, plusIsSpace: true), value: "")
        }
    }

    /// Decodes `%XX` escapes (and, in query strings, `+` as a space). Decoded bytes that are not
    /// UTF-8 become U+FFFD.
    public static func percentDecode(_ text: Substring, plusIsSpace: Bool) -> String {
        let source = Array(text.utf8)
        var bytes: [UInt8] = []
        bytes.reserveCapacity(source.count)
        var index = 0
        while index < source.count {
            let byte = source[index]
            if byte == UInt8(ascii: "%"), index + 2 < source.count,
               let high = hexValue(source[index + 1]), let low = hexValue(source[index + 2]) {
                bytes.append(high << 4 | low)
                index += 3
            } else {
                bytes.append(plusIsSpace && byte == UInt8(ascii: "+") ? UInt8(ascii: " ") : byte)
                index += 1
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return byte - UInt8(ascii: "A") + 10
        default: return nil
        }
    }

    /// `LAST_EVENT_ID` or `Last-Event-ID` → `last-event-id`.
    static func headerName(fromParam name: Substring) -> String {
        String(name.lowercased().map { $0 == "_" ? "-" : $0 })
    }
}
