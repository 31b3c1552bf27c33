import API
import Foundation
import JSON
import PlanCore

/// Whether a generated part of a request fits what the document says about it.
enum Conformance: String {
    /// The document accepts it: the server must not refuse it as invalid.
    case valid
    /// The document refuses it: the server must not answer 2xx.
    case invalid
    /// Opaque to the document (a forged cursor, a body without a Content-Type): either answer is fine.
    case unchecked
}

/// Who a request speaks for.
enum Identity: Equatable, CustomStringConvertible {
    case owner, stranger, anonymous
    /// A token the server must refuse with 401, and what is wrong with it.
    case refused(String)

    var description: String {
        switch self {
        case .owner: "owner"
        case .stranger: "stranger"
        case .anonymous: "no token"
        case .refused(let kind): "refused token (\(kind))"
        }
    }
}

/// One generated request and what the fuzzer knows about it.
struct FuzzRequest: CustomStringConvertible {
    var method: String
    var target = ""
    var headers: [(String, String)] = []
    var body: [UInt8] = []
    var identity = Identity.anonymous
    /// A path id that belongs to the other account: never a 2xx.
    var foreign = false
    var path = Conformance.valid
    var query = Conformance.valid
    var bodyFit = Conformance.valid
    /// The owner's plan the path names, if any.
    var planID: UUID?
    /// The owner speaks through a fresh stream ticket rather than the Authorization header.
    var wantsTicket = false
    /// The fresh ticket in the URL, if any.
    var ticket: String?
    var notes: [String] = []

    var allValid: Bool { path == .valid && query == .valid && bodyFit == .valid && identity == .owner && !foreign }
    var anyInvalid: Bool { path == .invalid || query == .invalid || bodyFit == .invalid }

    var description: String {
        let shownBody = String(decoding: body.prefix(400), as: UTF8.self).debugDescription
        let headerText = headers.map { name, value in
            name.lowercased() == "authorization" ? "\(name): <\(identity)>" : "\(name): \(value.prefix(100))"
        }.joined(separator: "; ")
        return "\(method) \(target.prefix(600)) [\(headerText)] body(\(body.count) bytes)=\(shownBody) "
            + "path=\(path.rawValue) query=\(query.rawValue) body=\(bodyFit.rawValue) \(notes.joined(separator: ", "))"
    }
}

/// Generates requests for one documented operation: schema-valid values mixed with hostile ones in
/// every part (path, query, headers, body), aimed at the world's things in the states the operation
/// starts from, so that real code paths run and not only 401 and 404.
struct RequestFuzzer {
    let operation: DocumentedOperation
    let validator: OpenAPISchemas
    let world: FuzzWorld
    var rng: SplitMix64
    /// Logins with an unknown email cost a full password hash each: a few are enough.
    var unknownEmails = 0
    /// `next_cursor` values the operation's list really returned.
    var cursors: [String] = []
    /// Stream tickets that opened a stream once already.
    var spentTickets: [String] = []
    /// New passwords the run had hashed (600,000 rounds of PBKDF2 each).
    var hashedPasswords = 0

    init(operation: DocumentedOperation, validator: OpenAPISchemas, world: FuzzWorld, seed: UInt64) {
        self.operation = operation
        self.validator = validator
        self.world = world
        rng = SplitMix64(seed: seed)
    }

    /// The plan statuses an operation's real work starts from.
    static let preferredStatuses: [String: [String]] = [
        "approvePlan": ["draft"], "rejectPlan": ["draft"], "regeneratePlan": ["draft"], "editTask": ["draft"],
        "confirmAcceptanceTest": ["draft"], "executePlan": ["approved"], "pausePlan": ["executing"],
        "resumePlan": ["paused", "blocked", "failed"], "cancelPlan": ["executing", "queued", "approved", "paused"],
        "downloadWorkspace": ["completed"], "getEvidence": ["completed"], "listWaves": ["executing", "completed"],
        "listAtoms": ["executing", "completed"], "listGateResults": ["executing", "completed", "blocked"],
    ]

    mutating func next() -> FuzzRequest {
        var request = FuzzRequest(method: operation.method)
        identity(&request)
        let path = pathText(&request)
        let query = queryText(&request)
        request.target = path + (query.isEmpty ? "" : "?" + query)
        body(&request)
        return request
    }

    // MARK: - Identity

    private mutating func identity(_ request: inout FuzzRequest) {
        let roll = Double.random(in: 0..<1, using: &rng)
        if !operation.requiresAuth {
            if roll < 0.15 { request.headers.append(("Authorization", rng.pick(world.refusedTokens).header)) }
            request.identity = .anonymous
            return
        }
        switch roll {
        case ..<0.78:
            request.identity = .owner
            if operation.isStream && rng.chance(0.4) {
                // A fresh ticket for the stream, fetched once the path is known (`queryText`).
                request.wantsTicket = true
            } else {
                authorize(&request, world.owner.token)
            }
        case ..<0.83:
            request.identity = .stranger
            authorize(&request, world.stranger.token)
        case ..<0.87:
            request.identity = .anonymous
        default:
            if operation.isStream && rng.chance(0.4) {
                // A ticket decides, even beside a valid header: a forged one is a 401. So is a token
                // in the URL (`?access_token=`), which the relay refuses whatever it holds.
                let inURL = rng.chance(0.3)
                let spent = !inURL && !spentTickets.isEmpty && rng.chance(0.3)
                let kind = inURL ? "token in the URL" : spent ? "spent ticket" : "forged ticket"
                request.identity = .refused(kind)
                request.notes.append(kind)
                request.headers.append((inURL ? "X-Fuzz-Token-In-Query" : "X-Fuzz-Ticket",
                                        inURL ? world.owner.token : spent ? rng.pick(spentTickets) : rng.pick(Self.forgedTickets)))
                if rng.chance(0.5) { request.headers.append(("Authorization", "Bearer " + world.owner.token)) }
            } else {
                let token = rng.pick(world.refusedTokens)
                request.identity = .refused(token.kind)
                request.headers.append(("Authorization", token.header))
            }
        }
    }

    /// A ticket for the stream the request names (`POST /api/v1/events/tickets` with the owner's
    /// token), or nil when the path names no stream of the owner's.
    private func ticket(for request: FuzzRequest) -> String? {
        guard request.path == .valid, !request.foreign else { return nil }
        if operation.template.contains("{id}") && request.planID == nil { return nil }
        let body: JSONValue = request.planID.map { ["plan_id": .string($0.uuidString.lowercased())] } ?? [:]
        return try? world.stack.call("POST", "/api/v1/events/tickets", token: world.owner.token, json: body)["ticket"]?.stringValue
    }

    /// Learns from an answer: a ticket that opened a stream is spent (using it again is a 401).
    mutating func observe(_ request: FuzzRequest, _ response: FuzzResponse) {
        if let ticket = request.ticket, response.status == 200 { spentTickets.append(ticket) }
    }

    /// Tickets no server issued: the right shape from another source, and wrong shapes.
    static let forgedTickets = [
        Base64URL.encode(Array(repeating: UInt8(7), count: 32)), "", "x", String(repeating: "A", count: 43),
        String(repeating: "a", count: 300), "not a ticket", "%00",
    ]

    /// The token in the Authorization header (never in a URL: the relay refuses that).
    private mutating func authorize(_ request: inout FuzzRequest, _ token: String) {
        request.headers.append(("Authorization", "Bearer " + token))
    }

    // MARK: - Path

    private mutating func pathText(_ request: inout FuzzRequest) -> String {
        var pieces: [String] = []
        var chosenPlan: UUID?
        for piece in operation.template.split(separator: "/", omittingEmptySubsequences: false) {
            guard piece.hasPrefix("{"), piece.hasSuffix("}") else { pieces.append(String(piece)); continue }
            let name = String(piece.dropFirst().dropLast())
            let schema = operation.pathParameters.first { $0.name == name }?.schema ?? ["type": "string"]
            let previous = pieces.last ?? ""
            let text: String
            if name == "number" {
                text = taskNumber()
            } else {
                // Ids of the account the request speaks for, and of the other one.
                let (own, other) = request.identity == .stranger ? (world.theirs, world.mine) : (world.mine, world.theirs)
                let owners = ids(for: name, after: previous, in: own, plan: chosenPlan)
                let strangers = ids(for: name, after: previous, in: other, plan: nil)
                let roll = Double.random(in: 0..<1, using: &rng)
                if roll < 0.74, !owners.isEmpty {
                    let id = owners[Int.random(in: 0..<owners.count, using: &rng)]
                    if previous == "masterplans" { chosenPlan = id; request.planID = id }
                    text = rng.chance(0.05) ? id.uuidString.uppercased() : id.uuidString.lowercased()
                } else if roll < 0.82, !strangers.isEmpty {
                    request.foreign = true
                    request.notes.append("the other account's \(name)")
                    text = rng.pick(strangers).uuidString.lowercased()
                } else if roll < 0.87 {
                    text = rng.uuid().uuidString.lowercased()
                } else {
                    text = rng.pick(Self.hostileIDs)
                }
            }
            request.path = worse(request.path, conformance(ofText: text, schema))
            pieces.append(Self.encodePathSegment(text))
        }
        return pieces.joined(separator: "/")
    }

    static let hostileIDs = [
        "not-a-uuid", "0", "-1", "null", "undefined", "{id}", "00000000-0000-0000-0000-000000000000",
        "3fa85f6457174562b3fc2c963f66afa6", "3fa85f64-5717-4562-b3fc-2c963f66afa6x", "{3fa85f64-5717-4562-b3fc-2c963f66afa6}",
        String(repeating: "9", count: 40), String(repeating: "a", count: 300), "é", "😀", "' OR '1'='1", "1;DROP TABLE masterplans",
        "%25", "%", "\u{FFFD}", "a b", "\u{202E}", "pending",
    ]

    /// Ids of the kind the path parameter names, the ones in a useful state first.
    private mutating func ids(for name: String, after previous: String, in holdings: FuzzWorld.Holdings, plan: UUID?) -> [UUID] {
        switch (name, previous) {
        case ("test_id", _):
            let ofPlan = holdings.tests.filter { $0.planID == plan }
            let useful = ofPlan.filter(\.cannotFail)
            if !useful.isEmpty && rng.chance(0.7) { return useful.map(\.id) }
            return (ofPlan.isEmpty || rng.chance(0.2) ? holdings.tests : ofPlan).map(\.id)
        case (_, "conversations"): return holdings.conversations
        case (_, "users"):
            // Now and then the owner's own account, which an admin cannot disable (409).
            return operation.operationID == "disableUser" && rng.chance(0.05) ? [world.owner.id] : holdings.users
        case (_, "atoms"): return holdings.atoms
        case (_, "reviews"):
            let pending = holdings.reviews.filter { $0.status == "pending" && (operation.operationID != "waiveReview" || $0.waivable) }
            if !pending.isEmpty && rng.chance(0.75) { return pending.map(\.id) }
            return holdings.reviews.map(\.id)
        default:
            if let statuses = Self.preferredStatuses[operation.operationID], rng.chance(0.7) {
                var useful = holdings.plans.filter { statuses.contains($0.status) }
                // Approving a draft whose test cannot fail is a 409 until it is confirmed.
                if operation.operationID == "approvePlan" {
                    let blocked = Set(holdings.tests.filter(\.cannotFail).map(\.planID))
                    if rng.chance(0.7) { useful = useful.filter { !blocked.contains($0.id) } }
                }
                if operation.operationID == "confirmAcceptanceTest" {
                    let withTest = Set(holdings.tests.filter(\.cannotFail).map(\.planID))
                    useful = useful.filter { withTest.contains($0.id) }
                }
                if !useful.isEmpty { return useful.map(\.id) }
            }
            return holdings.plans.map(\.id)
        }
    }

    private mutating func taskNumber() -> String {
        let roll = Double.random(in: 0..<1, using: &rng)
        if roll < 0.75 { return String(rng.pick(world.mine.taskNumbers)) }
        if roll < 0.82 { return String(Int.random(in: 4...2_000, using: &rng)) }
        return rng.pick(["0", "-1", "99999999999", "2147483648", "9223372036854775808", "1.0", "1e3", "0x1", "+1", "01", "abc",
                         "%20", "1\u{1}", "１"])
    }

    // MARK: - Query

    private mutating func queryText(_ request: inout FuzzRequest) -> String {
        var items: [(name: String, value: [UInt8])] = []
        for (name, schema) in operation.queryParameters where name != "ticket" {
            let roll = Double.random(in: 0..<1, using: &rng)
            if roll < 0.45 { continue }
            if roll < 0.87, let value = validQueryValue(name, schema) {
                items.append((name, Array(value.utf8)))
                request.query = worse(request.query, name == "cursor" ? cursorConformance(value) : conformance(ofText: value, schema))
            } else {
                let value = hostileQueryValue(name)
                items.append((name, value))
                let text = String(validating: value, as: UTF8.self)
                var fit: Conformance = text.map { name == "cursor" ? cursorConformance($0) : conformance(ofText: $0, schema) } ?? .invalid
                // The relay (streams) reads an empty value as none.
                if operation.isStream && value.isEmpty { fit = .unchecked }
                request.query = worse(request.query, fit)
            }
        }
        let queryLastEventID = items.contains { $0.name == "last_event_id" }
        for (name, schema) in operation.headerParameters where rng.chance(0.3) {
            // The relay reads the header before the query parameter: a query value it then ignores
            // may be anything.
            if name == "Last-Event-ID" && queryLastEventID && request.query == .invalid { request.query = .unchecked }
            if rng.chance(0.7), let value = validQueryValue(name, schema) {
                request.headers.append((name, value))
                request.query = worse(request.query, conformance(ofText: value, schema))
            } else {
                let value = rng.pick(["-1", "abc", "99999999999999999999", "1.5", "", " 7", "0x10", "9223372036854775807"])
                request.headers.append((name, value))
                request.query = worse(request.query, value.isEmpty || value.hasPrefix(" ") ? .unchecked : conformance(ofText: value, schema))
            }
        }
        if let token = request.headers.first(where: { $0.0 == "X-Fuzz-Token-In-Query" }) {
            request.headers.removeAll { $0.0 == "X-Fuzz-Token-In-Query" }
            items.append(("access_token", Array(token.1.utf8)))
        }
        if let ticket = request.headers.first(where: { $0.0 == "X-Fuzz-Ticket" }) {
            request.headers.removeAll { $0.0 == "X-Fuzz-Ticket" }
            items.append(("ticket", Array(ticket.1.utf8)))
        }
        if request.wantsTicket {
            if let ticket = ticket(for: request) {
                items.append(("ticket", Array(ticket.utf8)))
                request.ticket = ticket
                request.notes.append("fresh ticket")
            } else {
                authorize(&request, world.owner.token)
            }
        }
        if !items.isEmpty && rng.chance(0.06) {
            let repeated = rng.pick(items)
            items.append(repeated)
            request.notes.append("\(repeated.name) twice")
            // The API refuses a repeated parameter; the relay (streams) reads the first.
            request.query = worse(request.query, operation.isStream ? .unchecked : .invalid)
        }
        if rng.chance(0.08) {
            // Parameters the document does not name are ignored.
            items.append(rng.pick([("x", Array("1".utf8)), ("debug", Array("true".utf8)), ("limit[]", Array("5".utf8)),
                                   ("", Array("x".utf8)), ("%", []), ("_", Array(String(repeating: "z", count: 2_000).utf8))]))
        }
        items.shuffle(using: &rng)
        return items.map { Self.encodeQueryComponent($0.name.utf8) + "=" + Self.encodeQueryComponent($0.value) }.joined(separator: "&")
    }

    private mutating func validQueryValue(_ name: String, _ schema: JSONValue) -> String? {
        switch name {
        case "cursor":
            return cursors.isEmpty ? nil : rng.pick(cursors)
        case "plan_id":
            let plans = rng.chance(0.85) ? world.mine.plans : world.theirs.plans
            return plans.isEmpty ? nil : rng.pick(plans).id.uuidString.lowercased()
        default:
            let sampler = SchemaSampler(validator: validator)
            guard let value = sampler.valid(schema, rng: &rng) else { return nil }
            return value.stringValue ?? value.jsonText
        }
    }

    private mutating func hostileQueryValue(_ name: String) -> [UInt8] {
        if name == "cursor" && rng.chance(0.6) { return Array(forgedCursor().utf8) }
        let values: [[UInt8]] = [
            [], Array(" ".utf8), Array("-1".utf8), Array("0".utf8), Array("99999999999999999999".utf8), Array("2147483648".utf8),
            Array("1e3".utf8), Array("1.5".utf8), Array("NaN".utf8), Array("null".utf8), Array("true".utf8), [0], [0xFF, 0xFE],
            [0xC3, 0x28], Array("%".utf8), Array(String(repeating: "a", count: 3_000).utf8), Array("1,2".utf8), Array("[1]".utf8),
            Array("PENDING".utf8), Array(" pending".utf8), Array("0000-01-01T00:00:00Z".utf8), Array("9999-12-31T23:59:59-14:00".utf8),
            Array("2026-02-30T00:00:00Z".utf8), Array("2026-01-01".utf8), Array("yesterday".utf8), Array("2026-01-01T00:00:00.1234567890Z".utf8),
            Array("+5".utf8), Array("05".utf8), Array("\u{0660}".utf8), Array("3fa85f64-5717-4562-b3fc-2c963f66afa6".utf8),
            Array("eyJ9".utf8), Array("\u{202E}".utf8),
        ]
        return rng.pick(values)
    }

    /// A cursor as an attacker would write one: base64url of JSON that no list returned.
    mutating func forgedCursor() -> String {
        let uuid = rng.uuid().uuidString.lowercased()
        let forged = [
            #"["not a time","\#(uuid)"]"#, #"["2026-02-30 10:00:00+00","\#(uuid)"]"#, #"["2026-01-01 10:00:00+00","nope"]"#,
            #"["0000-01-01 00:00:00+00","\#(uuid)"]"#, #"["infinity","\#(uuid)"]"#, #"["epoch","\#(uuid)"]"#,
            #"["2026-01-01 10:00:00+00"]"#, #"[1,2,3]"#, #"[]"#, #"{}"#, #"null"#, #"["99999999999"]"#, #"["-5"]"#, #"["1e3"]"#,
            #"["0","2147483648","a.py"]"#, #"["1","1","a.py","x"]"#, #"["2026-01-01 10:00:00.1234567+00","\#(uuid)"]"#,
            #"["2026-01-01 10:00:00+99","\#(uuid)"]"#, #"["9","x"]"#, #"["2026-01-01T10:00:00Z","\#(uuid)"]"#,
            #"["\u0000","\#(uuid)"]"#, "[\"" + String(repeating: "9", count: 300) + "\"]",
        ]
        let text = rng.pick(forged)
        return rng.chance(0.1) ? "!" + Base64URL.encode(text) : Base64URL.encode(text)
    }

    private func cursorConformance(_ value: String) -> Conformance {
        cursors.contains(value) ? .valid : .unchecked
    }

    // MARK: - Body

    private mutating func body(_ request: inout FuzzRequest) {
        guard let schema = operation.requestSchema else {
            // No body documented: mostly none, now and then junk, which the route must ignore or refuse.
            request.bodyFit = .valid
            if rng.chance(0.1) {
                request.bodyFit = .unchecked
                request.body = rng.pick([Array("{}".utf8), Array(#"{"reason":"x"}"#.utf8), Array("{".utf8), [0xFF]])
                request.headers.append(("Content-Type", "application/json"))
            }
            return
        }
        var sampler = SchemaSampler(validator: validator)
        let world = self.world
        var unknownEmails = self.unknownEmails
        let operationID = operation.operationID
        sampler.contextual = { name, rng in
            Self.contextualValue(name, operationID: operationID, world: world, unknownEmails: &unknownEmails, rng: &rng)
        }
        defer { self.unknownEmails = unknownEmails }

        let roll = Double.random(in: 0..<1, using: &rng)
        if roll < 0.08 && !operation.requestRequired {
            request.bodyFit = .valid
            request.notes.append("no body")
            return
        }
        if roll < 0.2 {
            rawHostileBody(&request)
            return
        }
        guard var value = sampler.valid(schema, rng: &rng)?.objectValue else {
            request.bodyFit = .invalid
            request.notes.append("no valid body found")
            return
        }
        if roll >= 0.6 { mutate(&value, schema: sampler.resolved(schema), sampler: sampler, request: &request) }
        // A new password in an otherwise valid request of the admin is hashed (seconds each in a
        // debug build): a few, then too short ones.
        if operation.operationID == "createUser" || operation.operationID == "resetUserPassword",
           let password = value["password"]?.stringValue, password.unicodeScalars.count >= 8, request.identity == .owner,
           validator.errors(.object(value), against: schema).isEmpty {
            if hashedPasswords < 4 { hashedPasswords += 1 } else { value["password"] = "short" }
        }
        request.body = (try? JSONValue.object(value).serializedBytes()) ?? []
        request.bodyFit = validator.errors(.object(value), against: schema).isEmpty ? .valid : .invalid
        let other = request.identity == .stranger ? world.mine : world.theirs
        if Self.mentions(.object(value), other.all) {
            request.foreign = true
            request.notes.append("the other account's id in the body")
        }
        request.headers.append(("Content-Type", rng.chance(0.1) ? "application/json; charset=utf-8" : "application/json"))
        if request.body.count > 1 << 20 { request.bodyFit = .invalid }
        if rng.chance(0.03) {
            let type = rng.pick(["text/plain", "application/x-www-form-urlencoded", "application/jsonx", "multipart/form-data", "*/*"])
            request.headers.removeAll { $0.0 == "Content-Type" }
            request.headers.append(("Content-Type", type))
            request.notes.append("content type \(type)")
            request.bodyFit = .invalid
        }
    }

    /// One change that probably breaks the body: an unknown field, a hostile value, a required
    /// field removed, a null.
    private mutating func mutate(_ value: inout JSONObject, schema: JSONValue, sampler: SchemaSampler, request: inout FuzzRequest) {
        let properties = schema["properties"]?.objectValue ?? JSONObject()
        let names = properties.keys
        switch Int.random(in: 0..<5, using: &rng) {
        case 0:
            let name = rng.pick(["id", "status", "owner_id", "__proto__", "constructor", "Request", "request ", "x", "",
                                 String(repeating: "k", count: 300)])
            value[name] = rng.pick(SchemaSampler.hostileValues.prefix(12).map { $0 })
            request.notes.append("unknown field \(name.prefix(20))")
        case 1 where !names.isEmpty:
            let name = rng.pick(names)
            value[name] = sampler.hostile(properties[name] ?? .object([:]), rng: &rng)
            request.notes.append("hostile \(name)")
        case 2 where !value.isEmpty:
            let name = rng.pick(value.keys)
            value[name] = nil
            request.notes.append("without \(name)")
        case 3 where !names.isEmpty:
            let name = rng.pick(names)
            value[name] = .null
            request.notes.append("\(name) null")
        default:
            if let name = names.first(where: { properties[$0]?["type"] == "array" || properties[$0]?["items"] != nil }),
               let items = sampler.resolved(properties[name]?["items"] ?? .null).objectValue {
                // A nested object with a hostile member.
                let member = items["properties"]?.objectValue?.keys.first ?? "number"
                value[name] = .array([.object([member: sampler.hostile(items["properties"]?[member] ?? .null, rng: &rng)])])
                request.notes.append("hostile \(name)[0].\(member)")
            } else {
                value[rng.pick(["extra", "budget", "requests"])] = .string("x")
                request.notes.append("extra field")
            }
        }
    }

    /// Bytes that are not the JSON object the route wants: malformed JSON, another top-level type,
    /// invalid UTF-8, an escaped NUL, deep nesting, duplicate keys, numbers JSON cannot hold.
    private mutating func rawHostileBody(_ request: inout FuzzRequest) {
        let field = (operation.requestSchema.flatMap { SchemaSampler(validator: validator).resolved($0)["properties"]?.objectValue?.keys.first })
            ?? "reason"
        let bodies: [(String, [UInt8])] = [
            ("truncated", Array(#"{"\#(field)": "abc"#.utf8)),
            ("trailing comma", Array(#"{"\#(field)": "abc",}"#.utf8)),
            ("single quotes", Array("{'\(field)': 'abc'}".utf8)),
            ("array", Array(#"["\#(field)"]"#.utf8)),
            ("string", Array(#""\#(field)""#.utf8)),
            ("number", Array("42".utf8)),
            ("null", Array("null".utf8)),
            ("invalid UTF-8", Array(#"{"\#(field)": ""#.utf8) + [0xC3, 0x28, 0xFF] + Array(#""}"#.utf8)),
            ("escaped NUL", Array(#"{"\#(field)": "a\u0000b"}"#.utf8)),
            ("lone surrogate", Array(#"{"\#(field)": "\ud800"}"#.utf8)),
            ("raw control character", Array(#"{"\#(field)": "a"#.utf8) + [0x01] + Array(#"b"}"#.utf8)),
            ("deep nesting", Array((String(repeating: #"{"a":"#, count: 100) + "1" + String(repeating: "}", count: 100)).utf8)),
            ("duplicate keys", Array(#"{"\#(field)": "a", "\#(field)": "b"}"#.utf8)),
            ("huge integer", Array(#"{"\#(field)": 1\#(String(repeating: "0", count: 400))}"#.utf8)),
            ("huge exponent", Array(#"{"\#(field)": 1e999}"#.utf8)),
            ("NaN literal", Array(#"{"\#(field)": NaN}"#.utf8)),
            ("byte order mark", [0xEF, 0xBB, 0xBF] + Array("{}".utf8)),
            ("two documents", Array("{}{}".utf8)),
            ("whitespace", Array(" \n\t ".utf8)),
            ("too large", Array(#"{"\#(field)": ""#.utf8) + [UInt8](repeating: 0x61, count: (1 << 20) + 10) + Array(#""}"#.utf8)),
        ]
        let (name, bytes) = rng.pick(bodies)
        request.body = bytes
        request.notes.append("body: \(name)")
        request.headers.append(("Content-Type", "application/json"))
        // Only blank text is read as no body at all (nothing else here is a JSON object).
        request.bodyFit = name == "whitespace" ? .unchecked : .invalid
    }

    /// Values with a meaning in the world for properties of request bodies.
    static func contextualValue(_ name: String, operationID: String, world: FuzzWorld, unknownEmails: inout Int,
                                rng: inout SplitMix64) -> JSONValue? {
        switch name {
        case "conversation_id":
            if rng.chance(0.6) { return .string(rng.pick(world.mine.conversations).uuidString.lowercased()) }
            if rng.chance(0.3) { return .string(rng.pick(world.theirs.conversations).uuidString.lowercased()) }
            return nil
        case "plan_id":
            if rng.chance(0.6) { return .string(rng.pick(world.mine.plans).id.uuidString.lowercased()) }
            if rng.chance(0.3) { return .string(rng.pick(world.theirs.plans).id.uuidString.lowercased()) }
            return nil
        case "email" where operationID == "createUser":
            // Mostly a new address (an email names one account), now and then one that exists (409).
            return .string(rng.chance(0.8) ? "new-\(rng.uuid().uuidString.prefix(13).lowercased())@example.org" : world.stranger.email)
        case "email":
            if unknownEmails < 3 && rng.chance(0.1) {
                unknownEmails += 1
                return nil
            }
            return .string(rng.chance(0.8) ? world.owner.email : world.stranger.email.uppercased())
        case "password":
            return rng.chance(0.6) ? "correct horse battery" : nil
        case "content" where rng.chance(0.4):
            return .string("/masterplan " + rng.pick(["create a FastAPI app with JWT auth", "a todo list", "x"]))
        case "files" where rng.chance(0.7):
            return .array(rng.pick([["app/main.py"], ["app/new.py", "app/other.py"], [], ["../etc/passwd"], ["/abs.py"], ["a//b.py"],
                                    [".git/config"], ["a/"], ["con.py"], ["a.py", "a.py"], ["a\\b.py"], [" "], ["\u{202E}x.py"]]
                .map { $0.map(JSONValue.string) }))
        case "depends_on" where rng.chance(0.7):
            return .array(rng.pick([[], [1], [1, 2], [3], [2], [99], [0]]).map { .int(Int64($0)) })
        default:
            return nil
        }
    }

    /// Whether a value holds one of `ids` as a string anywhere.
    static func mentions(_ value: JSONValue, _ ids: Set<UUID>) -> Bool {
        switch value {
        case .string(let text): UUID(uuidString: text).map(ids.contains) ?? false
        case .array(let elements): elements.contains { mentions($0, ids) }
        case .object(let object): object.contains { mentions($0.value, ids) }
        default: false
        }
    }

    // MARK: - Conformance

    /// Whether a text value (a path or query parameter) fits its schema, read as OpenAPI's simple
    /// style reads it: numbers as JSON numbers, the rest as strings.
    func conformance(ofText text: String, _ schema: JSONValue) -> Conformance {
        let resolved = SchemaSampler(validator: validator).resolved(schema)
        let types = resolved["type"]?.arrayValue?.compactMap(\.stringValue) ?? resolved["type"]?.stringValue.map { [$0] } ?? ["string"]
        if types.contains("integer") || types.contains("number") {
            if text.range(of: #"^-?(0|[1-9][0-9]*)$"#, options: .regularExpression) != nil {
                guard let number = Int64(text) else { return .invalid }
                return validator.errors(.int(number), against: resolved).isEmpty ? .valid : .invalid
            }
            // "+1", "01": not how a number is written in the document's terms, but readable; either answer is fine.
            if text.range(of: #"^[+-]?[0-9]+$"#, options: .regularExpression) != nil { return .unchecked }
            return .invalid
        }
        return validator.errors(.string(text), against: resolved).isEmpty ? .valid : .invalid
    }

    func worse(_ a: Conformance, _ b: Conformance) -> Conformance {
        if a == .invalid || b == .invalid { return .invalid }
        if a == .unchecked || b == .unchecked { return .unchecked }
        return .valid
    }

    // MARK: - Encoding

    static let unreserved = Set(Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~".utf8))

    static func encodeQueryComponent(_ bytes: some Sequence<UInt8>) -> String {
        var out = ""
        for byte in bytes {
            if unreserved.contains(byte) { out.unicodeScalars.append(Unicode.Scalar(byte)) } else { out += String(format: "%%%02X", byte) }
        }
        return out
    }

    /// A path segment with every byte but the unreserved ones escaped. (A bare `%` or an escaped NUL
    /// never reaches a route: nginx answers such a request line itself, before any location.)
    static func encodePathSegment(_ text: String) -> String {
        encodeQueryComponent(text.utf8)
    }
}
