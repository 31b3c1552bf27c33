import Foundation
import JSON
import Store

/// One request on its way through a route handler: the request, the path parameters the router
/// bound, and the authenticated user (for every route but login, health and the OpenAPI document).
public struct RequestContext: Sendable {
    public let request: HTTPRequest
    public let parameters: [String: String]
    public let user: UserRecord?
    /// The verified token's claims, on authenticated routes.
    public let claims: TokenClaims?

    public init(request: HTTPRequest, parameters: [String: String], user: UserRecord?, claims: TokenClaims? = nil) {
        self.request = request
        self.parameters = parameters
        self.user = user
        self.claims = claims
    }

    /// The caller's user id: the account's, or the token's on routes that check the account themselves.
    public var userID: UUID {
        guard let id = user?.id ?? claims?.subject else { preconditionFailure("an authenticated route ran without a user") }
        return id
    }

    /// The authenticated user; the router only runs an authenticated route with one.
    public var currentUser: UserRecord {
        guard let user else { preconditionFailure("an authenticated route ran without a user") }
        return user
    }

    /// The path parameter `name` as a UUID. A malformed id cannot name anything, so it is a 404 for
    /// `resource` like any id that is not the caller's.
    public func id(_ name: String = "id", of resource: String) throws(Problem) -> UUID {
        guard let text = parameters[name], let id = UUID(uuidString: text) else { throw .notFound(resource) }
        return id
    }

    /// The path parameter `name` as a number from 1 to 2^31 − 1, what the integer columns of task
    /// numbers hold (404 for `resource` otherwise).
    public func number(_ name: String, of resource: String) throws(Problem) -> Int {
        guard let text = parameters[name], let value = Int(text), BodyLimits.number.contains(value) else { throw .notFound(resource) }
        return value
    }

    /// The value of `parameter`, or nil when absent. A parameter given twice is a 400: which of the
    /// two was meant cannot be told.
    public func query(_ parameter: QueryParameter) throws(Problem) -> String? {
        let values = request.query.filter { $0.name == parameter.name }
        if values.count > 1 {
            throw .invalidParameter(parameter.name, "\(parameter.name) is given \(values.count) times; give it once")
        }
        return values.first?.value
    }

    /// An `.integer` parameter, or nil when absent.
    public func queryInt(_ parameter: QueryParameter) throws(Problem) -> Int? {
        guard case .integer(let range) = parameter.kind else { preconditionFailure("\(parameter.name) is not an integer parameter") }
        guard let text = try query(parameter) else { return nil }
        guard let value = Int64(text), range.contains(value), let whole = Int(exactly: value) else {
            throw .invalidParameter(parameter.name,
                                    "\(parameter.name) must be a whole number from \(range.lowerBound) to \(range.upperBound)")
        }
        return whole
    }

    /// A `.word` parameter, or nil when absent.
    public func queryWord(_ parameter: QueryParameter) throws(Problem) -> String? {
        guard case .word(let words) = parameter.kind else { preconditionFailure("\(parameter.name) is not a word parameter") }
        guard let value = try query(parameter) else { return nil }
        guard words.contains(value) else {
            throw .invalidParameter(parameter.name, "\(parameter.name) must be one of: \(words.joined(separator: ", "))")
        }
        return value
    }

    /// A `.uuid` parameter, or nil when absent.
    public func queryUUID(_ parameter: QueryParameter) throws(Problem) -> UUID? {
        guard let text = try query(parameter) else { return nil }
        guard let id = UUID(uuidString: text) else {
            throw .invalidParameter(parameter.name, "\(parameter.name) must be a UUID such as 3fa85f64-5717-4562-b3fc-2c963f66afa6")
        }
        return id
    }

    /// A `.time` parameter (RFC 3339), or nil when absent. Times before year 1 or after 9999 are
    /// read as the first or last instant PostgreSQL is given (the same set of rows either way).
    public func queryTime(_ parameter: QueryParameter) throws(Problem) -> Date? {
        guard let text = try query(parameter) else { return nil }
        guard let date = RFC3339.date(text) else {
            throw .invalidParameter(parameter.name, "\(parameter.name) must be an RFC 3339 time such as 2026-01-31T00:00:00Z")
        }
        return min(max(date, RFC3339.postgresRange.lowerBound), RFC3339.postgresRange.upperBound)
    }

    /// The body as a JSON object; an empty body is an empty object. Malformed JSON is a 400 with the
    /// line and column; a body that is JSON but not an object is a 422.
    public func body() throws(Problem) -> JSONObject {
        if request.body.isEmpty { return [:] }
        if let type = request.header("content-type"), request.mediaType != "application/json" {
            throw .unsupportedMediaType(type)
        }
        let value: JSONValue
        do {
            value = try JSONValue.parse(request.body, options: JSONParseOptions(maxDepth: 64, maxBytes: request.body.count))
        } catch {
            throw .malformedJSON(error)
        }
        guard case .object(let object) = value else {
            throw .validationFailed([(field: "(body)", message: "must be a JSON object, not \(value.typeName == "array" ? "an" : "a") \(value.typeName)")])
        }
        return object
    }

    /// `?limit=` (default `defaultLimit`, at most 200) and `?cursor=` (from a previous page's
    /// `next_cursor` of the list whose sort key is `key`). A cursor that is not one this list
    /// wrote — not base64url JSON, another shape, a value of the wrong type or out of range — is a
    /// 400 naming `cursor`; nothing of it reaches a statement.
    public func page(_ key: [PageKeyKind], defaultLimit: Int = 50) throws(Problem) -> PageRequest {
        let limit = try queryInt(.limit) ?? defaultLimit
        guard let cursor = try query(.cursor), !cursor.isEmpty else { return PageRequest(limit: limit) }
        guard let values = PageCursor.decode(cursor) else {
            throw .invalidParameter("cursor", "cursor is not one this list returned (not a next_cursor value); start again without it")
        }
        do {
            return try PageRequest(limit: limit, after: values, key: key)
        } catch {
            throw .invalidParameter("cursor", "cursor is not one this list returned (its \(error.message)); start again without it")
        }
    }
}

/// The opaque `next_cursor` of a list: its sort key as a base64url JSON array of strings.
public enum PageCursor {
    public static func encode(_ keys: [String]) -> String {
        Base64URL.encode(JSONValue(keys).jsonText)
    }

    public static func decode(_ cursor: String) -> [String]? {
        guard cursor.utf8.count <= QueryParameter.maxCursorLength, let bytes = Base64URL.decode(cursor),
              let value = try? JSONValue.parse(bytes), let array = value.arrayValue else { return nil }
        let keys = array.compactMap(\.stringValue)
        return keys.count == array.count ? keys : nil
    }
}

extension HTTPResponse {
    /// A list page: `{"items": [...], "next_cursor": "..." | null}`.
    public static func page(_ page: Page) -> HTTPResponse {
        .json(.object(["items": .array(page.items), "next_cursor": JSONValue(page.nextKey.map(PageCursor.encode))]))
    }
}
