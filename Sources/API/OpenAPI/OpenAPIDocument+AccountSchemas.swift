import JSON
import Store

extension OpenAPIDocument {
    /// The shapes of stream tickets and of account management (`APIRoutes.accounts`).
    static var accountSchemas: JSONObject {
        var s = JSONObject()
        s["StreamTicketRequest"] = object([
            "plan_id": .object(["type": ["string", "null"], "format": "uuid",
                                "description": "The plan whose stream the ticket opens; without it (or null), the stream of all your plans."]),
        ], open: false)
        s["StreamTicket"] = object([
            "ticket": .object(["type": "string", "description": "Opens one stream, once, as ?ticket=; never put the access token in a URL."]),
            "stream_url": .object(["type": "string", "description": "The stream's path with the ticket."]),
            "expires_in": .object(["type": "integer", "description": "Seconds the unused ticket stays valid (at most 60)."]),
            "expires_at": time,
            "stream_ends_at": .object(["type": "string", "format": "date-time",
                                       "description": "When the stream it opens ends: the expiry of the token that asked for it."]),
            "last_event_id": .object(["type": "integer", "minimum": 0,
                                      "description": "The latest event of that stream now: pass it as ?last_event_id= to start without a gap."]),
        ], required: ["ticket", "stream_url", "expires_in", "expires_at", "stream_ends_at", "last_event_id"])
        s["UserPage"] = page(of: "User")
        s["UserCreate"] = object([
            "email": .object(["type": "string", "maxLength": .int(Int64(BodyLimits.email)), "pattern": .string(TextRules.emailPattern)]),
            "password": .object(["type": "string", "minLength": .int(Int64(UserStore.minimumPasswordLength)),
                                 "maxLength": .int(Int64(BodyLimits.password))]),
            "role": nullable(enumeration(["admin", "member"])),
            "display_name": text(BodyLimits.displayName, nullable: true),
        ], required: ["email", "password"], open: false)
        s["PasswordReset"] = object([
            "password": .object(["type": "string", "minLength": .int(Int64(UserStore.minimumPasswordLength)),
                                 "maxLength": .int(Int64(BodyLimits.password))]),
        ], required: ["password"], open: false)
        return s
    }
}
