/// The route of stream tickets.
extension APIRoutes {
    static let accounts: [Route<APIRoute>] = [
        Route("POST", "\(prefix)/events/tickets", APIRoute(
            "issueStreamTicket", "A single-use ticket (valid 60 s) that opens one event stream as ?ticket=, for EventSource clients that cannot send headers.",
            tag: "events", status: 201, request: "StreamTicketRequest", requestRequired: false, response: "StreamTicket",
            errors: [400, 401, 404, 413, 415, 422]) { app, ctx in try app.issueStreamTicket(ctx) }),
    ]
}
