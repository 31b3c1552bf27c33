import Base
import FastCGI
import Foundation
import Glibc
import JSON
import Postgres
import Store
import Synchronization

/// The SSE relay (`masterplan serve events`): one process, one thread per open stream,
/// and ONE `LISTEN masterplan_events` connection fanned out to all of them.
///
/// - The LISTEN thread reads each new event row once (everything above the last id it saw, so a
///   lost notification or a reconnect loses nothing), frames it as SSE once, and hands the bytes to
///   the fan-out thread (`EventHub`), which writes them to every live stream allowed to see them,
///   without blocking on any one client. Stream threads never query or wake per event.
/// - A new stream registers with the hub first (events are held for it from then on), then its own
///   thread writes the head, `retry:` and the replay of `events` after its `Last-Event-ID` (through
///   a small pool of query connections), then hands the stream to the fan-out thread, which sends
///   the held events above the last replayed id and every later one (an id at or below the last
///   sent is skipped). Ids are committed in id order (`masterplan_emit_event`), so replay + live
///   has neither a gap nor a duplicate.
/// - A heartbeat comment every `heartbeatSeconds` (the stream thread asks, the fan-out thread
///   writes); `retry:` first; a client that goes away is seen at once (the stream thread polls the
///   FastCGI connection); a client that reads too slowly is dropped with a log line.
/// - A stream opens with `Authorization: Bearer TOKEN` or, since EventSource cannot send headers,
///   with a single-use ticket as `?ticket=` (`StreamTicket`, redeemed by deleting it). A token in
///   the URL (`?access_token=`) is refused: web servers and proxies log URLs.
/// - A stream lasts as long as the token behind it (or behind its ticket): it ends when the token
///   expires, and when the account is disabled or its token version moves on (a new password). The
///   LISTEN connection also LISTENs on `UserStore.accessChannel`; a notification there, every
///   `accountCheckInterval` and every (re)LISTEN, the LISTEN thread checks the accounts of all open
///   streams by query (the database is the truth; the notification only wakes).
/// - Signals: TERM/INT/QUIT stop (streams end; browsers reconnect elsewhere with Last-Event-ID),
///   HUP is logged and ignored (there is nothing to reload).
public final class EventRelay: Sendable {
    public struct Options: Sendable {
        public var heartbeatSeconds: Int
        public var retryMilliseconds: Int
        public var replayConnections: Int
        public var maxStreams: Int
        /// A stream whose client falls this far behind is closed (it reconnects and replays).
        public var maxQueuedBytes: Int

        public init(heartbeatSeconds: Int = 15, retryMilliseconds: Int = 3000, replayConnections: Int = 4,
                    maxStreams: Int = 10_000, maxQueuedBytes: Int = 4 << 20) {
            self.heartbeatSeconds = heartbeatSeconds
            self.retryMilliseconds = retryMilliseconds
            self.replayConnections = replayConnections
            self.maxStreams = maxStreams
            self.maxQueuedBytes = maxQueuedBytes
        }
    }

    public let socket: ListeningSocket
    public let configuration: APIConfiguration
    public let options: Options
    let hub: EventHub
    let pool: ConnectionPool
    let authenticator: Authenticator
    let interrupter = WaitInterrupter()
    let stopping = Atomic<Bool>(false)
    let listening = Atomic<Bool>(false)
    let openStreams = Atomic<Int>(0)
    let lastEventID = Atomic<Int64>(0)
    let threadsRunning = Atomic<Int>(0)

    public init(socket: ListeningSocket, configuration: APIConfiguration, options: Options = Options()) {
        self.socket = socket
        self.configuration = configuration
        self.options = options
        pool = ConnectionPool(conninfo: configuration.databaseURL, size: options.replayConnections)
        hub = EventHub(maxQueuedBytes: options.maxQueuedBytes)
        authenticator = Authenticator(signer: TokenSigner(secret: configuration.jwtSecret))
    }

    static let stopSignals: [Int32] = [SIGTERM, SIGINT, SIGQUIT, SIGHUP]

    /// Serves until TERM, INT or QUIT; returns the exit status.
    public func run() -> Int32 {
        guard FastCGILibrary.takeOverSignals() else { return 1 }
        // Blocked before any thread starts, so every thread inherits the mask and only sigwait below
        // receives them.
        ProcessSignals.setBlocked(Self.stopSignals, true)
        raiseOpenFileLimit()

        startThread("fan-out") { [self] in hub.run() }
        startThread("listen") { [self] in listenLoop() }
        startThread("accept") { [self] in acceptLoop() }
        Log.info("event relay started", ["socket": socket.path ?? "fd \(socket.fileDescriptor)", "pid": String(getpid()),
                                         "heartbeat_s": String(options.heartbeatSeconds)])

        var set = sigset_t()
        sigemptyset(&set)
        for signal in Self.stopSignals { sigaddset(&set, signal) }
        while true {
            var received: Int32 = 0
            guard sigwait(&set, &received) == 0 else { continue }
            if received == SIGHUP {
                Log.info("SIGHUP ignored: the relay has nothing to reload")
                continue
            }
            break
        }
        stop()
        return 0
    }

    /// Ends the streams and threads and removes the socket file.
    func stop() {
        Log.info("event relay stopping", ["streams": String(hub.count)])
        stopping.store(true, ordering: .releasing)
        socket.shutdown()
        hub.closeAll()
        interrupter.interrupt()
        for _ in 0..<300 where threadsRunning.load(ordering: .acquiring) > 0 { usleep(10_000) }
        socket.close(removingSocketFile: true)
        Log.info("event relay stopped")
    }

    private func startThread(_ name: String, _ body: @escaping @Sendable () -> Void) {
        threadsRunning.add(1, ordering: .relaxed)
        let thread = Thread { [self] in
            body()
            threadsRunning.subtract(1, ordering: .releasing)
        }
        thread.name = name
        thread.stackSize = 512 << 10
        thread.start()
    }

    /// Each open stream holds a FastCGI connection and an eventfd: lift the soft limit to the hard one.
    private func raiseOpenFileLimit() {
        var limit = rlimit()
        let resource = __rlimit_resource_t(RLIMIT_NOFILE.rawValue)
        guard getrlimit(resource, &limit) == 0, limit.rlim_cur < limit.rlim_max else { return }
        limit.rlim_cur = limit.rlim_max
        _ = setrlimit(resource, &limit)
    }

    // MARK: - LISTEN thread

    /// How often the LISTEN thread checks the accounts of the open streams without being notified.
    static let accountCheckInterval = Duration.seconds(5)

    /// Reads new events after every notification (and every 5 s, in case one was lost) and fans
    /// them out; checks the open streams' accounts after a notification on the users' channel and
    /// every `accountCheckInterval`; reconnects and catches up by query after losing the server.
    func listenLoop() {
        var connection: Connection?
        var started = false
        var last: Int64 = 0
        // Since when the database is away: logged when an outage starts and when it ends, not per retry.
        var lostAt: Date?
        let clock = ContinuousClock()
        var nextAccountCheck = clock.now
        while !stopping.load(ordering: .acquiring) {
            do {
                if connection == nil {
                    let opened = try Connection(configuration.databaseURL)
                    try opened.simpleQuery("SET application_name = '\(APIApplication.relayApplicationName)'")
                    try opened.listen(EventFeed.channel)
                    try opened.listen(UserStore.accessChannel)
                    // Whatever was notified while nobody listened is gone: check every stream now.
                    nextAccountCheck = clock.now
                    if !started {
                        last = try EventFeed(opened).latestID()
                        lastEventID.store(last, ordering: .relaxed)
                        started = true
                    }
                    connection = opened
                    listening.store(true, ordering: .releasing)
                    let outage = lostAt.map { String(Int(Date().timeIntervalSince($0) * 1000)) } ?? "-"
                    lostAt = nil
                    Log.info("relay listening", ["channel": EventFeed.channel, "after_id": String(last), "outage_ms": outage])
                }
                guard let connection else { continue }
                try fanOut(from: connection, after: &last)
                if clock.now >= nextAccountCheck {
                    try endStreamsOfEndedAccounts(on: connection)
                    nextAccountCheck = clock.now + Self.accountCheckInterval
                }
                let wait = min(Duration.seconds(5), max(.zero, nextAccountCheck - clock.now))
                let notifications = try connection.waitForNotifications(timeout: wait, interrupter: interrupter)
                if notifications.contains(where: { $0.channel == UserStore.accessChannel }) { nextAccountCheck = clock.now }
            } catch let error as PostgresError where error.kind == .interrupted {
                continue
            } catch {
                listening.store(false, ordering: .releasing)
                if lostAt == nil {
                    lostAt = Date()
                    Log.error("relay LISTEN connection failed", ["error": "\(error)", "action": "reconnecting every second; streams stay open"])
                }
                connection = nil
                for _ in 0..<10 where !stopping.load(ordering: .acquiring) { usleep(100_000) }
            }
        }
        listening.store(false, ordering: .releasing)
    }

    /// Every event above `last`, in id order, framed once and handed to the fan-out thread.
    private func fanOut(from connection: Connection, after last: inout Int64) throws {
        let feed = EventFeed(connection)
        while true {
            let events = try feed.events(after: last, limit: 1000)
            hub.deliver(events.map { FramedEvent(id: $0.id, ownerID: $0.ownerID, planID: $0.planID, bytes: SSEFrame.frame($0)) })
            if let newest = events.last { last = newest.id }
            lastEventID.store(last, ordering: .relaxed)
            if events.count < 1000 { return }
        }
    }

    /// Ends the open streams whose account was disabled, removed or moved to another token version.
    private func endStreamsOfEndedAccounts(on connection: Connection) throws {
        let streams = hub.openStreams
        guard !streams.isEmpty else { return }
        let ended = try UserStore(connection).revoked(Set(streams.map(\.account)))
        for stream in streams where ended.contains(stream.account) { hub.close(stream, .accessEnded) }
    }

    // MARK: - Accepting

    /// Accepts connections and gives each its own thread.
    func acceptLoop() {
        while !stopping.load(ordering: .acquiring) {
            let request: Request
            do {
                request = try Request(socket: socket)
                try request.accept()
            } catch .listenerShutDown {
                return
            } catch .acceptInterrupted {
                continue
            } catch {
                Log.error("relay accept failed", ["error": error.description])
                usleep(100_000)
                continue
            }
            guard openStreams.load(ordering: .relaxed) < options.maxStreams else {
                respond(request, .problem(Problem(status: 503, type: "too-many-streams", title: "The relay is full.",
                                                  detail: "Too many open event streams; retry shortly.",
                                                  headers: ["Retry-After": "5"])))
                request.finish()
                continue
            }
            openStreams.add(1, ordering: .relaxed)
            startThread("stream") { [self] in
                serve(request)
                request.finish()
                openStreams.subtract(1, ordering: .relaxed)
            }
        }
    }

    // MARK: - Streams

    /// One request on its own thread: health, or an event stream until the client goes away.
    func serve(_ request: Request) {
        let params = request.params
        let path = params.path.count > 1 && params.path.hasSuffix("/") ? String(params.path.dropLast()) : params.path
        switch path {
        case "/health/live":
            respond(request, .json(["status": "ok", "pid": .int(Int64(getpid()))]))
            return
        case "/health/ready", "/health/relay":
            let ready = listening.load(ordering: .acquiring)
            respond(request, .json(["status": .string(ready ? "ready" : "not_ready"), "pid": .int(Int64(getpid())),
                                    "checks": ["listen": ["ok": .bool(ready), "channel": .string(EventFeed.channel)]],
                                    "streams": .int(Int64(hub.count)), "last_event_id": .int(lastEventID.load(ordering: .relaxed))],
                                   status: ready ? 200 : 503))
            return
        default:
            break
        }
        let planID: UUID?
        if path == APIRoutes.prefix + "/events" {
            planID = nil
        } else if let id = Self.planID(inStreamPath: path) {
            planID = id
        } else {
            respond(request, .problem(.noSuchRoute(path)))
            return
        }
        guard params.method == "GET" || params.method == "HEAD" else {
            respond(request, .problem(.methodNotAllowed(params.method, allowed: ["GET"])))
            return
        }
        do {
            let opening = try open(params, planID: planID)
            try stream(request, opening, planID: planID)
        } catch let problem as Problem {
            respond(request, .problem(problem))
        } catch let error as FastCGIError {
            if case .clientGone = error { return }
            Log.warning("stream ended with an error", ["error": error.description])
        } catch let error as PostgresError where error.isConnectionLost {
            respond(request, .problem(.databaseUnavailable()))
        } catch {
            Log.error("stream failed", ["error": "\(error)"])
            respond(request, .problem(.internalError()))
        }
    }

    /// `/api/v1/masterplans/{id}/events` → the id.
    static func planID(inStreamPath path: String) -> UUID? {
        let parts = path.split(separator: "/")
        guard parts.count == 5, "/" + parts[0] + "/" + parts[1] == APIRoutes.prefix, parts[2] == "masterplans",
              parts[4] == "events" else { return nil }
        return UUID(uuidString: String(parts[3]))
    }

    /// Who a stream is for: the account and token version it was opened with, when the token behind
    /// it expires, and where to resume.
    struct Opening {
        var account: AccountVersion
        /// Seconds since 1970.
        var expiresAt: Int64
        var lastEventID: Int64?
    }

    /// Authenticates the stream (the Authorization header, or a ticket, never a token in the URL),
    /// checks the plan is the caller's, reads `Last-Event-ID`. A ticket is spent by this call
    /// whatever the outcome, so it is redeemed last, after every check that needs no database.
    func open(_ params: RequestParams, planID: UUID?) throws -> Opening {
        // Refused even beside other credentials: the client must stop putting tokens in URLs.
        if !params.queryValues("access_token").isEmpty { throw Problem.tokenInURL() }
        var lastEventID: Int64?
        if let text = params.header("last-event-id") ?? params.queryValue("last_event_id"), !text.isEmpty {
            guard let value = Int64(text.trimmingSpaces), value >= 0 else {
                throw Problem.invalidParameter("Last-Event-ID", "Last-Event-ID must be an event id (a whole number)")
            }
            lastEventID = value
        }

        // A ticket, when given, decides (even beside a header): what the URL says is never ignored.
        let tickets = params.queryValues("ticket")
        if tickets.isEmpty, let header = params.header("authorization") {
            let claims = try authenticator.claims(fromAuthorizationHeader: header)
            try pool.withConnection { db in
                let user = try authenticator.user(for: claims, in: UserStore(db))
                if let planID, try PlanQueries(db).plan(id: planID, ownerID: user.id) == nil { throw Problem.notFound("plan") }
            }
            return Opening(account: AccountVersion(userID: claims.subject, tokenVersion: claims.tokenVersion),
                           expiresAt: claims.expiresAt, lastEventID: lastEventID)
        }

        guard let ticket = tickets.first else {
            var problem = Problem.unauthorized()
            problem.detail = "Send the token as 'Authorization: Bearer TOKEN', or open the stream with a single-use ticket "
                + "from POST /api/v1/events/tickets as ?ticket=TICKET."
            throw problem
        }
        guard tickets.count == 1 else { throw Problem.invalidTicket("give one ticket, not \(tickets.count)") }
        guard StreamTicket.isWellFormed(ticket) else { throw Problem.invalidTicket("the ticket is not one this server issues") }
        let now = Int64(time(nil))
        return try pool.withConnection { db -> Opening in
            guard let record = try StreamTicketStore(db).redeem(hash: StreamTicket.hash(ticket)) else {
                throw Problem.invalidTicket("the ticket is unknown or was used already")
            }
            guard record.isUnexpired else { throw Problem.invalidTicket("the ticket has expired") }
            guard record.tokenExpiresAt > now else { throw Problem.invalidTicket("the access token it was issued with has expired") }
            guard record.planID == planID else { throw Problem.invalidTicket("the ticket was issued for another stream") }
            let user = try UserStore(db).user(id: record.userID)
            guard let user, !user.isDisabled else { throw Problem.invalidTicket(Authenticator.accountGone) }
            guard user.tokenVersion == record.tokenVersion else { throw Problem.invalidTicket(Authenticator.versionEnded) }
            if let planID, try PlanQueries(db).plan(id: planID, ownerID: user.id) == nil { throw Problem.notFound("plan") }
            return Opening(account: AccountVersion(userID: user.id, tokenVersion: record.tokenVersion),
                           expiresAt: record.tokenExpiresAt, lastEventID: lastEventID)
        }
    }

    /// Writes the stream: head, `retry:` and the replay after `Last-Event-ID`; then hands it to the
    /// fan-out thread for live events, asks for heartbeats and waits until the client goes away or
    /// the stream must end (its token expires, its account changes, the client is too slow, the
    /// relay stops).
    func stream(_ request: Request, _ opening: Opening, planID: UUID?) throws {
        let stream = EventStream(account: opening.account, expiresAt: opening.expiresAt, planID: planID, request: request)
        let ownerID = opening.account.userID
        let after = opening.lastEventID
        // Registered before the replay query, so an event committed meanwhile is held, not missed.
        hub.add(stream)
        defer { hub.remove(stream) }

        try request.writeHead(status: 200, headers: [("Content-Type", "text/event-stream; charset=utf-8"),
                                                     ("Cache-Control", "no-cache"), ("X-Accel-Buffering", "no")])
        try request.write(SSEFrame.retry(milliseconds: options.retryMilliseconds))
        try request.flush()

        var delivered = after ?? 0
        if let after {
            var cursor = after
            while true {
                let events = try pool.withConnection { db in
                    try EventFeed(db).events(after: cursor, ownerID: ownerID, planID: planID, limit: 500)
                }
                for event in events { try request.write(SSEFrame.frame(event)) }
                if let last = events.last { cursor = last.id }
                try request.flush()
                if events.count < 500 { break }
            }
            delivered = cursor
        }

        guard try !request.isClientGone(), stream.connection >= 0 else { return }
        stream.limitSendTime(milliseconds: Self.sendTimeLimitMilliseconds)
        // From here on only the fan-out thread writes to the request.
        hub.goLive(stream, after: delivered)

        // Woken only by a hang-up, the end signal or the heartbeat timer: never per event.
        var descriptors = [pollfd(fd: stream.connection, events: Int16(POLLIN), revents: 0),
                           pollfd(fd: stream.endDescriptor, events: Int16(POLLIN), revents: 0)]
        let clock = ContinuousClock()
        let interval = Duration.seconds(options.heartbeatSeconds)
        var nextHeartbeat = clock.now + interval
        var expiryAsked = false
        while !stopping.load(ordering: .acquiring) {
            descriptors[0].revents = 0
            descriptors[1].revents = 0
            var timeout = Self.milliseconds(until: nextHeartbeat, clock: clock)
            if !expiryAsked {
                let untilExpiry = Self.milliseconds(untilWallClock: stream.expiresAt)
                if untilExpiry == 0 {
                    // Through the fan-out thread, which may be writing to the request right now.
                    hub.close(stream, .tokenExpired)
                    expiryAsked = true
                } else {
                    timeout = min(timeout, untilExpiry)
                }
            }
            let ready = poll(&descriptors, 2, timeout)
            if ready < 0 {
                if errno == EINTR { continue }
                throw FastCGIError.pollFailed(errno: errno)
            }
            if ready == 0 {
                if clock.now >= nextHeartbeat {
                    hub.heartbeat(stream)
                    nextHeartbeat = clock.now + interval
                }
                continue
            }
            // After the request's input has ended nginx sends nothing more: any event means it closed.
            if descriptors[0].revents != 0, try request.isClientGone() { return }
            // Ended by the fan-out thread (slow client, write failure: it logged why), by stop(), or
            // because the token behind the stream ended.
            if descriptors[1].revents != 0, let reason = stream.endReason {
                if reason == .accessEnded || reason == .tokenExpired {
                    Log.info("stream ended", ["owner": ownerID.uuidString, "plan": planID?.uuidString ?? "all",
                                              "reason": reason == .tokenExpired ? "token expired" : "account changed"])
                }
                return
            }
        }
    }

    /// How long one write to a live stream may block before the stream is dropped as stalled (a
    /// safety net: the fan-out thread writes only what fits).
    static let sendTimeLimitMilliseconds = 500

    /// Milliseconds from now to `seconds` since 1970 by the wall clock (token expiries are wall-clock
    /// times), rounded up, at most a day, for `poll` (0 when it has passed).
    static func milliseconds(untilWallClock seconds: Int64) -> Int32 {
        let left = Double(seconds) - Date().timeIntervalSince1970
        guard left > 0 else { return 0 }
        return Int32(min(86_400_000, (left * 1000).rounded(.up)))
    }

    /// Milliseconds from now to `deadline`, rounded up, for `poll` (0 when it has passed).
    static func milliseconds(until deadline: ContinuousClock.Instant, clock: ContinuousClock) -> Int32 {
        let left = deadline - clock.now
        guard left > .zero else { return 0 }
        return Int32(clamping: left.roundedUpMilliseconds)
    }

    private func respond(_ request: Request, _ response: HTTPResponse) {
        try? request.respond(status: response.status, headers: response.headers, body: response.body)
    }
}
