import Base
import Foundation
import Store
import Testing
import TestSupport

/// The review UI in Debian's headless chromium against a stack started by `masterplan up` with the
/// demo model: log in, submit the demo request, watch the plan appear live, approve it, watch the
/// waves complete live, resolve the review, see `completed`, download the workspace — then a tour of
/// every page at desktop and phone width with the keyboard checks. Screenshots of each page are kept
/// in `test-artifacts/browser/` of the checkout.
@Suite(.dedicatedThreads, .serialized) struct BrowserDemoTests {
    static let artifacts = TestDatabase.repositoryRoot + "/test-artifacts/browser"

    @Test func theDemoRunsToCompletedInTheBrowserAndEveryPageRenders() throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/chromium") else {
            throw TestFailure("chromium is not installed at /usr/bin/chromium: install the Debian package chromium (make deps)")
        }
        let folder = try TemporaryFolder(prefix: "mpbrowser")
        defer { folder.remove() }
        let dataDirectory = folder.file("data")
        let run = try UpCommandTests.Run(folder: folder, dataDirectory: dataDirectory, name: "up")
        defer { if run.process.isRunning { _ = run.interrupt() } }
        try run.waitUntilReady()
        #expect(run.output.contains("A SCRIPTED DEMO MODEL is answering"), "\(run.output)")
        let passwordLine = try #require(run.output.split(separator: "\n").first { $0.contains("password: ") }, "\(run.output)")
        let password = String(passwordLine.split(separator: " ").last!)

        try? FileManager.default.removeItem(atPath: Self.artifacts)
        try FileManager.default.createDirectory(atPath: Self.artifacts, withIntermediateDirectories: true)
        let script = TestDatabase.repositoryRoot + "/Tests/Browser/browser_test.py"
        let outcome = try ChildProcess.run(
            "/usr/bin/python3",
            [script, "--base-url", "http://127.0.0.1:\(run.port)", "--email", "admin@localhost", "--password", password,
             "--screenshots", Self.artifacts, "--flow", "demo,tour,mutate", "--demo-timeout", "900", "-v"],
            outputPath: folder.file("browser.out"),
            environment: ["HOME": folder.path, "PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"])
        try? outcome.output.write(toFile: Self.artifacts + "/browser_test.log", atomically: true, encoding: .utf8)
        #expect(outcome.status == 0, "browser flows failed:\n\(outcome.output)\n--- masterplan up ---\n\(run.output)")
        #expect(outcome.output.contains("demo completed"), "\(outcome.output)")

        let screenshots = (try? FileManager.default.contentsOfDirectory(atPath: Self.artifacts))?.filter { $0.hasSuffix(".png") } ?? []
        #expect(screenshots.contains { $0.contains("demo-completed") })
        #expect(screenshots.count >= 20, "screenshots kept: \(screenshots.sorted())")
        let downloads = (try? FileManager.default.contentsOfDirectory(atPath: Self.artifacts + "/downloads")) ?? []
        #expect(downloads.contains { $0.hasSuffix(".tar.gz") }, "the workspace archive was downloaded: \(downloads)")

        #expect(run.interrupt() == 0, "\(run.output)")
        UpCommandTests.expectNothingLeft(run, dataDirectory: dataDirectory)
    }
}
