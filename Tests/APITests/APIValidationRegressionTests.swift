import API
import Foundation
import JSON
import PlanCore
import Postgres
import Store
import TestSupport
import Testing

/// Client values that reached a statement as a failed cast or a broken constraint and answered 500:
/// each is now refused before any SQL sees it, with a 4xx problem naming the parameter or field,
/// and changes nothing. One test per bug, through the real workers behind nginx.
@Suite(.serialized) struct APIValidationRegressionTests {
    let stack: APIStack

    init() throws {
        stack = try SharedStack.get()
    }

    /// A cursor as a client could forge one: base64url of any JSON text.
    static func cursor(_ json: String) -> String { Base64URL.encode(json) }

    /// The problem+json body of a 400 naming `parameter`.
    func expectInvalidParameter(_ response: APIResponse, _ parameter: String, _ label: String,
                                sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(response.status == 400, "\(label): \(response.status) \(response.text)", sourceLocation: sourceLocation)
        #expect(response.headers["content-type"] == "application/problem+json", "\(label)", sourceLocation: sourceLocation)
        #expect(response.problemType == "invalid-parameter", "\(label): \(response.text)", sourceLocation: sourceLocation)
        #expect(response["parameter"]?.stringValue == parameter, "\(label): \(response.text)", sourceLocation: sourceLocation)
        #expect(response["status"]?.intValue == 400, "\(label)", sourceLocation: sourceLocation)
    }

    // MARK: - Cursors

    @Test func forgedCursorsAre400NotAFailedCast() throws {
        let user = try stack.user()
        let db = try stack.database()
        let planID = try PlanFixture.insert(db, owner: user.id, status: .executing)
        try PlanFixture.addExecution(db, planID: planID)
        let plan = "/api/v1/masterplans/\(planID.uuidString.lowercased())"
        let uuid = UUID().uuidString.lowercased()
        // Each list with cursors of the right length whose values PostgreSQL cannot cast (or that
        // are outside the column's range), and cursors of the wrong shape.
        let cases: [(path: String, cursors: [String])] = [
            ("/api/v1/masterplans", [#"["not a time","\#(uuid)"]"#, #"["2026-02-30 10:00:00+00","\#(uuid)"]"#,
                                     #"["2026-01-01 10:00:00+00","not-a-uuid"]"#, #"["0000-01-01 00:00:00+00","\#(uuid)"]"#,
                                     #"["2026-01-01 24:00:00+00","\#(uuid)"]"#, #"["infinity","\#(uuid)"]"#,
                                     #"[1,2]"#, #"["a"]"#, #"{"a":1}"#, #"["2026-01-01 10:00:00+00",null]"#]),
            ("/api/v1/conversations", [#"["yesterday","\#(uuid)"]"#, #"["2026-01-01 10:00:00+00","x"]"#]),
            ("/api/v1/reviews", [#"["2026-13-01 10:00:00+00","\#(uuid)"]"#, #"["2026-01-01 10:00:00+00","\#(uuid)x"]"#]),
            (plan + "/versions", [#"["abc"]"#, #"["99999999999"]"#, #"["1.5"]"#, #"["0"]"#]),
            (plan + "/history", [#"["abc"]"#, #"["99999999999999999999"]"#, #"["-1"]"#]),
            (plan + "/atoms", [#"["x","1","a.py"]"#, #"["1","99999999999","a.py"]"#, #"["-1","1","a.py"]"#, #"["1","1"]"#]),
        ]
        for (path, cursors) in cases {
            for json in cursors {
                let response = try stack.call("GET", path + "?cursor=" + Self.cursor(json), token: user.token)
                expectInvalidParameter(response, "cursor", "\(path) cursor \(json)")
            }
        }
        // A cursor a list really returned still works.
        let first = try stack.call("GET", plan + "/atoms?limit=1", token: user.token)
        let next = try #require(first["next_cursor"]?.stringValue)
        #expect(try stack.call("GET", plan + "/atoms?limit=1&cursor=" + next, token: user.token).status == 200)
    }
}
