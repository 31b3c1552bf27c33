import Base
import Foundation
import JSON
import Postgres
import Store
import TestSupport
import Testing

/// Every JSON `GET` of the served OpenAPI document, asked through nginx and the worker pool about a
/// seeded world (`Tests/Browser/fixtures/seed_plan.sql`: an executing plan with its discovery, waves,
/// atoms, test runs, gate results, a pending review, versions, history and costs; a draft; a plan
/// still generating; a conversation), answers with a status the operation documents and a body that
/// fits the schema the document gives for that status. The response shapes are written twice, in SQL
/// and in the document; this is what keeps them the same.
@Suite(.dedicatedThreads, .serialized) struct DocumentedResponsesEndToEndTests {
    let stack: APIStack

    init() throws {
        stack = try SharedStack.get()
    }

    /// The seed's fixed ids (`\set` at its top).
    static let executingPlan = "aaaaaaaa-0000-4000-8000-000000000001"
    static let draftPlan = "bbbbbbbb-0000-4000-8000-000000000001"
    static let generatingPlan = "cccccccc-0000-4000-8000-000000000001"
    static let conversation = "c0000000-0000-4000-8000-000000000001"

    /// Seeds the world for an admin account (so the account routes answer too); returns its id and token.
    func seed() throws -> (id: UUID, token: String) {
        let email = "documented-\(UUID().uuidString.prefix(8).lowercased())@example.org"
        let id = try stack.addUser(email, role: "admin")
        let folder = try TemporaryFolder(prefix: "mpseed")
        defer { folder.remove() }
        let conninfo = stack.conninfo
        let outcome = try ChildProcess.run(
            "/usr/bin/psql",
            ["-X", "-q", "-v", "ON_ERROR_STOP=1", "-v", "email=\(email)", "-v", "workspace=\(folder.path)",
             "-f", TestDatabase.repositoryRoot + "/Tests/Browser/fixtures/seed_plan.sql", conninfo],
            outputPath: folder.file("psql.out"), environment: ["PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"])
        guard outcome.status == 0, !outcome.output.contains("already seeded") else {
            throw TestFailure("seeding failed (status \(outcome.status)): \(outcome.output)")
        }
        // The seeded plans are the new account's; a pending review's execution job exists already.
        return (id, try stack.login(email))
    }

    @Test func everyJSONReadAnswersWhatTheDocumentSays() throws {
        let user = try seed()
        let db = try stack.database()
        let atom = try #require(try db.query("SELECT id FROM atoms WHERE plan_id = $1 ORDER BY wave, file_path LIMIT 1",
                                             [UUID(uuidString: Self.executingPlan)!]).first?.decode(UUID.self, 0))
        let review = try #require(try db.query("SELECT id FROM reviews WHERE plan_id = $1 ORDER BY created_at LIMIT 1",
                                               [UUID(uuidString: Self.executingPlan)!]).first?.decode(UUID.self, 0))
        let document = try #require(try stack.call("GET", "/api/v1/openapi.json").json)
        let validator = OpenAPISchemas(document: document)

        // Each path parameter of a template, with the ids to ask about; a plan route is asked about
        // the plan in each of the three states.
        func ids(for template: String) -> [String]? {
            if template.hasPrefix("/api/v1/masterplans/{id}") { return [Self.executingPlan, Self.draftPlan, Self.generatingPlan] }
            if template.hasPrefix("/api/v1/atoms/{id}") { return [atom.uuidString.lowercased()] }
            if template.hasPrefix("/api/v1/reviews/{id}") { return [review.uuidString.lowercased()] }
            if template.hasPrefix("/api/v1/conversations/{id}") { return [Self.conversation] }
            if template.hasPrefix("/api/v1/users/{id}") { return [user.id.uuidString.lowercased()] }
            return template.contains("{") ? nil : [""]
        }

        // The reads of a running plan that must succeed, by template.
        let mustSucceed: Set<String> = [
            "/api/v1/me", "/api/v1/masterplans", "/api/v1/masterplans/{id}", "/api/v1/masterplans/{id}/discovery",
            "/api/v1/masterplans/{id}/status", "/api/v1/masterplans/{id}/versions", "/api/v1/masterplans/{id}/history",
            "/api/v1/masterplans/{id}/waves", "/api/v1/masterplans/{id}/atoms", "/api/v1/atoms/{id}",
            "/api/v1/masterplans/{id}/acceptance-tests", "/api/v1/masterplans/{id}/gate", "/api/v1/masterplans/{id}/evidence",
            "/api/v1/reviews", "/api/v1/reviews/{id}", "/api/v1/usage", "/api/v1/conversations", "/api/v1/conversations/{id}",
        ]
        var asked: Set<String> = []
        var failures: [String] = []
        for operation in try DocumentedOperation.all(in: document)
        where operation.method == "GET" && operation.successContentType == "application/json" {
            guard let values = ids(for: operation.template) else {
                failures.append("\(operation.key): no seeded id for its path parameter")
                continue
            }
            for value in values {
                let path = operation.template.replacingOccurrences(of: "{id}", with: value)
                let response = try stack.call("GET", path, token: operation.requiresAuth ? user.token : nil)
                asked.insert(operation.template)
                if value == values.first, mustSucceed.contains(operation.template), response.status != operation.successStatus {
                    failures.append("GET \(path): \(response.status), not \(operation.successStatus): \(response.text.prefix(300))")
                }
                let answer = document["paths"]?[operation.template]?["get"]?["responses"]?[String(response.status)]
                guard let content = answer?["content"]?.objectValue else {
                    failures.append("GET \(path): the status \(response.status) is not documented")
                    continue
                }
                let type = response.headers["content-type"].map { String($0.prefix { $0 != ";" }) } ?? ""
                guard let schema = content[type]?["schema"] else {
                    failures.append("GET \(path): \(response.status) as \(type), which the document does not list (\(content.keys))")
                    continue
                }
                guard let body = response.json else {
                    failures.append("GET \(path): \(response.status) without a JSON body")
                    continue
                }
                for error in validator.errors(body, against: schema) {
                    failures.append("GET \(path) \(response.status): \(error)")
                }
            }
        }
        #expect(mustSucceed.subtracting(asked).isEmpty, "not in the document: \(mustSucceed.subtracting(asked).sorted())")
        #expect(failures.isEmpty, "\(failures.joined(separator: "\n"))")
    }
}
