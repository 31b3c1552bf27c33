import JSON

/// One HTTP response: status, headers and the whole body.
public struct HTTPResponse: Sendable {
    public var status: Int
    public var headers: [(name: String, value: String)]
    public var body: [UInt8]

    public init(status: Int, headers: [(name: String, value: String)] = [], body: [UInt8] = []) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// The value of header `name` (any case), if set.
    public func header(_ name: String) -> String? {
        headers.first { $0.name.lowercased() == name.lowercased() }?.value
    }

    public static let jsonContentType = "application/json"
    public static let problemContentType = "application/problem+json"

    /// A JSON body. A value that has no JSON form (NaN) becomes a 500 problem rather than a crash.
    public static func json(_ value: JSONValue, status: Int = 200, headers: [(name: String, value: String)] = []) -> HTTPResponse {
        guard let bytes = try? value.serializedBytes() else { return problem(.internalError()) }
        return HTTPResponse(status: status, headers: [("Content-Type", jsonContentType), ("Cache-Control", "no-store")] + headers,
                            body: bytes)
    }

    /// JSON text that is already serialised (built by PostgreSQL).
    public static func jsonText(_ text: String, status: Int = 200) -> HTTPResponse {
        HTTPResponse(status: status, headers: [("Content-Type", jsonContentType), ("Cache-Control", "no-store")],
                     body: Array(text.utf8))
    }

    /// An `application/problem+json` error with the problem's own headers.
    public static func problem(_ problem: Problem) -> HTTPResponse {
        let bytes = (try? problem.json.serializedBytes()) ?? Array(#"{"title":"error"}"#.utf8)
        var headers: [(name: String, value: String)] = [("Content-Type", problemContentType), ("Cache-Control", "no-store")]
        for (name, value) in problem.headers.sorted(by: { $0.key < $1.key }) { headers.append((name, value)) }
        return HTTPResponse(status: problem.status, headers: headers, body: bytes)
    }
}
