/// The routes of stream tickets and of account management (the README's role table says who may
/// call each).
extension APIRoutes {
    static let accounts: [Route<APIRoute>] = [
        Route("POST", "\(prefix)/events/tickets", APIRoute(
            "issueStreamTicket", "A single-use ticket (valid 60 s) that opens one event stream as ?ticket=, for EventSource clients that cannot send headers.",
            tag: "events", status: 201, request: "StreamTicketRequest", requestRequired: false, response: "StreamTicket",
            errors: [400, 401, 404, 413, 415, 422]) { app, ctx in try app.issueStreamTicket(ctx) }),
        Route("GET", "\(prefix)/users", APIRoute(
            "listUsers", "Every account, oldest first (admins only).", tag: "users", response: "UserPage",
            query: [.limit, .cursor], errors: [400, 401, 403]) { app, ctx in try app.listUsers(ctx) }),
        Route("POST", "\(prefix)/users", APIRoute(
            "createUser", "Add an account with a password (admins only).", tag: "users", status: 201, request: "UserCreate",
            response: "User", errors: [400, 401, 403, 409, 413, 415, 422]) { app, ctx in try app.createUser(ctx) }),
        Route("GET", "\(prefix)/users/{id}", APIRoute(
            "getUser", "One account (admins only).", tag: "users", response: "User",
            errors: [401, 403, 404]) { app, ctx in try app.getUser(ctx) }),
        Route("POST", "\(prefix)/users/{id}/disable", APIRoute(
            "disableUser", "Disable an account: it cannot log in, and its tokens and open event streams end (admins only; not your own).",
            tag: "users", response: "User", errors: [401, 403, 404, 409]) { app, ctx in try app.disableUser(ctx) }),
        Route("POST", "\(prefix)/users/{id}/enable", APIRoute(
            "enableUser", "Enable a disabled account: it may log in again (admins only).", tag: "users", response: "User",
            errors: [401, 403, 404]) { app, ctx in try app.enableUser(ctx) }),
        Route("POST", "\(prefix)/users/{id}/password", APIRoute(
            "resetUserPassword", "Set an account's password: its tokens and open event streams end (admins only).",
            tag: "users", request: "PasswordReset", response: "User",
            errors: [400, 401, 403, 404, 413, 415, 422]) { app, ctx in try app.resetUserPassword(ctx) }),
    ]
}
