import JSON

/// An HTTP error as `application/problem+json` (RFC 9457): a stable `type` per kind of error, a
/// one-sentence `title`, the status, and a `detail` that says what to do.
public struct Problem: Error, Sendable, Equatable {
    public var status: Int
    /// A stable identifier, e.g. "https://masterplan.dev/problems/illegal-transition"; clients switch on it.
    public var type: String
    public var title: String
    public var detail: String?
    /// Extra members, e.g. `allowed_actions` for an illegal state change or `line`/`column` for bad JSON.
    public var extra: JSONObject
    /// Response headers that belong to this error (`WWW-Authenticate` on 401, `Allow` on 405).
    public var headers: [String: String]

    public init(status: Int, type: String, title: String, detail: String? = nil, extra: JSONObject = [:],
                headers: [String: String] = [:]) {
        self.status = status
        self.type = type
        self.title = title
        self.detail = detail
        self.extra = extra
        self.headers = headers
    }

    /// The problem+json body.
    public var json: JSONValue {
        var object: JSONObject = ["type": .string(Self.typeBase + type), "title": .string(title), "status": .int(Int64(status))]
        if let detail { object["detail"] = .string(detail) }
        for (key, value) in extra { object[key] = value }
        return .object(object)
    }

    /// Problem types are URIs under this base; the part after it is the stable short name.
    public static let typeBase = "https://masterplan.dev/problems/"
}
