import Foundation

/// One HTTP request as the API handles it, independent of how it arrived (FastCGI in production,
/// built directly in unit tests).
public struct HTTPRequest: Sendable, Equatable {
    /// `GET`, `POST`, … (upper case).
    public var method: String
    /// The path without the query, as nginx decoded it (`DOCUMENT_URI`).
    public var path: String
    /// Query parameters, percent-decoded, in order (repeats kept).
    public var query: [(name: String, value: String)]
    /// Request headers by lower-case name.
    public var headers: [String: String]
    public var body: [UInt8]
    /// The client's address as nginx saw it.
    public var remoteAddress: String

    public init(method: String, path: String, query: [(name: String, value: String)] = [], headers: [String: String] = [:],
                body: [UInt8] = [], remoteAddress: String = "127.0.0.1") {
        self.method = method.uppercased()
        self.path = path
        self.query = query
        var lowered: [String: String] = [:]
        for (name, value) in headers { lowered[name.lowercased()] = value }
        self.headers = lowered
        self.body = body
        self.remoteAddress = remoteAddress
    }

    /// The first value of the query parameter `name`.
    public func queryValue(_ name: String) -> String? {
        query.first { $0.name == name }?.value
    }

    /// The header `name` (any case).
    public func header(_ name: String) -> String? { headers[name.lowercased()] }

    /// The body's media type: `Content-Type` without its parameters, in lower case (nil without one).
    public var mediaType: String? {
        header("content-type").map { type in
            (type.split(separator: ";", maxSplits: 1).first.map(String.init) ?? "").trimmingCharacters(in: .whitespaces).lowercased()
        }
    }

    public static func == (lhs: HTTPRequest, rhs: HTTPRequest) -> Bool {
        lhs.method == rhs.method && lhs.path == rhs.path && lhs.query.elementsEqual(rhs.query, by: { $0 == $1 })
            && lhs.headers == rhs.headers && lhs.body == rhs.body && lhs.remoteAddress == rhs.remoteAddress
    }
}
