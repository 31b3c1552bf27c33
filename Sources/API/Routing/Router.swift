/// One piece of a route's path template: a fixed word or a `{parameter}`.
public enum PathSegment: Sendable, Equatable {
    case literal(String)
    case parameter(String)
}

/// A method and a path template (`/api/v1/masterplans/{id}/approve`) with what serves it.
public struct Route<Handler: Sendable>: Sendable {
    public let method: String
    public let template: String
    public let segments: [PathSegment]
    public let handler: Handler

    public init(_ method: String, _ template: String, _ handler: Handler) {
        self.method = method.uppercased()
        self.template = template
        self.segments = Self.parse(template)
        self.handler = handler
    }

    /// `/a/{b}/c` → literal a, parameter b, literal c.
    static func parse(_ template: String) -> [PathSegment] {
        template.split(separator: "/", omittingEmptySubsequences: true).map { piece in
            if piece.hasPrefix("{") && piece.hasSuffix("}") { return .parameter(String(piece.dropFirst().dropLast())) }
            return .literal(String(piece))
        }
    }

    /// The parameter values when `pieces` fits this template, else nil.
    func bind(_ pieces: [Substring]) -> [String: String]? {
        guard pieces.count == segments.count else { return nil }
        var values: [String: String] = [:]
        for (segment, piece) in zip(segments, pieces) {
            switch segment {
            case .literal(let word):
                guard piece == word else { return nil }
            case .parameter(let name):
                guard !piece.isEmpty else { return nil }
                values[name] = String(piece)
            }
        }
        return values
    }

    /// How many segments are fixed words: among templates that fit, the most specific wins.
    var literalCount: Int {
        segments.reduce(0) { count, segment in
            if case .literal = segment { return count + 1 }
            return count
        }
    }
}

/// What the router found for a request.
public enum RouteMatch<Handler: Sendable>: Sendable {
    case matched(Route<Handler>, parameters: [String: String])
    /// The path exists with other methods (for `405` and its `Allow` header).
    case methodNotAllowed(allowed: [String])
    case notFound
}

/// Finds the route for a method and path. Templates are matched segment by segment; when several
/// fit (`/reviews/{id}` and `/reviews/pending`), the one with more fixed segments wins. `HEAD` is
/// served by the `GET` route. A trailing slash is ignored.
public struct Router<Handler: Sendable>: Sendable {
    public let routes: [Route<Handler>]

    public init(_ routes: [Route<Handler>]) {
        // Most specific first, so the first fit is the best one.
        self.routes = routes.enumerated().sorted { a, b in
            a.element.literalCount != b.element.literalCount ? a.element.literalCount > b.element.literalCount : a.offset < b.offset
        }.map(\.element)
    }

    public func match(method: String, path: String) -> RouteMatch<Handler> {
        let pieces = path.utf8.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false).dropFirst().map { Substring($0) }
        // "/a/b/" has a trailing empty piece; "//" anywhere else is not a route.
        let trimmed = pieces.last == "" ? Array(pieces.dropLast()) : Array(pieces)
        let wanted = method.uppercased() == "HEAD" ? "GET" : method.uppercased()
        var allowed: [String] = []
        for route in routes {
            guard let parameters = route.bind(trimmed) else { continue }
            if route.method == wanted { return .matched(route, parameters: parameters) }
            if !allowed.contains(route.method) { allowed.append(route.method) }
        }
        if allowed.isEmpty { return .notFound }
        if allowed.contains("GET") && !allowed.contains("HEAD") { allowed.append("HEAD") }
        return .methodNotAllowed(allowed: allowed)
    }
}
