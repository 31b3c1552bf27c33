import JSON

/// The OpenAPI 3.1 document served at `GET /api/v1/openapi.json`, generated from `APIRoutes.all`
/// (paths, methods, parameters, statuses) and the schemas below (the shapes the SQL builds).
public enum OpenAPIDocument {
    public static let document: JSONValue = build()

    /// The schema of a query parameter: the values `RequestContext` accepts for it.
    static func schema(of parameter: QueryParameter) -> JSONValue {
        switch parameter.kind {
        case .integer(let range): .object(["type": "integer", "minimum": .int(range.lowerBound), "maximum": .int(range.upperBound)])
        case .word(let words): enumeration(words)
        case .uuid: uuid
        case .time: time
        case .cursor: .object(["type": "string", "pattern": "^[A-Za-z0-9_-]*$", "maxLength": .int(Int64(QueryParameter.maxCursorLength))])
        case .token: .object(["type": "string", "maxLength": .int(Int64(QueryParameter.maxTicketLength))])
        }
    }

    static func parameter(_ parameter: QueryParameter) -> JSONValue {
        .object(["name": .string(parameter.name), "in": "query", "required": false, "description": .string(parameter.description),
                 "schema": schema(of: parameter)])
    }

    /// A path parameter: `{number}` is a task number, every other one an id.
    static func pathSchema(_ name: String) -> JSONValue {
        name == "number"
            ? .object(["type": "integer", "minimum": .int(Int64(BodyLimits.number.lowerBound)), "maximum": .int(Int64(BodyLimits.number.upperBound))])
            : uuid
    }

    /// Every status an operation can answer besides its success: the route's own (409, 429, …) and
    /// those that follow from its shape — 401 with a token, 404 with a path id (or an unknown path),
    /// 400 with query parameters, 400, 413, 415 and 422 with a body.
    static func errorStatuses(_ route: Route<APIRoute>) -> [Int] {
        let spec = route.handler
        var statuses = Set(spec.errorStatuses)
        if spec.requiresAuth { statuses.insert(401) }
        if route.segments.contains(where: { if case .parameter = $0 { true } else { false } }) { statuses.insert(404) }
        if !spec.queryParameters.isEmpty { statuses.insert(400) }
        if spec.requestSchema != nil { statuses.formUnion([400, 413, 415, 422]) }
        return statuses.sorted()
    }

    static func build() -> JSONValue {
        var paths = JSONObject()
        for route in APIRoutes.all {
            var item = paths[route.template]?.objectValue ?? JSONObject()
            item[route.method.lowercased()] = operation(route)
            paths[route.template] = .object(item)
        }
        return .object([
            "openapi": "3.1.0",
            "info": .object([
                "title": "MasterPlan API",
                "version": "1.0.0",
                "description": .string("Plans from plain-language requests, reviewed by people, executed in validated waves. "
                    + "Errors are application/problem+json (RFC 9457) with a stable type under \(Problem.typeBase). "
                    + "Lists are paginated with an opaque cursor. Event streams are text/event-stream (SSE)."),
            ]),
            "servers": [["url": "/"]],
            "tags": .array(["auth", "chat", "plans", "execution", "reviews", "events", "usage", "users", "health", "meta"].map { ["name": .string($0)] }),
            "paths": .object(paths),
            "components": .object([
                "securitySchemes": ["bearerAuth": ["type": "http", "scheme": "bearer", "bearerFormat": "JWT"]],
                "schemas": .object(schemas),
            ]),
        ])
    }

    static func operation(_ route: Route<APIRoute>) -> JSONValue {
        let spec = route.handler
        var parameters: [JSONValue] = []
        for segment in route.segments {
            guard case .parameter(let name) = segment else { continue }
            parameters.append(.object(["name": .string(name), "in": "path", "required": true, "schema": pathSchema(name)]))
        }
        parameters += spec.queryParameters.map(parameter)
        if spec.responseContentType == "text/event-stream" {
            parameters.append(.object(["name": "Last-Event-ID", "in": "header", "required": false,
                                       "description": "Replay the events after this id, then continue live.",
                                       "schema": schema(of: .lastEventID)]))
        }

        var responses = JSONObject()
        var success: JSONObject = ["description": .string(successDescription(spec))]
        if let schema = spec.responseSchema {
            success["content"] = .object([spec.responseContentType: ["schema": ref(schema)]])
        } else if spec.responseContentType == "application/gzip" {
            success["content"] = ["application/gzip": ["schema": ["type": "string", "contentMediaType": "application/gzip"]]]
        } else if spec.responseContentType == "text/event-stream" {
            success["content"] = ["text/event-stream": ["schema": [
                "type": "string",
                "description": "SSE: 'retry:' first, then per event 'id: N', 'event: TYPE', 'data: <Event JSON>'; a ': heartbeat' comment every 15 s.",
            ]]]
        } else if spec.responseContentType.hasPrefix("text/plain") {
            success["content"] = .object([spec.responseContentType: ["schema": [
                "type": "string",
                "description": "Prometheus text exposition format 0.0.4: '# HELP' and '# TYPE' lines, then 'name{label=\"value\"} number' samples.",
            ]]])
        } else {
            success["content"] = ["application/json": ["schema": ["type": "object"]]]
        }
        responses[String(spec.successStatus)] = .object(success)
        for status in errorStatuses(route) + [500, 503] where responses[String(status)] == nil {
            responses[String(status)] = .object([
                "description": .string(errorDescription(status)),
                "content": ["application/problem+json": ["schema": ref("Problem")]],
            ])
        }

        var operation: JSONObject = [
            "operationId": .string(spec.operationID),
            "summary": .string(spec.summary),
            "tags": [.string(spec.tag)],
            "responses": .object(responses),
        ]
        operation["security"] = spec.requiresAuth ? [["bearerAuth": []]] : []
        if !parameters.isEmpty { operation["parameters"] = .array(parameters) }
        if let schema = spec.requestSchema {
            operation["requestBody"] = .object([
                "required": .bool(spec.requestBodyRequired),
                "content": ["application/json": ["schema": ref(schema)]],
            ])
        }
        return .object(operation)
    }

    static func successDescription(_ spec: APIRoute) -> String {
        switch spec.successStatus {
        case 201: "Created."
        case 202: "Accepted: a job for the executor was queued."
        default: "OK."
        }
    }

    static func errorDescription(_ status: Int) -> String {
        switch status {
        case 400: "Malformed JSON (with line and column) or an invalid parameter."
        case 401: "Missing, forged, expired or otherwise invalid token; or wrong credentials on login."
        case 403: "Your role does not allow this (admins only)."
        case 404: "No such resource among yours."
        case 405: "Method not allowed on this path."
        case 409: "Not possible in the current state (with the reason and the allowed actions)."
        case 413: "Request body larger than 1 MiB."
        case 415: "Request body is not application/json."
        case 422: "Invalid fields (every one listed)."
        case 429: "Too many login attempts (nginx's or the API's limit): wait the seconds in Retry-After."
        case 503: "Database unreachable, or not ready."
        default: "Internal error."
        }
    }

    // MARK: - Schema helpers

    static let string: JSONValue = ["type": "string"]
    static let integer: JSONValue = ["type": "integer"]
    static let number: JSONValue = ["type": "number"]
    static let boolean: JSONValue = ["type": "boolean"]
    static let uuid: JSONValue = ["type": "string", "format": "uuid"]
    static let time: JSONValue = ["type": "string", "format": "date-time"]
    static let anyObject: JSONValue = ["type": "object"]

    static func ref(_ name: String) -> JSONValue { .object(["$ref": .string("#/components/schemas/\(name)")]) }

    static func nullable(_ schema: JSONValue) -> JSONValue {
        guard case .object(var object) = schema else { return schema }
        if let type = object["type"]?.stringValue {
            object["type"] = [.string(type), "null"]
            if case .array(let words)? = object["enum"] { object["enum"] = .array(words + [.null]) }
            return .object(object)
        }
        return .object(["oneOf": [schema, ["type": "null"]]])
    }

    static func array(_ items: JSONValue) -> JSONValue { .object(["type": "array", "items": items]) }

    static func enumeration(_ words: [String]) -> JSONValue { .object(["type": "string", "enum": JSONValue(words)]) }

    static func object(_ properties: KeyValuePairs<String, JSONValue>, required: [String] = [], open: Bool = true) -> JSONValue {
        var schema: JSONObject = ["type": "object", "properties": .object(JSONObject(properties.map { ($0.key, $0.value) }))]
        if !required.isEmpty { schema["required"] = JSONValue(required) }
        if !open { schema["additionalProperties"] = false }
        return .object(schema)
    }

    static func page(of item: String) -> JSONValue {
        object(["items": array(ref(item)), "next_cursor": nullable(string)], required: ["items", "next_cursor"])
    }

    static func list(of item: String) -> JSONValue {
        object(["items": array(ref(item))], required: ["items"])
    }
}
