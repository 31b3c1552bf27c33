import Base
import Engine
import Foundation
import Store
import Testing
import TestSupport

/// The containment check against the real box, on a throwaway installation: every probe gives a verdict,
/// the verdicts that hold for this box are pinned, and each kind of probe is shown to say LEAK when what
/// it aims at really is within reach — so "contained" means the box stopped it, not that the probe is blind.
@Suite(.dedicatedThreads) struct ContainmentCheckTests {
    /// A throwaway installation outside /tmp (the box has a /tmp of its own, which would hide a data
    /// folder there from every probe whatever the box binds): a data folder with a fake JWT secret,
    /// logs/ and run/, and a private cluster whose socket folder is `postgres/`, as `masterplan up` lays them out.
    final class Installation {
        let parent: String
        let data: String
        let cluster: PrivateCluster

        init(port: Int) throws {
            var template = Array("/var/tmp/masterplan-containment-XXXXXX".utf8CString)
            guard template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) != nil else {
                throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO)
            }
            parent = String(decoding: template.dropLast().map { UInt8(bitPattern: $0) }, as: UTF8.self)
            chmod(parent, 0o755)
            data = parent + "/data"
            for folder in [data, data + "/logs", data + "/run"] {
                try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
            }
            _ = FileManager.default.createFile(atPath: data + "/jwt-secret", contents: Data("not-a-real-secret-\(UUID())\n".utf8),
                                           attributes: [.posixPermissions: 0o600])
            cluster = try PrivateCluster.start(in: data + "/postgres", options: .init(throwaway: true, port: port, maxConnections: 20))
        }

        /// The targets, with `listeners` instead of the host's own (a test never pokes at this machine's services).
        func targets(listeners: HostListeners) -> ContainmentTargets {
            ContainmentTargets(dataDirectory: data, secretFile: data + "/jwt-secret", workspacesRoot: data + "/workspaces",
                               scratchParent: "/tmp", databaseSocketFolders: [cluster.socketDirectory, "/var/run/postgresql"],
                               stackSockets: [data + "/run/api.sock", data + "/run/events.sock"], socketFolder: data + "/run",
                               hostListeners: listeners, checkoutFile: ContainmentCheckTests.repositoryRoot + "/Package.swift")
        }

        func remove() {
            try? cluster.stop(immediate: true)
            try? FileManager.default.removeItem(atPath: parent)
        }
    }

    static let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().path

    /// One full check, shared by the tests that read its findings (it takes several seconds), and whether
    /// the test's own loopback listener saw a connection from any box.
    struct FullRun: Sendable {
        var report: ContainmentReport
        var listenerAccepted: Bool
    }

    static let full: Result<FullRun, TestFailure> = {
        do {
            let installation = try Installation(port: 5463)
            defer { installation.remove() }
            let listener = try LoopbackListener(blocking: false)
            // A socket open to everyone (0777) in a folder everyone can enter, as a careless service's would be.
            let socketPath = installation.parent + "/service.sock"
            let unixListener = try UnixListener(path: socketPath)
            let listeners = HostListeners(unixSockets: [.init(name: socketPath, isAbstract: false, type: 1)],
                                          tcpPorts: [.init(address: "127.0.0.1", port: UInt16(listener.port))])
            let report = ContainmentCheck(sandbox: try Sandbox(), targets: installation.targets(listeners: listeners)).run()
            withExtendedLifetime(unixListener) {}
            return .success(FullRun(report: report, listenerAccepted: listener.acceptedConnection()))
        } catch {
            return .failure(TestFailure("the throwaway installation could not be made: \(error)"))
        }
    }()

    struct TestFailure: Error, CustomStringConvertible {
        var description: String
        init(_ description: String) { self.description = description }
    }

    // MARK: the full check

    @Test func everyProbeGivesAVerdictInEveryKindOfRun() throws {
        let run = try Self.full.get()
        let report = run.report
        #expect(report.boxFailure == nil)
        #expect(report.findings.count == ContainmentRunKind.allCases.count * ContainmentProbe.allCases.count)
        #expect(Set(report.findings.map(\.name)).count == report.findings.count)
        for finding in report.findings {
            #expect(!finding.detail.isEmpty, "\(finding.name) has no detail")
        }
        // An error is a probe that gave no answer: a broken probe, not a verdict about the box.
        #expect(report.errors.isEmpty, "\(report.errors.map { "\($0.name): \($0.detail)" })")
        #expect(report.lines.count == report.findings.count)
    }

    /// What this box holds already, in every kind of run: it shows only the system's folders and the
    /// run's own, as the user 65534, with limits.
    @Test(arguments: [
        ContainmentProbe.readDataFolder, .readSecret, .readOtherWorkspace, .readShadow, .readHome, .readCheckout,
        .connectDatabase, .connectStackSockets, .connectHostUnixSockets, .writeOutside, .escapeThroughLinks,
        .exhaustTmp, .exhaustProcesses, .exhaustMemory, .boxUser,
    ], ContainmentRunKind.allCases)
    func containedInEveryKind(_ probe: ContainmentProbe, _ kind: ContainmentRunKind) throws {
        let finding = try #require(try Self.full.get().report.finding(probe, in: kind))
        #expect(finding.verdict == .contained, "\(finding.name): \(finding.detail)")
    }

    /// No box has a network of its own, the fetch box included (it reaches the index only through its
    /// guard): neither the internet nor the host's loopback is reachable from any kind of run.
    @Test func runsWithoutNetworkReachNothing() throws {
        let report = try Self.full.get().report
        for kind in ContainmentRunKind.allCases {
            for probe in [ContainmentProbe.reachNetwork, .connectLoopbackTCP] {
                let finding = try #require(report.finding(probe, in: kind))
                #expect(finding.verdict == .contained, "\(finding.name): \(finding.detail)")
            }
        }
    }

    /// A validator's workspace is read-only; a test writes into the box's own copy, bounded by its size.
    @Test func validatorsAndTestsCannotFillTheHostsDisk() throws {
        let report = try Self.full.get().report
        let validator = try #require(report.finding(.exhaustDisk, in: .validator))
        #expect(validator.verdict == .contained && validator.detail.hasPrefix("cannot write (EROFS)"), "\(validator.detail)")
        let test = try #require(report.finding(.exhaustDisk, in: .acceptanceTest))
        #expect(test.verdict == .contained && test.detail.contains("(ENOSPC), its size is 256 MiB"), "\(test.detail)")
    }

    /// The loopback probe's verdict agrees with what the test's own listener on 127.0.0.1 saw: no box
    /// connected to it, and no kind says otherwise.
    @Test func theLoopbackVerdictAgreesWithTheHostsListener() throws {
        let run = try Self.full.get()
        let reached = ContainmentRunKind.allCases.compactMap { run.report.finding(.connectLoopbackTCP, in: $0) }
            .filter { $0.verdict != .contained }
        #expect(reached.isEmpty == !run.listenerAccepted, "\(reached.map(\.detail)); the listener saw a connection: \(run.listenerAccepted)")
    }

    /// A mount would remount the box's file systems; namespaces alone already refuse it without capabilities.
    @Test func mountIsRefusedInEveryKind() throws {
        for kind in ContainmentRunKind.allCases {
            let finding = try #require(try Self.full.get().report.finding(.systemCalls, in: kind))
            #expect(finding.detail.contains("mount EPERM"), "\(finding.name): \(finding.detail)")
        }
    }

    /// Run as root, every kind's box, the fetch box included, is given a root-only file in its own view
    /// and cannot read it (the fetch box once had none and said the check was not root); run as another
    /// user, the box is that user and the line says so.
    @Test func everyKindTriesARootOnlyFileWhenTheCheckIsRoot() throws {
        let expected = getuid() == 0 ? "a root-only file: cannot read it" : "the check is not root, so the box is its user"
        for kind in ContainmentRunKind.allCases {
            let finding = try #require(try Self.full.get().report.finding(.boxUser, in: kind))
            #expect(finding.detail.contains(expected), "\(finding.name): \(finding.detail)")
        }
    }

    /// Nothing gets out: every probe of every kind is contained or has nothing to aim at.
    @Test func theBoxIsContained() throws {
        let report = try Self.full.get().report
        #expect(report.leaks.isEmpty, "\(report.leaks.map { "\($0.name): \($0.detail)" })")
        #expect(report.findings.allSatisfy { $0.verdict == .contained || $0.verdict == .skipped },
                "\(report.findings.filter { $0.verdict != .contained && $0.verdict != .skipped }.map(\.name))")
        #expect(report.isContained)
    }

    // MARK: the probes see what is within reach

    /// A file every box must see (its own interpreter) given as the secret: read, so LEAK in every kind.
    @Test func aFileWithinReachIsALeak() throws {
        let installation = try Installation(port: 5464)
        defer { installation.remove() }
        var targets = installation.targets(listeners: HostListeners(unixSockets: [], tcpPorts: []))
        let python = try #require(Interpreters.locate().python3)
        targets.secretFile = URL(fileURLWithPath: python).resolvingSymlinksInPath().path
        var check = ContainmentCheck(sandbox: try Sandbox(), targets: targets)
        check.probes = [.readSecret]
        let report = check.run()
        #expect(report.findings.count == ContainmentRunKind.allCases.count)
        for finding in report.findings {
            #expect(finding.verdict == .leak, "\(finding.name): \(finding.detail)")
            #expect(finding.detail.contains("same SHA-256 as on the host"), "\(finding.detail)")
        }
        #expect(report.refusal()?.contains("validator.read-jwt-secret") == true)
    }

    /// A box shown the data folder's parent (as if it were a system folder) sees the data folder and a
    /// secret readable by others: their probes must say LEAK — the verdict follows the box, not the probe.
    /// (A 0600 secret stays unreadable to the box's user even then.)
    @Test func showingTheDataFolderMakesItsProbesLeak() throws {
        let installation = try Installation(port: 5465)
        defer { installation.remove() }
        chmod(installation.data + "/jwt-secret", 0o644)
        var configuration = Sandbox.Configuration()
        configuration.systemFolders.append(installation.parent)
        var check = ContainmentCheck(sandbox: try Sandbox(configuration: configuration),
                                     targets: installation.targets(listeners: HostListeners(unixSockets: [], tcpPorts: [])))
        check.probes = [.readDataFolder, .readSecret]
        let report = check.run()
        #expect(report.findings.count == 2 * ContainmentRunKind.allCases.count)
        for finding in report.findings {
            #expect(finding.verdict == .leak, "\(finding.name): \(finding.detail)")
        }
        #expect(report.finding(.readSecret, in: .validator)?.detail.contains("same SHA-256 as on the host") == true)
    }

    /// Caps set below the box's own limits (4 MiB of a 16 MiB /tmp, 8 processes of 256, 64 MiB of
    /// 512 MiB) are reached before the box stops anything: each resource probe must then say LEAK.
    @Test func boundsBelowTheBoxsLimitsAreLeaks() throws {
        let installation = try Installation(port: 5466)
        defer { installation.remove() }
        var check = ContainmentCheck(sandbox: try Sandbox(),
                                     targets: installation.targets(listeners: HostListeners(unixSockets: [], tcpPorts: [])))
        check.kinds = [.validator]
        check.probes = [.exhaustTmp, .exhaustProcesses, .exhaustMemory]
        check.tmpSlack = (4 << 20) - SandboxLimits.validator.tmpBytes
        check.processBound = 8
        check.memorySlack = (64 << 20) - SandboxLimits.validator.memoryBytes
        let report = check.run()
        #expect(report.findings.map(\.verdict) == [.leak, .leak, .leak], "\(report.lines)")
        #expect(report.finding(.exhaustProcesses, in: .validator)?.detail == "started 8 processes and was not stopped")
    }

    /// A box that cannot reach its workspace (a folder on the way closed to the sandbox user) does not
    /// start: the report says why and has no findings.
    @Test(.enabled(if: geteuid() == 0, "only root switches the box to another user"))
    func aWorkspaceTheBoxCannotReachIsABoxFailure() throws {
        let installation = try Installation(port: 5467)
        defer { installation.remove() }
        var targets = installation.targets(listeners: HostListeners(unixSockets: [], tcpPorts: []))
        let closed = installation.parent + "/closed"
        try FileManager.default.createDirectory(atPath: closed, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        targets.workspacesRoot = closed + "/workspaces"
        let report = ContainmentCheck(sandbox: try Sandbox(), targets: targets).run()
        #expect(report.findings.isEmpty)
        #expect(report.boxFailure?.contains("chmod o+x \(closed)") == true, "\(report.boxFailure ?? "nil")")
        #expect(report.refusal()?.hasPrefix("the sandbox cannot run its containment probes") == true)
        #expect(try FileManager.default.contentsOfDirectory(atPath: closed + "/workspaces").isEmpty, "the check left its workspaces")
    }

    // MARK: the report

    @Test func theReportIsAlignedAndTheRefusalNamesWhatLeaks() {
        let report = ContainmentReport(findings: [
            ContainmentFinding(kind: .validator, probe: .readShadow, verdict: .contained, detail: "/etc/shadow: cannot read it (EACCES)"),
            ContainmentFinding(kind: .dependencyInstall, probe: .connectLoopbackTCP, verdict: .leak, detail: "connected to 127.0.0.1:5432"),
            ContainmentFinding(kind: .acceptanceTest, probe: .systemCalls, verdict: .error, detail: "the probe ran out of time"),
            ContainmentFinding(kind: .dependencyInstall, probe: .reachNetwork, verdict: .skipped, detail: "by design"),
        ], duration: .milliseconds(1_500))
        #expect(report.lines == [
            "validator.read-etc-shadow     contained  /etc/shadow: cannot read it (EACCES)",
            "install.connect-loopback-tcp  LEAK       connected to 127.0.0.1:5432",
            "test.system-calls             ERROR      the probe ran out of time",
            "install.reach-network         skipped    by design",
        ])
        #expect(report.leaks.map(\.name) == ["install.connect-loopback-tcp", "test.system-calls"])
        #expect(report.summary == "4 probes in 1.5 s: 1 contained, 1 LEAK, 1 ERROR, 1 skipped; the box is NOT contained")
        let refusal = report.refusal(checkCommand: "masterplan sandbox check --data-dir /d")
        #expect(refusal?.hasPrefix("the sandbox is not contained (install.connect-loopback-tcp, test.system-calls): ") == true)
        #expect(refusal?.contains("run masterplan sandbox check --data-dir /d") == true)
        #expect(ContainmentReport(findings: [report.findings[0], report.findings[3]]).refusal() == nil)
    }

    // MARK: the host's listeners

    @Test func theHostsListenersAreReadFromTheKernelsTables() {
        let unix = """
            Num       RefCount Protocol Flags    Type St Inode Path
            0000000000000000: 00000002 00000000 00010000 0001 01 20000 /run/masterplan/api.sock
            0000000000000000: 00000003 00000000 00000000 0001 03 20001 /run/masterplan/api.sock
            0000000000000000: 00000002 00000000 00000000 0002 01 20002 @/org/example/abstract
            0000000000000000: 00000002 00000000 00010000 0001 01 20003 /tmp/.X11-unix/X0
            0000000000000000: 00000003 00000000 00000000 0001 03 20004
            """
        #expect(HostListeners.parseUnix(unix) == [
            .init(name: "/run/masterplan/api.sock", isAbstract: false, type: 1),
            .init(name: "/tmp/.X11-unix/X0", isAbstract: false, type: 1),
            .init(name: "/org/example/abstract", isAbstract: true, type: 2),
        ])
        let tcp = """
              sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
               0: 0100007F:1538 00000000:0000 0A 00000000:00000000 00:00000000 00000000   105        0 1 1 0
               1: 00000000:07E8 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 2 1 0
               2: 0202000A:0016 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 3 1 0
               3: 0100007F:1538 0100007F:D431 01 00000000:00000000 00:00000000 00000000   105        0 4 1 0
            """
        #expect(HostListeners.parseTCP(tcp, ipv6: false) == [.init(address: "127.0.0.1", port: 5432), .init(address: "0.0.0.0", port: 2024)])
        let tcp6 = """
              sl  local_address                         remote_address                        st
               0: 00000000000000000000000001000000:1F90 00000000000000000000000000000000:0000 0A 0
               1: 00000000000000000000000000000000:0050 00000000000000000000000000000000:0000 0A 0
               2: 0000000000000000FFFF00000100007F:0BB8 00000000000000000000000000000000:0000 0A 0
               3: 000080FE00000000FF00FC0201000000:0016 00000000000000000000000000000000:0000 0A 0
            """
        #expect(HostListeners.parseTCP(tcp6, ipv6: true) == [
            .init(address: "::1", port: 8080), .init(address: "::", port: 80), .init(address: "::ffff:127.0.0.1", port: 3000),
        ])
        #expect(HostListeners.TCPPort(address: "::", port: 80).connectAddress == "::1")
        #expect(HostListeners.TCPPort(address: "0.0.0.0", port: 80).connectAddress == "127.0.0.1")
    }
}

/// A unix socket listening at a path, open to every user (0777), removed on deinit.
final class UnixListener {
    let fd: Int32
    let path: String

    init(path: String) throws {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw POSIXError(.EIO) }
        guard UnixSocketAddress.bind(fd, to: path), chmod(path, 0o777) == 0, listen(fd, 16) == 0 else {
            close(fd)
            throw POSIXError(.EADDRINUSE)
        }
        self.fd = fd
        self.path = path
    }

    deinit {
        close(fd)
        unlink(path)
    }
}
