@testable import Engine
import Foundation
import JSON
import PlanCore
import Postgres
import Testing
import TestSupport

/// The dependency-install step against hostile packages from a package index (a local one the test
/// serves, reached through `PIP_INDEX_URL` as a sysadmin's mirror would be), and against a workspace
/// whose engine folder a box once controlled. Nothing a package holds may run, and nothing outside
/// the install's own folder may change.
extension ExecutionHandlerTests {
    /// The plan's last install event: its name and data.
    private func installEvent(_ plan: UUID) throws -> (String, JSONValue) {
        let row = try #require(try connection.query(
            "SELECT event, data FROM plan_history WHERE plan_id = $1 AND event LIKE 'dependenc%' ORDER BY id DESC LIMIT 1", [plan]).first)
        return (try row.decode(String.self, 0), try row.decode(JSONValue.self, 1))
    }

    /// A package that only has a source distribution would run its `setup.py` to build: it is never
    /// downloaded as such, the step fails naming the package, and the build code never ran.
    @Test func aPackageWithoutAWheelIsRefusedByNameAndItsBuildCodeNeverRuns() async throws {
        let marker = "/tmp/masterplan-sdist-ran-\(UInt32.random(in: 0 ... .max))"
        let index = try LocalPackageIndex([
            .init(name: "evil-sdist", version: "1.0",
                  kind: .sourceDistribution(buildCode: "import pathlib; pathlib.Path(\(marker.debugDescription)).write_text('ran')")),
        ])
        defer { index.stop() }
        let plan = try await harness.approvedPlan()
        try await harness.execute(ExecutionHarness.atoms())
        try "evil-sdist==1.0\n".write(toFile: harness.workspace(plan) + "/requirements.txt", atomically: true, encoding: .utf8)
        _ = try await installDependencies(of: plan, index: index.url)
        let (event, data) = try installEvent(plan)
        #expect(event == "dependency_install_failed")
        let reason = data["reason"]?.stringValue ?? ""
        #expect(reason.contains("no built wheel of evil-sdist==1.0"), "\(data.jsonText)")
        #expect(!FileManager.default.fileExists(atPath: marker), "the source distribution's build code ran")
        #expect(!FileManager.default.fileExists(atPath: harness.workspace(plan) + "/.masterplan/site-packages"))
    }

    /// A wheel whose archive names a path outside the install folder, and one that ships a `.pth` start-up
    /// hook: the first changes nothing outside (the install box can write only its own folder, and pip
    /// refuses the path), the second installs but its hook never runs, at install or in the tests.
    @Test func aWheelCannotWriteOutsideItsFolderNorRunCodeOnInstall() async throws {
        let escape = "masterplan-wheel-escape-\(UInt32.random(in: 0 ... .max))"
        let hook = "/tmp/masterplan-pth-ran-\(UInt32.random(in: 0 ... .max))"
        let index = try LocalPackageIndex([
            .init(name: "escape-wheel", version: "1.0",
                  kind: .wheel(files: ["escape_wheel/__init__.py": "", "../../../../../../../../tmp/\(escape)": "x\n"])),
            .init(name: "hook-wheel", version: "1.0",
                  kind: .wheel(files: ["hook_wheel/__init__.py": "VALUE = 42\n",
                                       "hook_wheel.pth": "import pathlib; pathlib.Path(\(hook.debugDescription)).write_text('ran')\n"])),
        ])
        defer { index.stop() }
        let plan = try await harness.approvedPlan()
        try await harness.execute(ExecutionHarness.atoms())
        let workspace = harness.workspace(plan)
        try "escape-wheel==1.0\n".write(toFile: workspace + "/requirements.txt", atomically: true, encoding: .utf8)
        let run = try await installDependencies(of: plan, index: index.url)
        #expect(!FileManager.default.fileExists(atPath: "/tmp/" + escape), "a wheel wrote outside its folder")
        #expect(!FileManager.default.fileExists(atPath: workspace + "/" + escape))
        #expect(try installEvent(plan).0 == "dependency_install_failed")

        try "hook-wheel==1.0\n".write(toFile: workspace + "/requirements.txt", atomically: true, encoding: .utf8)
        try await run.installDependencies()
        let (event, data) = try installEvent(plan)
        #expect(event == "dependencies_installed", "\(data.jsonText)")
        #expect(FileManager.default.fileExists(atPath: workspace + "/.masterplan/site-packages/hook_wheel/__init__.py"))
        #expect(!FileManager.default.fileExists(atPath: hook), "the .pth hook ran at install")
        // An acceptance test imports the package from the read-only folder; the hook still never runs.
        let code = "from hook_wheel import VALUE\n\ndef test_value():\n    assert VALUE == 42\n"
        try FileManager.default.createDirectory(atPath: workspace + "/tests", withIntermediateDirectories: true)
        try code.write(toFile: workspace + "/tests/test_hook.py", atomically: true, encoding: .utf8)
        var runner = AcceptanceTestRunner(sandbox: try Sandbox(), interpreters: .locate())
        runner.environment = run.testEnvironment
        runner.dependencies = run.testEnvironment["PYTHONPATH"]
        let result = runner.run(AcceptanceTest(name: "hook", priority: .must, covers: [0], file: "tests/test_hook.py", code: code),
                                in: try Workspace.open(at: workspace))
        #expect(result.outcome == .pass, "\(result.reason ?? "") \(result.output)")
        #expect(!FileManager.default.fileExists(atPath: hook), "the .pth hook ran in a test")
    }

    /// A workspace whose engine folder was left as a box's (an older version let the install box write
    /// there): `.masterplan/site-packages` is a link to a folder outside. The install step deletes the
    /// untrusted folder without following the link, and the folder outside is untouched.
    @Test func aPlantedLinkInTheEngineFolderIsNeverFollowed() async throws {
        let plan = try await harness.approvedPlan()
        try await harness.execute(ExecutionHarness.atoms())
        let workspace = harness.workspace(plan)
        let victim = NSTemporaryDirectory() + "masterplan-victim-\(UInt32.random(in: 0 ... .max))"
        try FileManager.default.createDirectory(atPath: victim, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: victim) }
        try "keep\n".write(toFile: victim + "/keep.txt", atomically: true, encoding: .utf8)
        chmod(victim, 0o700)
        try? FileManager.default.removeItem(atPath: workspace + "/.masterplan")
        try FileManager.default.createDirectory(atPath: workspace + "/.masterplan", withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: workspace + "/.masterplan/site-packages", withDestinationPath: victim)
        try FileManager.default.createSymbolicLink(atPath: workspace + "/.masterplan/requirements.sha256",
                                                   withDestinationPath: victim + "/keep.txt")
        // Handed to another user, as the box's user would have left it.
        chown(workspace + "/.masterplan", 65534, 65534)
        try "PyJWT\n".write(toFile: workspace + "/requirements.txt", atomically: true, encoding: .utf8)
        _ = try await installDependencies(of: plan)
        #expect(try installEvent(plan).0 == "dependencies_installed")
        var info = stat()
        #expect(lstat(workspace + "/.masterplan", &info) == 0 && info.st_mode & S_IFMT == S_IFDIR && info.st_uid == geteuid())
        #expect(lstat(workspace + "/.masterplan/site-packages", &info) != 0 || info.st_mode & S_IFMT == S_IFDIR)
        #expect(try String(contentsOfFile: victim + "/keep.txt", encoding: .utf8) == "keep\n")
        #expect(lstat(victim, &info) == 0 && info.st_uid == geteuid() && info.st_mode & 0o777 == 0o700)
        #expect(try FileManager.default.contentsOfDirectory(atPath: victim) == ["keep.txt"])
    }
}

/// The fetch box has no network: it reaches the package index only through `IndexGuard`, which opens no
/// connection to the host's loopback or its own addresses, whatever the box asks for.
@Suite(.dedicatedThreads) struct IndexGuardTests {
    @Test func theGuardRefusesTheHostsLoopbackAndTheBoxHasNoNetworkOfItsOwn() throws {
        let sandbox = try Sandbox()
        let python = try #require(Interpreters.locate().python3)
        let root = NSTemporaryDirectory() + "masterplan-guard-\(UInt32.random(in: 0 ... .max))"
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        chmod(root, 0o755)
        defer { ScratchFolder(path: root).remove() }
        let workspace = try Workspace.open(at: root)
        let owner: (user: UInt32, group: UInt32)? = sandbox.switchesUser ? (sandbox.configuration.userID, sandbox.configuration.groupID) : nil
        let empty = try workspace.makeEngineFolder(prefix: "box", owner: owner)
        let guardFolder = try workspace.makeEngineFolder(prefix: "guard", owner: nil, mode: 0o755)
        let listener = try LoopbackListener(blocking: false)
        let marker = "masterplan-guard-marker-\(UInt64.random(in: 0 ... .max))"
        let indexGuard = try IndexGuard(sandbox: sandbox, python: python, folder: guardFolder, empty: empty, environment: [:])
        let probe = """
            import socket, sys
            port, marker = int(sys.argv[1]), sys.argv[2]
            def ask(request):
                s = socket.socket(socket.AF_UNIX)
                s.connect("\(IndexGuard.shownAt)/index.sock")
                s.sendall(request.encode())
                answer = s.recv(200).decode("latin-1").split("\\r\\n")[0]
                if answer.endswith("200 Connection established"):
                    s.sendall(marker.encode())
                return answer
            print("connect-loopback:", ask(f"CONNECT 127.0.0.1:{port} HTTP/1.1\\r\\n\\r\\n"))
            print("connect-localhost:", ask(f"CONNECT localhost:{port} HTTP/1.1\\r\\n\\r\\n"))
            print("get-loopback:", ask(f"GET http://127.0.0.1:{port}/{marker} HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n"))
            print("connect-ipv6-loopback:", ask(f"CONNECT [::1]:443 HTTP/1.1\\r\\n\\r\\n"))
            try:
                socket.create_connection(("127.0.0.1", port), timeout=3).sendall(marker.encode())
                print("direct: LEAK")
            except OSError as error:
                print("direct:", type(error).__name__)
            """
        let result = sandbox.run(python, ["-I", "-c", probe, String(listener.port), marker],
                                 in: PythonDependencyInstall.fetchView(empty: empty, guardFolder: guardFolder),
                                 limits: PythonDependencyInstall.fetchLimits)
        let guardOutput = indexGuard.stop()
        #expect(result.status == .passed, "\(result.output)")
        for line in ["connect-loopback: HTTP/1.1 403", "connect-localhost: HTTP/1.1 403", "get-loopback: HTTP/1.1 403",
                     "connect-ipv6-loopback: HTTP/1.1 403", "direct: ConnectionRefusedError"] {
            #expect(result.output.contains(line), "\(line) in \(result.output)\n--- guard ---\n\(guardOutput)")
        }
        #expect(!listener.received(marker), "the guard let the box reach the host's loopback")
    }
}
