/// What serves one route, and what the OpenAPI document says about it. The document is generated
/// from these entries, so it cannot drift from what the server does.
public struct APIRoute: Sendable {
    public typealias Run = @Sendable (APIApplication, RequestContext) throws -> HTTPResponse

    public var operationID: String
    public var summary: String
    public var tag: String
    /// False only for login, health and the OpenAPI document.
    public var requiresAuth: Bool
    /// The handler checks the account behind the token in its own query (one round trip fewer on
    /// the hottest read); the router then only verifies the token, and `RequestContext.user` is nil.
    public var checksAccountItself: Bool
    public var successStatus: Int
    /// Name of the request body's schema in the document's components, if the route takes a body.
    public var requestSchema: String?
    public var requestBodyRequired: Bool
    /// Name of the success response's schema, if it is JSON.
    public var responseSchema: String?
    public var responseContentType: String
    /// Query parameters the route reads, with the values they take.
    public var queryParameters: [QueryParameter]
    /// Error statuses the route can answer with (besides 500/503, which any route can).
    public var errorStatuses: [Int]
    /// Nil for the event streams, which the SSE relay serves (nginx sends their paths there).
    public let run: Run?

    public init(_ operationID: String, _ summary: String, tag: String, auth: Bool = true, checksAccountItself: Bool = false,
                status: Int = 200,
                request: String? = nil, requestRequired: Bool = true, response: String?,
                contentType: String = "application/json", query: [QueryParameter] = [], errors: [Int] = [],
                run: Run?) {
        self.operationID = operationID
        self.summary = summary
        self.tag = tag
        self.requiresAuth = auth
        self.checksAccountItself = checksAccountItself
        self.successStatus = status
        self.requestSchema = request
        self.requestBodyRequired = requestRequired
        self.responseSchema = response
        self.responseContentType = contentType
        self.queryParameters = query
        self.errorStatuses = errors
        self.run = run
    }
}
