import API
import Testing
import TestSupport

@Suite(.dedicatedThreads) struct RouterTests {
    let router = Router<String>([
        Route("GET", "/api/v1/masterplans", "list"),
        Route("POST", "/api/v1/masterplans", "create"),
        Route("GET", "/api/v1/masterplans/{id}", "get"),
        Route("GET", "/api/v1/masterplans/{id}/status", "status"),
        Route("PATCH", "/api/v1/masterplans/{id}/tasks/{number}", "edit"),
        Route("GET", "/api/v1/reviews/{id}", "review"),
        Route("GET", "/api/v1/reviews/pending", "pending"),
    ])

    func name(_ method: String, _ path: String) -> String? {
        if case .matched(let route, _) = router.match(method: method, path: path) { return route.handler }
        return nil
    }

    @Test(arguments: [
        ("GET", "/api/v1/masterplans", "list"), ("POST", "/api/v1/masterplans", "create"),
        ("GET", "/api/v1/masterplans/abc", "get"), ("GET", "/api/v1/masterplans/abc/status", "status"),
        ("PATCH", "/api/v1/masterplans/abc/tasks/3", "edit"), ("GET", "/api/v1/masterplans/", "list"),
        ("HEAD", "/api/v1/masterplans/abc", "get"), ("get", "/api/v1/masterplans", "list"),
    ])
    func matchesMethodAndTemplate(_ method: String, _ path: String, _ expected: String) {
        #expect(name(method, path) == expected)
    }

    @Test func bindsPathParameters() throws {
        guard case .matched(_, let parameters) = router.match(method: "PATCH", path: "/api/v1/masterplans/p-1/tasks/12") else {
            Issue.record("no match")
            return
        }
        #expect(parameters == ["id": "p-1", "number": "12"])
    }

    @Test func fixedSegmentsWinOverParameters() {
        #expect(name("GET", "/api/v1/reviews/pending") == "pending")
        #expect(name("GET", "/api/v1/reviews/other") == "review")
    }

    @Test func knownPathWithOtherMethodIs405WithTheAllowedMethods() {
        guard case .methodNotAllowed(let allowed) = router.match(method: "DELETE", path: "/api/v1/masterplans") else {
            Issue.record("expected methodNotAllowed")
            return
        }
        #expect(Set(allowed) == ["GET", "POST", "HEAD"])
    }

    @Test(arguments: ["/", "/api/v1", "/api/v1/masterplans/a/b", "/api/v1//masterplans", "/api/v2/masterplans",
                      "/api/v1/masterplans/abc/status/extra"])
    func unknownPathsAreNotFound(_ path: String) {
        guard case .notFound = router.match(method: "GET", path: path) else {
            Issue.record("\(path) should not match")
            return
        }
    }
}
