import Engine
import Foundation
import Postgres
import Store
import Testing
import TestSupport

/// The sandbox against the real bwrap, with real programs trying to get out.
@Suite(.dedicatedThreads) struct SandboxTests {
    let sandbox: Sandbox
    let bash = "/usr/bin/bash"
    let python: String

    init() throws {
        sandbox = try Sandbox()
        python = try #require(Interpreters.locate().python3, "python3 from Debian is required (make deps)")
    }

    /// A workspace folder inside a test folder, as the executor lays them out (data/workspaces/<id>).
    private func makeWorkspace(_ folder: TemporaryFolder) throws -> String {
        let workspace = folder.sub("workspaces/plan-1")
        try FileManager.default.createDirectory(atPath: workspace, withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o755])
        chmod(folder.sub("workspaces"), 0o755)
        return workspace
    }

    /// A private cluster in a folder the box can see (as `masterplan up` keeps one under /var/lib): its
    /// socket and data are closed to the box's user, so generated code cannot log in as the superuser.
    @Test func thePrivateClustersSocketAndDataAreUnreachableFromTheBox() throws {
        var template = Array("/var/tmp/masterplan-private-XXXXXX".utf8CString)
        try #require(template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) } != nil)
        let parent = String(decoding: template.dropLast().map { UInt8(bitPattern: $0) }, as: UTF8.self)
        chmod(parent, 0o755)
        defer { try? FileManager.default.removeItem(atPath: parent) }
        let cluster = try PrivateCluster.start(in: parent + "/postgres", options: .init(throwaway: true, port: 5461, maxConnections: 20))
        defer { try? cluster.stop(immediate: true) }
        // The stack itself still connects.
        _ = try Connection(cluster.conninfo())
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let workspace = try makeWorkspace(folder)
        let probe = """
            import os, socket, sys
            path = sys.argv[1] + "/.s.PGSQL.5461"
            reached = []
            try:
                s = socket.socket(socket.AF_UNIX)
                s.connect(path)
                reached.append("connected to the socket")
            except OSError as error:
                print("socket:", type(error).__name__)
            try:
                os.listdir(sys.argv[1] + "/data")
                reached.append("listed the data folder")
            except OSError as error:
                print("data:", type(error).__name__)
            print("LEAK: " + ", ".join(reached) if reached else "contained")
            sys.exit(1 if reached else 0)
            """
        let result = sandbox.run(python, ["-c", probe, cluster.socketDirectory], in: .readOnly(workspace), limits: .validator)
        #expect(result.status == .passed, "\(result.output)")
        #expect(result.output.contains("contained"), "\(result.output)")
    }

    @Test func exitStatusBecomesPassOrFail() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let workspace = try makeWorkspace(folder)
        let passed = sandbox.run(bash, ["-c", "echo hello; echo to-stderr >&2"], in: .readOnly(workspace), limits: .validator)
        #expect(passed.status == .passed)
        #expect(passed.exitCode == 0)
        #expect(passed.output.contains("hello"))
        #expect(passed.output.contains("to-stderr"))
        let failed = sandbox.run(bash, ["-c", "exit 3"], in: .readOnly(workspace), limits: .validator)
        #expect(failed.status == .failed)
        #expect(failed.exitCode == 3)
    }

    @Test func writesOutsideTheWorkspaceFail() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let workspace = try makeWorkspace(folder)
        let parent = folder.sub("workspaces")
        let marker = "masterplan-escape-\(UInt32.random(in: 0 ... .max))"
        let targets = ["/etc/\(marker)", "/root/\(marker)", "\(parent)/\(marker)", "\(folder.path)/\(marker)",
                       "/usr/\(marker)", "/var/tmp/\(marker)"]
        let script = targets.map { "(echo x > \($0)) 2>/dev/null && echo WROTE \($0)" }.joined(separator: "; ")
            + "; echo inside > ok.txt"
        // A writable workspace must be writable by the sandbox user on the host.
        if sandbox.switchesUser {
            chown(workspace, sandbox.configuration.userID, sandbox.configuration.groupID)
        }
        let result = sandbox.run(bash, ["-c", script], in: .readWrite(workspace), limits: .validator)
        #expect(result.status == .passed, "writing inside the workspace works: \(result.output)")
        // The system and the root are read-only inside; only the private /tmp takes writes (the test
        // folder is under the host's /tmp, so its paths exist in the box's own /tmp, never on the host).
        for target in targets where !target.hasPrefix("/tmp/") {
            #expect(!result.output.contains("WROTE \(target)"), "\(result.output)")
        }
        for target in targets {
            #expect(!FileManager.default.fileExists(atPath: target), "\(target) was written")
        }
        #expect(try String(contentsOfFile: workspace + "/ok.txt", encoding: .utf8) == "inside\n")
    }

    @Test func aReadOnlyWorkspaceCannotBeChanged() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let workspace = try makeWorkspace(folder)
        try "original\n".write(toFile: workspace + "/a.txt", atomically: false, encoding: .utf8)
        let result = sandbox.run(bash, ["-c", "echo changed > a.txt; touch new.txt"], in: .readOnly(workspace), limits: .validator)
        #expect(result.status == .failed)
        #expect(try String(contentsOfFile: workspace + "/a.txt", encoding: .utf8) == "original\n")
        #expect(!FileManager.default.fileExists(atPath: workspace + "/new.txt"))
    }

    @Test func theRemountEscapeOfMeasuredFails() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let workspace = try makeWorkspace(folder)
        let marker = "masterplan-remount-\(UInt32.random(in: 0 ... .max))"
        // What was seen to succeed as root without --cap-drop ALL.
        let script = "mount -o remount,rw / 2>&1; mount -t tmpfs none /etc 2>&1; echo x > /etc/\(marker) && echo WROTE"
        let result = sandbox.run(bash, ["-c", script], in: .readOnly(workspace), limits: .validator)
        #expect(!result.output.contains("WROTE"))
        #expect(!FileManager.default.fileExists(atPath: "/etc/\(marker)"))
    }

    @Test func theBoxIsAnUnprivilegedUserWithoutCapabilities() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let workspace = try makeWorkspace(folder)
        let result = sandbox.run(bash, ["-c", "id -u; grep CapEff /proc/self/status; cat /etc/shadow >/dev/null 2>&1 && echo READ-SHADOW; true"],
                                 in: .readOnly(workspace), limits: .validator)
        #expect(result.status == .passed)
        #expect(result.output.hasPrefix("65534\n"))
        #expect(result.output.contains("CapEff:\t0000000000000000"))
        #expect(!result.output.contains("READ-SHADOW"))
    }

    @Test func theNetworkIsUnreachable() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let workspace = try makeWorkspace(folder)
        let listener = try LoopbackListener(blocking: false)
        let script = """
        import socket, sys
        try:
            socket.create_connection(("127.0.0.1", \(listener.port)), timeout=5)
        except OSError as e:
            print("blocked:", e)
            sys.exit(7)
        print("CONNECTED")
        """
        let result = sandbox.run(python, ["-c", script], in: .readOnly(workspace), limits: .validator)
        #expect(result.status == .failed)
        #expect(result.exitCode == 7, "\(result.output)")
        #expect(!result.output.contains("CONNECTED"))
        #expect(!listener.acceptedConnection())

        // The same program with the network allowed (the dependency-install step) gets through: the
        // check above fails because of the box, not because of the program.
        var open = SandboxLimits.validator
        open.network = true
        let allowed = sandbox.run(python, ["-c", script], in: .readOnly(workspace), limits: open)
        #expect(allowed.output.contains("CONNECTED"), "\(allowed.output)")
        #expect(listener.acceptedConnection())
    }

    @Test func hostProcessesAreInvisible() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let workspace = try makeWorkspace(folder)
        let hostPID = getpid()
        let script = """
        import os
        pids = [p for p in os.listdir("/proc") if p.isdigit()]
        names = [open(f"/proc/{p}/cmdline", "rb").read().split(b"\\0")[0].decode() for p in pids]
        print(len(pids), names)
        try:
            os.kill(\(hostPID), 0)
            print("SIGNALLED-HOST")
        except ProcessLookupError:
            print("no such process")
        """
        let result = sandbox.run(python, ["-c", script], in: .readOnly(workspace), limits: .validator)
        #expect(result.status == .passed, "\(result.output)")
        let count = Int(result.output.split(separator: " ").first ?? "") ?? 99
        // bwrap's init and the program (prlimit execs into python): nothing of the host.
        #expect(count <= 3, "\(result.output)")
        #expect(!result.output.contains("PackageTests"))
        #expect(!result.output.contains("swift"))
        // The test process cannot even be addressed by its pid.
        #expect(result.output.contains("no such process"))
    }

    @Test func aProgramRunningPastTheTimeoutIsKilledWithEverythingItStarted() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let workspace = try makeWorkspace(folder)
        let marker = "\(Int.random(in: 4_000 ... 9_000)).\(Int.random(in: 100 ... 999))"
        var limits = SandboxLimits.validator
        limits.timeout = .seconds(1)
        let started = ContinuousClock.now
        let result = sandbox.run(bash, ["-c", "(/usr/bin/sleep \(marker) &); /usr/bin/sleep \(marker)"],
                                 in: .readOnly(workspace), limits: limits)
        #expect(result.status == .timedOut)
        #expect(result.exitCode == nil)
        #expect(ContinuousClock.now - started < .seconds(10))
        // The detached sleep went down with the box's pid namespace.
        var gone = false
        for _ in 0 ..< 40 where !gone {
            gone = !hostProcessExists(withArgument: marker)
            if !gone { usleep(50_000) }
        }
        #expect(gone, "a sleep \(marker) survived the timeout")
    }

    @Test func memoryIsLimited() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let workspace = try makeWorkspace(folder)
        var limits = SandboxLimits.validator
        limits.memoryBytes = 256 << 20
        let big = sandbox.run(python, ["-c", "b = bytearray(512 * 1024 * 1024); print('ALLOCATED')"],
                              in: .readOnly(workspace), limits: limits)
        #expect(big.status == .failed)
        #expect(big.output.contains("MemoryError"))
        #expect(!big.output.contains("ALLOCATED"))
        let small = sandbox.run(python, ["-c", "b = bytearray(16 * 1024 * 1024); print('ALLOCATED')"],
                                in: .readOnly(workspace), limits: limits)
        #expect(small.status == .passed)
        #expect(small.output.contains("ALLOCATED"))
    }

    @Test func outputIsCappedToItsTail() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let workspace = try makeWorkspace(folder)
        var limits = SandboxLimits.validator
        limits.outputBytes = 1_000
        let result = sandbox.run(python, ["-c", "for i in range(200000): print('line', i)"],
                                 in: .readOnly(workspace), limits: limits)
        #expect(result.status == .passed)
        #expect(result.output.utf8.count <= 1_000)
        #expect(result.output.hasSuffix("line 199999\n"))
        #expect(result.outputBytes > 2_000_000)
        #expect(result.droppedOutputBytes == result.outputBytes - result.output.utf8.count)
        #expect(result.outputWithNotice.hasPrefix("["))
    }

    @Test func theEnvironmentIsScrubbed() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let workspace = try makeWorkspace(folder)
        let result = sandbox.run("/usr/bin/env", [], in: .readOnly(workspace), limits: .validator, environment: ["EXTRA": "1"])
        #expect(result.status == .passed)
        let keys = Set(result.output.split(separator: "\n").compactMap { $0.split(separator: "=").first.map(String.init) })
        // PWD comes from bwrap's --chdir.
        #expect(keys == Set(sandbox.baseEnvironment.keys).union(["EXTRA", "PWD"]))
        #expect(result.output.contains("HOME=/tmp\n"))
        #expect(!result.output.contains("pyenv"))
    }

    @Test func gitMetadataAndSiblingWorkspacesAreHidden() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let workspace = try makeWorkspace(folder)
        try FileManager.default.createDirectory(atPath: workspace + "/.git", withIntermediateDirectories: true)
        try "[core]\n".write(toFile: workspace + "/.git/config", atomically: false, encoding: .utf8)
        let sibling = folder.sub("workspaces/plan-2")
        try FileManager.default.createDirectory(atPath: sibling, withIntermediateDirectories: true)
        try "secret\n".write(toFile: sibling + "/secret.txt", atomically: false, encoding: .utf8)
        chmod(sibling, 0o755)
        chmod(sibling + "/secret.txt", 0o644)
        let script = "echo git: $(ls -A .git); echo siblings: $(ls -A ..); cat ../plan-2/secret.txt 2>/dev/null; (echo x > .git/hooks) 2>/dev/null && echo WROTE; true"
        let result = sandbox.run(bash, ["-c", script], in: .readOnly(workspace), limits: .validator)
        #expect(result.output == "git:\nsiblings: plan-1\n", "\(result.output)")
        #expect(try String(contentsOfFile: workspace + "/.git/config", encoding: .utf8) == "[core]\n")
    }

    /// The box's root holds only the toolchains' folders, a few files of /etc, the fresh /dev, /proc and
    /// /tmp, and the workspace: not the folder above it, the checkout, home folders, logs or sockets.
    @Test func theBoxSeesOnlyTheSystemFoldersAndItsWorkspace() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let workspace = try makeWorkspace(folder)
        try "token\n".write(toFile: folder.sub("env"), atomically: false, encoding: .utf8)
        chmod(folder.sub("env"), 0o644)
        let checkout = FileManager.default.currentDirectoryPath + "/Package.swift"
        let probe = """
            import os, sys
            print(" ".join(sorted(os.listdir("/"))))
            print(" ".join(sorted(os.listdir("/etc"))))
            for path in sys.argv[1:]:
                print(path, "visible" if os.path.lexists(path) else "absent")
            """
        let targets = [folder.sub("env"), checkout, "/root", "/home", "/var/log", "/var/lib", "/run", "/var/run/postgresql",
                       "/etc/shadow", "/etc/masterplan", "/sys", "/opt", "/srv", "/mnt"]
        let result = sandbox.run(python, ["-I", "-c", probe] + targets, in: .readOnly(workspace), limits: .validator)
        #expect(result.status == .passed, "\(result.output)")
        let lines = result.output.split(separator: "\n").map(String.init)
        let top = Set(lines.first?.split(separator: " ").map(String.init) ?? [])
        let allowed: Set<String> = ["bin", "sbin", "lib", "lib32", "lib64", "libx32", "usr", "etc", "dev", "proc", "tmp",
                                    String(workspace.split(separator: "/")[0])]
        #expect(top.isSubset(of: allowed), "\(top.subtracting(allowed))")
        let etc = Set(lines.dropFirst().first?.split(separator: " ").map(String.init) ?? [])
        #expect(!etc.contains("shadow") && !etc.contains("ssl") && !etc.contains("resolv.conf"), "\(etc)")
        for target in targets {
            #expect(lines.contains("\(target) absent"), "\(target): \(result.output)")
        }
    }

    /// A descriptor the executor holds without close-on-exec (a socket, a file some library opened) never
    /// reaches the box: the program sees only its standard descriptors and its own report channel.
    @Test func theExecutorsOpenDescriptorsDoNotReachTheBox() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let workspace = try makeWorkspace(folder)
        let file = open("/etc/hostname", O_RDONLY)
        let socketFD = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        try #require(file >= 0 && socketFD >= 0)
        defer { close(file); close(socketFD) }
        let probe = "import os\nprint(' '.join(sorted(os.listdir('/proc/self/fd'), key=int)))\n"
        let result = sandbox.run(python, ["-I", "-c", probe], in: .readOnly(workspace), limits: .validator, capturesReport: true)
        #expect(result.status == .passed, "\(result.output)")
        let descriptors = Set(result.output.split(whereSeparator: \.isWhitespace).compactMap { Int32($0) })
        // 0–2, the report channel (4), and the descriptor listdir itself opens.
        #expect(descriptors.subtracting([0, 1, 2, 4]).count <= 1, "\(descriptors.sorted())")
        #expect(!descriptors.contains(file) && !descriptors.contains(socketFD), "\(descriptors.sorted()) holds \(file) or \(socketFD)")
    }

    @Test func anUnreachableWorkspaceIsAnErrorThatSaysWhy() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let workspace = try makeWorkspace(folder)
        chmod(folder.path, 0o700)
        let result = sandbox.run(bash, ["-c", "true"], in: .readOnly(workspace), limits: .validator)
        if sandbox.switchesUser {
            #expect(result.status == .error)
            #expect(result.output.contains("chmod o+x \(folder.path)"), "\(result.output)")
        } else {
            // Not root: the box is this user, who owns the folder.
            #expect(result.status == .passed, "\(result.output)")
        }
    }

    @Test func theSelfCheckPassesOnThisMachine() {
        #expect(sandbox.selfCheck() == nil)
        #expect(sandbox.selfCheck(scratchParent: "/nonexistent")?.contains("cannot create") == true)
    }

    @Test func aMissingBubblewrapIsAnErrorNotAnUnsandboxedRun() {
        #expect(throws: SandboxError.self) {
            try Sandbox(configuration: .init(bubblewrap: "/nonexistent/bwrap"))
        }
        do {
            _ = try Sandbox(configuration: .init(bubblewrap: "/nonexistent/bwrap"))
        } catch {
            #expect(error.kind == .missingProgram)
            #expect(error.description.contains("bubblewrap"))
        }
    }

    @Test func aMissingProgramOrWorkspaceIsAnError() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let workspace = try makeWorkspace(folder)
        let missing = sandbox.run("/usr/bin/no-such-interpreter", [], in: .readOnly(workspace), limits: .validator)
        #expect(missing.status == .error)
        #expect(missing.output.contains("no-such-interpreter"))
        let relative = sandbox.run("python3", [], in: .readOnly(workspace), limits: .validator)
        #expect(relative.status == .error)
        let noFolder = sandbox.run(bash, ["-c", "true"], in: .readOnly(folder.sub("absent")), limits: .validator)
        #expect(noFolder.status == .error)
        let system = sandbox.run(bash, ["-c", "true"], in: .readWrite("/etc"), limits: .validator)
        #expect(system.status == .error)
    }
}
