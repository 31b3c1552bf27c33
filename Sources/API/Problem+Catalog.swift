import Foundation
import JSON
import PlanCore

/// Every kind of error the API answers with, one stable `type` each (the OpenAPI document lists them).
extension Problem {
    /// No credentials: the route needs a bearer token.
    public static func unauthorized() -> Problem {
        Problem(status: 401, type: "unauthorized", title: "Authentication is required.",
                detail: "Send the token from POST /api/v1/auth/login as 'Authorization: Bearer TOKEN'.",
                headers: ["WWW-Authenticate": "Bearer realm=\"masterplan\""])
    }

    /// A token was sent but cannot be accepted (forged, expired, wrong algorithm, malformed, user gone).
    public static func invalidToken(_ reason: String) -> Problem {
        Problem(status: 401, type: "invalid-token", title: "The access token is not valid.",
                detail: "\(reason); log in again with POST /api/v1/auth/login.",
                headers: ["WWW-Authenticate": "Bearer realm=\"masterplan\", error=\"invalid_token\""])
    }

    /// Wrong email or password (the same answer for both, so accounts cannot be discovered).
    public static func invalidCredentials() -> Problem {
        Problem(status: 401, type: "invalid-credentials", title: "The email or password is wrong.",
                detail: "Check both and try again; an operator can reset a password with 'masterplan user passwd'.",
                headers: ["WWW-Authenticate": "Bearer realm=\"masterplan\""])
    }

    /// Too many failed logins for this account or from this address: refused before the password is
    /// checked (the same answer whether or not the account exists).
    public static func tooManyLoginAttempts(retryAfterSeconds: Int) -> Problem {
        Problem(status: 429, type: "too-many-login-attempts", title: "Too many failed logins.",
                detail: "Logins for this account or from this address failed too often; try again in \(retryAfterSeconds) s "
                    + "(each further failure doubles the wait).",
                extra: ["retry_after_seconds": .int(Int64(retryAfterSeconds))],
                headers: ["Retry-After": String(retryAfterSeconds)])
    }

    /// A stream ticket that cannot open this stream: unknown, already used, expired, for another
    /// stream, or its account changed since it was issued.
    public static func invalidTicket(_ reason: String) -> Problem {
        Problem(status: 401, type: "invalid-ticket", title: "The stream ticket is not valid.",
                detail: "\(reason); a ticket opens one stream within \(StreamTicket.lifetimeSeconds) s of being issued: "
                    + "get a new one with POST /api/v1/events/tickets.",
                headers: ["WWW-Authenticate": "Bearer realm=\"masterplan\", error=\"invalid_token\""])
    }

    /// An access token in a stream's URL, where web servers and proxies log it.
    public static func tokenInURL() -> Problem {
        Problem(status: 401, type: "token-in-url", title: "Access tokens are not accepted in URLs.",
                detail: "Send the token as 'Authorization: Bearer TOKEN', or open the stream with a single-use ticket "
                    + "from POST /api/v1/events/tickets as ?ticket=TICKET; ?access_token= is refused.",
                headers: ["WWW-Authenticate": "Bearer realm=\"masterplan\""])
    }

    /// The caller is authenticated but their role does not allow the route.
    public static func forbidden(_ what: String) -> Problem {
        Problem(status: 403, type: "forbidden", title: "Your role does not allow this.",
                detail: "Only administrators may \(what); see the role table in the README's API section.")
    }

    /// An administrator asked to disable their own account, which would lock them out.
    public static func cannotDisableSelf() -> Problem {
        Problem(status: 409, type: "cannot-disable-self", title: "You cannot disable your own account.",
                detail: "Ask another administrator, or run 'masterplan user disable EMAIL' on the server.")
    }

    /// Another account has this email (compared without regard to case).
    public static func emailTaken(_ email: String) -> Problem {
        Problem(status: 409, type: "email-taken", title: "Another account has this email.",
                detail: "A user with the email \(email.prefix(320)) already exists; choose another address.")
    }

    /// The resource does not exist or belongs to someone else (the two are not told apart).
    public static func notFound(_ what: String) -> Problem {
        Problem(status: 404, type: "not-found", title: "No such \(what).",
                detail: "There is no \(what) with this id among yours.")
    }

    /// No route has this path.
    public static func noSuchRoute(_ path: String) -> Problem {
        Problem(status: 404, type: "no-such-route", title: "There is no API route at this path.",
                detail: "See GET /api/v1/openapi.json for the routes.", extra: ["path": .string(path)])
    }

    /// The path exists, the method does not.
    public static func methodNotAllowed(_ method: String, allowed: [String]) -> Problem {
        Problem(status: 405, type: "method-not-allowed", title: "This method is not allowed here.",
                detail: "\(method) is not allowed on this path; use \(allowed.joined(separator: ", ")).",
                extra: ["allowed_methods": JSONValue(allowed)], headers: ["Allow": allowed.joined(separator: ", ")])
    }

    /// The body is not JSON; says where the parser stopped.
    public static func malformedJSON(_ error: JSONError) -> Problem {
        Problem(status: 400, type: "malformed-json", title: "The request body is not valid JSON.",
                detail: "\(error.message) at line \(error.line), column \(error.column).",
                extra: ["line": .int(Int64(error.line)), "column": .int(Int64(error.column)),
                        "position": .int(Int64(error.position))])
    }

    /// A query or path parameter has a value the route cannot use.
    public static func invalidParameter(_ name: String, _ detail: String) -> Problem {
        Problem(status: 400, type: "invalid-parameter", title: "A parameter has an invalid value.",
                detail: detail, extra: ["parameter": .string(name)])
    }

    /// The JSON is well-formed but fields are missing or wrong; every field problem is listed.
    public static func validationFailed(_ errors: [(field: String, message: String)]) -> Problem {
        let list = errors.map { JSONValue.object(["field": .string($0.field), "message": .string($0.message)]) }
        let first = errors.first.map { "\($0.field): \($0.message)" } ?? "the body is not acceptable"
        let more = errors.count > 1 ? " (and \(errors.count - 1) more)" : ""
        return Problem(status: 422, type: "validation-failed", title: "The request has invalid fields.",
                       detail: first + more, extra: ["errors": .array(list)])
    }

    /// The body is larger than the limit.
    public static func bodyTooLarge(limit: Int) -> Problem {
        Problem(status: 413, type: "body-too-large", title: "The request body is too large.",
                detail: "Request bodies are limited to \(limit) bytes.", extra: ["limit_bytes": .int(Int64(limit))])
    }

    /// A body that is not JSON.
    public static func unsupportedMediaType(_ contentType: String) -> Problem {
        Problem(status: 415, type: "unsupported-media-type", title: "The request body must be JSON.",
                detail: "Send 'Content-Type: application/json' (got '\(contentType.prefix(100))').")
    }

    /// A plan, review or other state machine refused the action in its current state.
    public static func illegalTransition(_ refusal: IllegalTransition) -> Problem {
        Problem(status: 409, type: "illegal-transition", title: "This action is not possible in the current state.",
                detail: refusal.description,
                extra: ["subject": .string(refusal.subject), "current_status": .string(refusal.state),
                        "action": .string(refusal.event), "allowed_actions": JSONValue(refusal.allowedEvents)])
    }

    /// A user's plan action the plan's status does not allow; lists the user actions allowed now
    /// (not the executor's own events).
    public static func illegalPlanAction(_ action: PlanEvent, status: PlanStatus) -> Problem {
        let allowed = status.allowedActions.map(\.rawValue)
        let now = allowed.isEmpty
            ? (status.isTerminal ? "the plan is \(status.rawValue), which is final" : "no action is possible until the executor moves it on")
            : "allowed now: \(allowed.joined(separator: ", "))"
        return Problem(status: 409, type: "illegal-transition", title: "This action is not possible in the current state.",
                       detail: "cannot \(action.rawValue) a plan that is \(status.rawValue); \(now)",
                       extra: ["subject": "plan", "current_status": .string(status.rawValue),
                               "action": .string(action.rawValue), "allowed_actions": JSONValue(allowed)])
    }

    /// A waiver asked for a review that holds no failing Gate S.
    public static func notWaivable(_ reason: String) -> Problem {
        Problem(status: 409, type: "review-not-waivable", title: "Only a failing Gate S can be waived.", detail: reason)
    }

    /// The plan has acceptance tests that passed before any code existed and nobody confirmed them.
    public static func testsCannotFail(_ names: [String], planID: UUID) -> Problem {
        let plan = planID.uuidString.lowercased()
        return Problem(status: 409, type: "tests-cannot-fail", title: "Some acceptance tests cannot fail.",
                       detail: "\(names.count) acceptance test(s) pass against an empty workspace, before any code exists, so they "
                           + "prove nothing: \(names.prefix(5).joined(separator: ", ")). Regenerate the plan with feedback about them, "
                           + "or confirm each with a reason (POST /api/v1/masterplans/\(plan)/acceptance-tests/{test_id}/confirm).",
                       extra: ["tests": JSONValue(names)])
    }

    /// Work of this kind is already queued or running for the plan.
    public static func jobAlreadyLive(_ kind: String) -> Problem {
        Problem(status: 409, type: "job-already-running", title: "This work is already queued or running.",
                detail: "A \(kind) job for this plan is queued or running; wait for it, or cancel the plan.")
    }

    /// The plan changed as it failed validation after an edit.
    public static func invalidPlanEdit(_ problems: PlanProblems) -> Problem {
        let list = problems.problems.prefix(100).map {
            JSONValue.object(["path": .string($0.path.description), "message": .string($0.message), "kind": .string($0.kind.rawValue)])
        }
        return Problem(status: 422, type: "invalid-plan", title: "The edit would make the plan invalid.",
                       detail: problems.problems.first.map(\.description) ?? "the plan is invalid",
                       extra: ["problems": .array(Array(list))])
    }

    /// Answers that do not fit the discovery's questions (more answers than questions): what is wrong
    /// depends on the plan's discovery, not on the body's form, so it is not `validation-failed`.
    public static func answersDoNotFit(field: String, message: String) -> Problem {
        Problem(status: 422, type: "answers-do-not-fit", title: "The answers do not fit the discovery's questions.",
                detail: "\(field): \(message)", extra: ["field": .string(field)])
    }

    /// The workspace has no committed content to download (yet), or is on another machine.
    public static func workspaceUnavailable(_ detail: String) -> Problem {
        Problem(status: 404, type: "workspace-unavailable", title: "The plan's workspace cannot be downloaded.",
                detail: detail)
    }

    /// PostgreSQL cannot be reached; the request may be retried.
    public static func databaseUnavailable() -> Problem {
        Problem(status: 503, type: "database-unavailable", title: "The database is not reachable.",
                detail: "Try again shortly; the operator is told in the server log.", headers: ["Retry-After": "2"])
    }

    /// Anything else; details are in the server log, never in the response.
    public static func internalError() -> Problem {
        Problem(status: 500, type: "internal-error", title: "The server failed to handle the request.",
                detail: "The operator can find the cause in the server log.")
    }
}
