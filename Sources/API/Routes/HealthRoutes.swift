import Glibc
import JSON
import Postgres
import Store

extension APIApplication {
    /// `GET /health/live`: this worker answers; nothing else is checked (a supervisor restarts a
    /// worker that does not answer, it should not restart one because PostgreSQL is down).
    func live() -> HTTPResponse {
        .json(["status": "ok", "pid": .int(Int64(getpid()))])
    }

    /// The `application_name` the SSE relay gives its LISTEN connection, so that `/health/ready` of
    /// an API worker (which cannot see the relay process) can find it in `pg_stat_activity`.
    public static let relayApplicationName = "masterplan-relay"

    /// `GET /health/ready`: 200 when this worker can serve requests — the database answers and the
    /// schema is exactly at the migration files' state — and 503 otherwise, with every check listed.
    ///
    /// The relay's LISTEN is reported (`checks.relay`) but does not decide readiness: the API serves
    /// every REST route without it, and a load balancer should not take API hosts out of service
    /// because the relay (a separate process, maybe on another host) is down. The status is then
    /// `degraded` instead of `ready`; the relay answers its own readiness on its socket.
    func ready() -> HTTPResponse {
        var checks: JSONObject = [:]
        var ready = true
        var degraded = false
        do {
            let db = try database()
            try db.simpleQuery("SELECT 1")
            checks["database"] = ["ok": true]
            if let migrator {
                let status = try migrator.status(on: db)
                checks["migrations"] = [
                    "ok": .bool(status.isCurrent), "applied": .int(Int64(status.applied.count)),
                    "pending": JSONValue(status.pending.map(\.name)), "edited": JSONValue(status.edited.map(\.file)),
                ]
                ready = ready && status.isCurrent
            } else {
                checks["migrations"] = ["ok": false, "error": "the Migrations folder was not found (set MASTERPLAN_MIGRATIONS_DIR)"]
                ready = false
            }
            let listeners = try db.query(
                "SELECT count(*) FROM pg_stat_activity WHERE application_name = $1 AND datname = current_database()",
                [Self.relayApplicationName]).first!.decode(Int.self, 0)
            checks["relay"] = ["ok": .bool(listeners > 0), "listen_connections": .int(Int64(listeners)), "decides_readiness": false]
            degraded = listeners == 0
        } catch let problem as Problem {
            checks["database"] = ["ok": false, "error": .string(problem.title)]
            ready = false
        } catch {
            checks["database"] = ["ok": false, "error": .string("\(error)")]
            ready = false
        }
        let status = !ready ? "not_ready" : (degraded ? "degraded" : "ready")
        var body: JSONObject = ["status": .string(status), "pid": .int(Int64(getpid())), "checks": .object(checks)]
        for (key, value) in modelDisclosure(includeName: configuration.demoModel) { body[key] = value }
        return .json(.object(body), status: ready ? 200 : 503)
    }

    /// What the UI shows about the model: `demo_model` (true when a scripted demo model answers, so
    /// nobody mistakes its plans for a real model's) and, when known and `includeName`, `model`.
    /// The unauthenticated readiness answer names the model only in demo mode.
    func modelDisclosure(includeName: Bool) -> JSONObject {
        var fields: JSONObject = ["demo_model": .bool(configuration.demoModel)]
        if includeName, let model = configuration.modelName { fields["model"] = .string(model) }
        return fields
    }

    /// `GET /me`: the logged-in user, with `demo_model` and `model` (see `modelDisclosure`).
    func meWithModel(_ ctx: RequestContext) -> HTTPResponse {
        guard case .object(var user) = ctx.currentUser.jsonValue else { return me(ctx) }
        for (key, value) in modelDisclosure(includeName: true) { user[key] = value }
        return .json(.object(user))
    }
}
