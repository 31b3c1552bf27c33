import Foundation
import Glibc
import JSON
import Store

extension APIApplication {
    /// `POST /events/tickets`: a single-use ticket that opens one event stream as `?ticket=` (what
    /// a browser's EventSource, which cannot send headers, uses instead of the access token). The
    /// body may name a plan: the ticket then opens that plan's stream, else the user's stream of all
    /// their plans. The ticket is bound to the account's token version and to the expiry of the
    /// token that asked for it (`StreamTicket`).
    func issueStreamTicket(_ ctx: RequestContext) throws -> HTTPResponse {
        var fields = BodyFields(try ctx.body(), allowed: ["plan_id"])
        let planID = fields.uuid("plan_id", what: "a plan id")
        try fields.check()
        let user = ctx.currentUser
        guard let claims = ctx.claims else { preconditionFailure("an authenticated route ran without claims") }
        let db = try database()
        if let planID, try PlanQueries(db).plan(id: planID, ownerID: user.id) == nil { throw Problem.notFound("plan") }

        let ticket = StreamTicket.generate()
        guard let (expiresAt, lastEventID) = try StreamTicketStore(db).issue(
            hash: StreamTicket.hash(ticket), userID: user.id, tokenVersion: user.tokenVersion, planID: planID,
            tokenExpiresAt: claims.expiresAt, lifetimeSeconds: StreamTicket.lifetimeSeconds) else {
            throw Problem.invalidToken(TokenError.expired.description)
        }
        let path = planID.map { "\(APIRoutes.prefix)/masterplans/\($0.uuidString.lowercased())/events" } ?? "\(APIRoutes.prefix)/events"
        return .json([
            "ticket": .string(ticket),
            "stream_url": .string(path + "?ticket=" + ticket),
            "expires_in": .int(max(0, expiresAt - Int64(time(nil)))),
            "expires_at": .string(PostgresTimestampText.iso8601(Date(timeIntervalSince1970: Double(expiresAt)))),
            "stream_ends_at": .string(PostgresTimestampText.iso8601(Date(timeIntervalSince1970: Double(claims.expiresAt)))),
            "last_event_id": .int(lastEventID),
        ], status: 201)
    }
}
