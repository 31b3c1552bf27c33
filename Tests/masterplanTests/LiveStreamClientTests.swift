import Base
import Foundation
import Store
import Testing
import TestSupport

/// The UI's event stream client (`static/js/events.js`) in node against a scripted server
/// (`Tests/Browser/live_stream_test.mjs`): a fresh single-use ticket for every connection and never
/// the token in the URL, its own reconnection with `?last_event_id=` (EventSource's would reuse the
/// spent ticket), no event lost or shown twice, the session ended by a 401 for a ticket.
@Suite(.dedicatedThreads) struct LiveStreamClientTests {
    @Test func everyConnectionOpensWithAFreshTicketAndResumesWithoutGapOrDuplicate() throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/node") else {
            throw TestFailure("node is not installed at /usr/bin/node: install the Debian package nodejs (make deps)")
        }
        let folder = try TemporaryFolder(prefix: "mplivestream")
        defer { folder.remove() }
        // Copies beside a package.json that makes them ES modules for any node since 18.
        for name in ["events.js", "api.js", "dom.js"] {
            try FileManager.default.copyItem(atPath: TestDatabase.repositoryRoot + "/static/js/" + name, toPath: folder.file(name))
        }
        try #"{"type": "module"}"#.write(toFile: folder.file("package.json"), atomically: false, encoding: .utf8)
        let outcome = try ChildProcess.run(
            "/usr/bin/node", [TestDatabase.repositoryRoot + "/Tests/Browser/live_stream_test.mjs", folder.path],
            outputPath: folder.file("node.out"), environment: ["HOME": folder.path, "PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"])
        #expect(outcome.status == 0, "\(outcome.output)")
        #expect(outcome.output.hasPrefix("ok "), "\(outcome.output)")
    }
}
