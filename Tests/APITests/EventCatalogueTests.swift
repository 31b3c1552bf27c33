import Base
import Foundation
@testable import API
import JSON
import Store
import TestSupport
import Testing

/// The event names and payloads the server sends (`ProgressEvent`) against the two other places that
/// list them: the OpenAPI document's `Event` schema and the UI's catalogue (`static/js/events.js`,
/// run in node), which must also read the fields the server writes.
@Suite(.dedicatedThreads) struct EventCatalogueTests {
    static let catalogue = ProgressEvent.Kind.allCases.map(\.rawValue)

    @Test func theDocumentsEventTypesAreTheCatalogue() throws {
        let type = try #require(OpenAPIDocument.document["components"]?["schemas"]?["Event"]?["properties"]?["type"])
        #expect(type["enum"] == JSONValue(Self.catalogue))
    }

    /// What node prints for `events` through `Tests/Browser/event_catalogue.mjs`.
    static func ui(describing events: [JSONValue]) throws -> (types: [String], descriptions: [String]) {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/node") else {
            throw TestFailure("node is not installed at /usr/bin/node: install the Debian package nodejs (make deps)")
        }
        let folder = try TemporaryFolder(prefix: "mpcatalogue")
        defer { folder.remove() }
        for name in ["events.js", "api.js", "dom.js"] {
            try FileManager.default.copyItem(atPath: TestDatabase.repositoryRoot + "/static/js/" + name, toPath: folder.file(name))
        }
        try #"{"type": "module"}"#.write(toFile: folder.file("package.json"), atomically: false, encoding: .utf8)
        try JSONValue.array(events).serialized().write(toFile: folder.file("events.json"), atomically: false, encoding: .utf8)
        let outcome = try ChildProcess.run(
            "/usr/bin/node", [TestDatabase.repositoryRoot + "/Tests/Browser/event_catalogue.mjs", folder.path, folder.file("events.json")],
            outputPath: folder.file("node.out"), environment: ["HOME": folder.path, "PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"])
        guard outcome.status == 0, let printed = try? JSONValue.parse(outcome.output),
              let types = printed["types"]?.arrayValue?.compactMap(\.stringValue),
              let descriptions = printed["descriptions"]?.arrayValue?.compactMap(\.stringValue) else {
            throw TestFailure("node failed (status \(outcome.status)): \(outcome.output)")
        }
        return (types, descriptions)
    }

    /// An event as the SSE stream frames it (`EventFeed`'s JSON).
    static func framed(_ event: ProgressEvent, id: Int = 1) -> JSONValue {
        ["id": JSONValue(id), "plan_id": "aaaaaaaa-0000-4000-8000-000000000001", "type": .string(event.kind.rawValue),
         "created_at": "2026-12-06T12:00:00+00:00", "data": .object(event.payload)]
    }

    @Test func theUIListensForExactlyTheCatalogue() throws {
        #expect(try Self.ui(describing: []).types == Self.catalogue)
    }

    /// The UI read `total_tasks` from `masterplan_generation_complete`, where the server writes `tasks`,
    /// so a finished plan never said how many tasks it had.
    @Test func aGeneratedPlansMessageCountsTheTasksTheServerSends() throws {
        let complete = ProgressEvent.masterplanGenerationComplete(.init(version: 1, projectName: "todo-api", tasks: 7, tests: 3,
                                                                        testsThatCannotFail: [], estimatedCostUSD: 0.42))
        let status = ProgressEvent.planStatusChanged(.init(from: .draft, to: .approved, action: .approve, frozenTests: 3, version: 2))
        let warning = ProgressEvent.costWarning(.init(spentUSD: 4, budgetUSD: 5, threshold: 0.8))
        let wave = ProgressEvent.waveExecutionStart(.init(wave: 2, atomCount: 3, totalWaves: 4))
        let reply = ProgressEvent.chatReplyProgress(.init(conversationID: UUID(), messageID: UUID(), text: "Hello"))
        let descriptions = try Self.ui(describing: [complete, status, warning, wave, reply].map { Self.framed($0) }).descriptions
        #expect(descriptions == [
            "Plan ready with 7 tasks.",
            "Status draft → approved.",
            "Cost warning: $4.00 of $5.00 spent.",
            "Wave 2 started (3 atoms).",
            "MasterPlan is writing a reply (5 characters so far).",
        ])
    }
}
