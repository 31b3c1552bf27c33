import Base
import Foundation
import JSON
import Postgres
import Store

/// The REST API of one worker: routes a request, authenticates it, runs its handler on the
/// worker's own PostgreSQL connection and turns every error into `application/problem+json`.
///
/// One per worker process, used by that worker's one thread (it owns a `Connection`, which is not
/// shared between threads), so it is deliberately not `Sendable`.
public final class APIApplication {
    public let configuration: APIConfiguration
    let signer: TokenSigner
    let router: Router<APIRoute>
    let migrator: Migrator?
    /// Whole-plan JSON by plan id, at most 4 MiB per worker.
    let treeCache = PlanTreeCache(capacityBytes: 4 << 20)
    private var connection: Connection?
    /// Since when this worker cannot reach the database (nil while it can): an outage is logged
    /// when it starts and when it ends, not at every request it fails.
    private var databaseLostAt: Date?

    public init(configuration: APIConfiguration) {
        self.configuration = configuration
        signer = TokenSigner(secret: configuration.jwtSecret)
        router = Router(APIRoutes.all.filter { $0.handler.run != nil })
        migrator = configuration.migrationsDirectory.flatMap { try? Migrator(directory: $0) }
    }

    /// Opens the database connection now rather than at the first request; a failure is logged and
    /// retried at the next request (requests meanwhile get 503).
    public func connect() {
        _ = try? database()
    }

    /// The worker's connection, opened on first use (and re-opened after it was lost).
    func database() throws(Problem) -> Connection {
        if let connection { return connection }
        do {
            let opened = try Connection(configuration.databaseURL)
            connection = opened
            if let since = databaseLostAt {
                Log.info("database reachable again", ["duration_ms": String(Int(Date().timeIntervalSince(since) * 1000))])
                databaseLostAt = nil
            }
            return opened
        } catch {
            databaseLost(error.description)
            throw .databaseUnavailable()
        }
    }

    /// Drops the connection; logs the start of an outage once.
    private func databaseLost(_ error: String, route: String = "-") {
        connection = nil
        guard databaseLostAt == nil else { return }
        databaseLostAt = Date()
        Log.error("database unreachable", ["error": error, "route": route, "action": "requests get 503 until it answers"])
    }

    /// Answers one request. Never throws: every failure is a problem response.
    public func handle(_ request: HTTPRequest) -> HTTPResponse {
        switch router.match(method: request.method, path: request.path) {
        case .notFound:
            return .problem(.noSuchRoute(request.path))
        case .methodNotAllowed(let allowed):
            return .problem(.methodNotAllowed(request.method, allowed: allowed))
        case .matched(let route, let parameters):
            var response = run(route, parameters: parameters, request: request)
            if request.method == "HEAD" { response.body = [] }
            return response
        }
    }

    private func run(_ route: Route<APIRoute>, parameters: [String: String], request: HTTPRequest) -> HTTPResponse {
        guard let body = route.handler.run else { return .problem(.noSuchRoute(request.path)) }
        do {
            var user: UserRecord?
            var claims: TokenClaims?
            if route.handler.requiresAuth {
                guard let header = request.header("authorization") else { throw Problem.unauthorized() }
                let authenticator = Authenticator(signer: signer)
                claims = try authenticator.claims(fromAuthorizationHeader: header)
                if !route.handler.checksAccountItself, let claims {
                    user = try authenticator.user(for: claims, in: UserStore(try database()))
                }
            }
            return try body(self, RequestContext(request: request, parameters: parameters, user: user, claims: claims))
        } catch let problem as Problem {
            return .problem(problem)
        } catch let error as PostgresError where error.isConnectionLost {
            databaseLost(error.description, route: route.handler.operationID)
            return .problem(.databaseUnavailable())
        } catch let error as PostgresError {
            Log.error("database statement failed", ["route": route.handler.operationID, "error": error.description,
                                                    "db.sqlstate": error.sqlState?.rawValue ?? "-"])
            return .problem(.internalError())
        } catch {
            Log.error("request failed", ["route": route.handler.operationID, "error": "\(error)"])
            return .problem(.internalError())
        }
    }

    /// The plan `{id}` if it is the caller's; 404 otherwise (also for a malformed id).
    func ownedPlan(_ ctx: RequestContext) throws -> PlanRecord {
        let id = try ctx.id(of: "plan")
        guard let plan = try PlanQueries(try database()).plan(id: id, ownerID: ctx.currentUser.id) else {
            throw Problem.notFound("plan")
        }
        return plan
    }
}
