import PlanCore

/// A query parameter a route reads: its name, what it means and the values it takes. Handlers
/// read it through `RequestContext` by these rules, and the OpenAPI document states the same rules
/// (`OpenAPIDocument.schema(of:)`), so the two cannot drift.
public struct QueryParameter: Sendable {
    public enum Kind: Sendable, Equatable {
        /// A whole number in the range.
        case integer(ClosedRange<Int64>)
        /// One of these words.
        case word([String])
        /// A UUID.
        case uuid
        /// An RFC 3339 date-time.
        case time
        /// An opaque `next_cursor` of the same list (base64url).
        case cursor
        /// An access token (the event streams read it; see the README's SSE relay section).
        case token
    }

    public let name: String
    public let description: String
    public let kind: Kind

    public init(_ name: String, _ description: String, _ kind: Kind) {
        self.name = name
        self.description = description
        self.kind = kind
    }
}

extension QueryParameter {
    /// The longest `cursor` a list writes and reads.
    public static let maxCursorLength = 1_024
    /// The longest stream ticket the document admits (a ticket is 43 characters; a longer one is
    /// refused as unknown by the relay).
    public static let maxTicketLength = 256

    public static let limit = QueryParameter("limit", "Items per page (1–200).", .integer(1...200))
    public static let cursor = QueryParameter("cursor", "The next_cursor of the previous page of the same list (opaque).", .cursor)
    public static let planStatus = QueryParameter("status", "Only plans with this status.", .word(PlanStatus.allCases.map(\.rawValue)))
    public static let atomStatus = QueryParameter("status", "Only atoms with this status.", .word(AtomStatus.allCases.map(\.rawValue)))
    public static let reviewStatus = QueryParameter("status", "Only reviews with this status.",
                                                    .word(ReviewStatus.allCases.map(\.rawValue)))
    public static let wave = QueryParameter("wave", "Only atoms of this wave.", .integer(1...1_000_000))
    public static let planID = QueryParameter("plan_id", "Only reviews of this plan.", .uuid)
    public static let since = QueryParameter("since", "Only calls at or after this time (RFC 3339, e.g. 2026-01-31T00:00:00Z).", .time)
    public static let lastEventID = QueryParameter("last_event_id", "Replay events after this id (same as the Last-Event-ID header).",
                                                   .integer(0...Int64.max))
    public static let ticket = QueryParameter("ticket",
                                              "A single-use stream ticket from POST /api/v1/events/tickets, for EventSource clients "
                                                  + "that cannot send headers (?access_token= is refused).", .token)
}
