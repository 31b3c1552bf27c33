import API
import Foundation
import JSON
import Testing
import TestSupport

/// What the application answers before it needs the database: routing, authentication, bodies.
@Suite(.dedicatedThreads) struct APIApplicationTests {
    static let secret = Array("application-test-secret-of-32-bytes!!".utf8)
    // No database behind it: these requests must be answered before one is needed.
    let app = APIApplication(configuration: APIConfiguration(databaseURL: "host=/nonexistent port=1 dbname=none",
                                                             jwtSecret: Self.secret))

    func problem(_ response: HTTPResponse) throws -> JSONValue {
        #expect(response.header("Content-Type") == "application/problem+json")
        return try JSONValue.parse(response.body)
    }

    @Test func unknownPathIs404Problem() throws {
        let response = app.handle(HTTPRequest(method: "GET", path: "/api/v1/nothing"))
        #expect(response.status == 404)
        #expect(try problem(response)["type"]?.stringValue == Problem.typeBase + "no-such-route")
    }

    @Test func wrongMethodIs405WithAllow() throws {
        let response = app.handle(HTTPRequest(method: "DELETE", path: "/api/v1/masterplans"))
        #expect(response.status == 405)
        #expect(response.header("Allow")?.contains("POST") == true)
        #expect(try problem(response)["type"]?.stringValue == Problem.typeBase + "method-not-allowed")
    }

    @Test func missingTokenIs401WithChallenge() throws {
        let response = app.handle(HTTPRequest(method: "GET", path: "/api/v1/me"))
        #expect(response.status == 401)
        #expect(response.header("WWW-Authenticate")?.hasPrefix("Bearer") == true)
        #expect(try problem(response)["type"]?.stringValue == Problem.typeBase + "unauthorized")
    }

    @Test(arguments: ["Bearer nonsense", "Basic YWxhZGRpbjpvcGVuc2VzYW1l", "Bearer a.b.c",
                      "Bearer " + TokenSigner(secret: Array("a different secret that is long enough".utf8))
                        .sign(TokenClaims(subject: UUID(), email: "x@y.z", role: "member", tokenVersion: 1, issuedAt: 0, expiresAt: Int64.max / 2))])
    func invalidTokensAre401(_ authorization: String) throws {
        let response = app.handle(HTTPRequest(method: "GET", path: "/api/v1/masterplans", headers: ["Authorization": authorization]))
        #expect(response.status == 401)
        #expect(try problem(response)["type"]?.stringValue == Problem.typeBase + "invalid-token")
    }

    @Test func malformedJSONIs400WithLineAndColumn() throws {
        let body = Array("{\n  \"email\": \"a@b.c\",\n  \"password\": }".utf8)
        let response = app.handle(HTTPRequest(method: "POST", path: "/api/v1/auth/login",
                                              headers: ["Content-Type": "application/json"], body: body))
        #expect(response.status == 400)
        let json = try problem(response)
        #expect(json["type"]?.stringValue == Problem.typeBase + "malformed-json")
        #expect(json["line"]?.intValue == 3)
        #expect(json["column"] != nil)
    }

    @Test func missingFieldsAre422ListingEach() throws {
        let response = app.handle(HTTPRequest(method: "POST", path: "/api/v1/auth/login",
                                              headers: ["Content-Type": "application/json"], body: Array(#"{"extra": 1}"#.utf8)))
        #expect(response.status == 422)
        let fields = try problem(response)["errors"]?.arrayValue?.compactMap { $0["field"]?.stringValue } ?? []
        #expect(Set(fields) == ["extra", "email", "password"])
    }

    @Test func nonJSONBodyIs415() {
        let response = app.handle(HTTPRequest(method: "POST", path: "/api/v1/auth/login",
                                              headers: ["Content-Type": "text/plain"], body: Array("hi".utf8)))
        #expect(response.status == 415)
    }

    @Test func liveAndOpenAPINeedNeitherTokenNorDatabase() throws {
        #expect(app.handle(HTTPRequest(method: "GET", path: "/health/live")).status == 200)
        let openapi = app.handle(HTTPRequest(method: "GET", path: "/api/v1/openapi.json"))
        #expect(openapi.status == 200)
        #expect(try JSONValue.parse(openapi.body)["openapi"]?.stringValue == "3.1.0")
    }

    @Test func readinessIs503WhenTheDatabaseIsUnreachable() throws {
        let response = app.handle(HTTPRequest(method: "GET", path: "/health/ready"))
        #expect(response.status == 503)
        #expect(try JSONValue.parse(response.body)["checks"]?["database"]?["ok"] == .bool(false))
    }
}

@Suite(.dedicatedThreads) struct ConfigurationTests {
    @Test func missingSecretNamesTheVariable() {
        #expect(throws: ConfigurationError.self) { try APIConfiguration.jwtSecret(from: [:]) }
        do {
            _ = try APIConfiguration.jwtSecret(from: ["MASTERPLAN_JWT_SECRET": "short"])
            Issue.record("a short secret was accepted")
        } catch {
            #expect(error.description.hasPrefix("MASTERPLAN_JWT_SECRET is 5 bytes long"))
            #expect(!error.description.contains("\n"))
        }
    }

    @Test func secretOf32BytesIsAccepted() throws {
        #expect(try APIConfiguration.jwtSecret(from: ["MASTERPLAN_JWT_SECRET": String(repeating: "k", count: 32)]).count == 32)
    }

    /// A default budget outside what a plan may have would make every plan without one fail.
    @Test(arguments: ["lots", "0", "-5", "0.001", "1e9", "100000000", "nan", "inf"])
    func badBudgetNamesTheVariable(_ budget: String) {
        do {
            _ = try APIConfiguration.fromEnvironment(["MASTERPLAN_JWT_SECRET": String(repeating: "k", count: 40),
                                                      "MASTERPLAN_BUDGET_USD": budget], databaseURL: "x", migrationsDirectory: nil)
            Issue.record("a bad budget was accepted")
        } catch {
            #expect(error.variable == "MASTERPLAN_BUDGET_USD")
        }
    }
}

@Suite(.dedicatedThreads) struct PageCursorTests {
    @Test func roundTripsKeys() {
        let keys = ["2026-11-25 08:02:45.123456+00", "6f1c3c1e-5b1f-4a36-9d7e-0c6a1f0e2b11"]
        #expect(PageCursor.decode(PageCursor.encode(keys)) == keys)
    }

    @Test(arguments: ["", "not base64!", Base64URL.encode("{}"), Base64URL.encode("[1,2]")])
    func rejectsForeignCursors(_ cursor: String) {
        #expect(PageCursor.decode(cursor) == nil)
    }
}

/// The workspace archive is named after the project, whose name the model wrote: nothing in it may
/// reach the Content-Disposition header or the archive's folder name but letters, digits, `.`, `_`, `-`.
@Suite(.dedicatedThreads) struct ArchiveNameTests {
    static let plan = UUID(uuidString: "0f0f0f0f-0000-4000-8000-000000000001")!

    @Test(arguments: [
        ("fastapi-jwt-auth", "fastapi-jwt-auth"),
        ("Notes API", "notes-api"),
        ("../../etc/passwd", "etc-passwd"),
        ("x\"; filename=evil.sh\r\nSet-Cookie: a=b", "x-filename-evil.sh-set-cookie-a-b"),
        ("csv2json_v1.0", "csv2json_v1.0"),
        ("Überweisung", "berweisung"),
        ("...", "masterplan-0f0f0f0f-0000-4000-8000-000000000001"),
        ("", "masterplan-0f0f0f0f-0000-4000-8000-000000000001"),
    ])
    func theNameIsSafe(_ sample: (String, String)) {
        #expect(APIApplication.archiveName(projectName: sample.0, planID: Self.plan) == sample.1)
    }

    @Test func noNameUsesThePlanID() {
        #expect(APIApplication.archiveName(projectName: nil, planID: Self.plan) == "masterplan-0f0f0f0f-0000-4000-8000-000000000001")
        #expect(APIApplication.archiveName(projectName: String(repeating: "a", count: 300), planID: Self.plan).count == 80)
    }
}
