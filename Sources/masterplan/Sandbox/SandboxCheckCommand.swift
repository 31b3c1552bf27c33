import ArgumentParser
import Engine
import Foundation
import Glibc

/// `masterplan sandbox check`: the containment check, one line per probe.
struct SandboxCheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Try to get out of the sandbox the way generated code would, and say what got through.",
        discussion: """
        Runs each probe inside the real box in the four kinds of run the executor makes (validator: the workspace \
        read-only; test: the box's own copy of the workspace, the dependencies read-only; fetch: only a new download \
        folder, with network; install: only a new target folder and the downloads), with the executor's limits, for \
        a throwaway workspace made in the data folder's workspaces/. The probes read the data folder, the JWT secret, another workspace, /etc/shadow, the home \
        folders and the checkout; connect to PostgreSQL, the API and relay sockets, the host's unix sockets and \
        loopback TCP ports, and the internet; write outside the workspace and through links; fill the disk, /tmp, \
        the process table and memory; make forbidden system calls; and look at the box's user from the host. \
        Each line is PROBE  VERDICT  DETAIL, VERDICT being contained, LEAK, ERROR (the probe gave no answer, \
        which counts as not contained) or skipped (nothing to aim at on this machine).
        Exit status: 0 when everything is contained, 1 when anything is not, 2 when the box cannot start at all.
        The process probe uses up the sandbox user's processes for a moment; on an older kernel that counts \
        them per host user, boxes of a busy executor may fail to start processes meanwhile.
        """
    )

    @OptionGroup var data: DataDirectoryOptions

    @Option(name: .customLong("skip-port"), help: "A loopback TCP port not to connect to, e.g. a service that alarms on stray connections (repeatable).")
    var skippedPorts: [UInt16] = []

    func run() throws {
        let environment = ProcessInfo.processInfo.environment
        let chosen = data.chosen(environment)
        let absolute = chosen.hasPrefix("/") ? chosen : FileManager.default.currentDirectoryPath + "/" + chosen
        let folder = URL(fileURLWithPath: absolute).standardizedFileURL.path
        let sandbox: Sandbox
        do {
            sandbox = try SandboxContainment.sandbox()
        } catch {
            print("masterplan sandbox check: the sandbox is unusable: \(error.description)")
            throw ExitCode(2)
        }
        let targets = SandboxContainment.targets(sandbox: sandbox, dataDirectory: folder, environment: environment,
                                                 skippingPorts: Set(skippedPorts))
        let user = sandbox.switchesUser ? "uid \(sandbox.configuration.userID) (switched from root)" : "uid \(geteuid()), this user"
        print("masterplan sandbox check: data folder \(folder), workspaces in \(targets.workspacesRoot); the box runs as \(user)")
        let report = ContainmentCheck(sandbox: sandbox, targets: targets).run()
        for line in report.lines { print(line) }
        print(report.summary)
        if report.boxFailure != nil { throw ExitCode(2) }
        if !report.isContained { throw ExitCode(1) }
    }
}
