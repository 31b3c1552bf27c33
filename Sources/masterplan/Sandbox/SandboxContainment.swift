import Engine
import Foundation

/// The containment check (`ContainmentCheck`) as the executor, `masterplan up` and `masterplan sandbox
/// check` run it: the executor's box, and the targets of one installation found from the data folder's
/// layout (`UpLayout`), the executor's workspaces folder (`ExecutionSettings`) and the machine's listeners.
enum SandboxContainment {
    /// `MASTERPLAN_SANDBOX_CHECK=off` lets the executor and `up` start without the check — for
    /// development on a machine whose box is known not to be contained yet, never for real use.
    static let switchVariable = "MASTERPLAN_SANDBOX_CHECK"

    /// What the executor (or `up`) does about the box.
    enum Decision {
        /// The check ran and every probe was contained.
        case contained(ContainmentReport)
        /// The check is switched off by `MASTERPLAN_SANDBOX_CHECK=off`.
        case switchedOff
        /// The check found leaks or could not start the box: the one sentence to stop with.
        case refused(String)
    }

    /// The sandbox generated code runs in: the executor's, with its default configuration.
    static func sandbox() throws(SandboxError) -> Sandbox {
        try Sandbox()
    }

    /// Runs the check unless it is switched off, and says whether the executor may start.
    static func decide(sandbox: Sandbox, dataDirectory: String, environment: [String: String]) throws(Settings.Missing) -> Decision {
        switch environment[switchVariable] ?? "" {
        case "", "on":
            break
        case "off":
            return .switchedOff
        case let other:
            throw Settings.Missing(description: "\(switchVariable) must be on or off (off only for development), not \"\(other)\"")
        }
        var check = ContainmentCheck(sandbox: sandbox, targets: targets(sandbox: sandbox, dataDirectory: dataDirectory, environment: environment))
        // At start, what this machine shows the box (files, sockets, ports, system calls, the user); the
        // resource probes fill gigabytes of memory to prove limits that are the box's own settings, so
        // only `masterplan sandbox check` runs them.
        check.probes = Self.startupProbes
        let report = check.run()
        if let refusal = report.refusal(checkCommand: "masterplan sandbox check --data-dir \(dataDirectory)") {
            return .refused(refusal)
        }
        return .contained(report)
    }

    /// The probes the executor and `up` run at start: every one but the resource probes.
    static let startupProbes = ContainmentProbe.allCases.filter {
        ![.exhaustDisk, .exhaustTmp, .exhaustProcesses, .exhaustMemory].contains($0)
    }

    /// The warning the executor and `up` print when the check is switched off.
    static let switchedOffWarning = "THE SANDBOX CONTAINMENT CHECK IS SWITCHED OFF (\(switchVariable)=off): "
        + "generated code is not known to be contained on this machine; use this only for development"

    /// The places of the installation whose data folder is `dataDirectory`.
    static func targets(sandbox: Sandbox, dataDirectory: String, environment: [String: String],
                        skippingPorts: Set<UInt16> = []) -> ContainmentTargets {
        let layout = UpLayout(dataDirectory: dataDirectory)
        let settings = ExecutionSettings(dataDirectory: dataDirectory)
        var socketFolders = [layout.privateCluster.folder, dataDirectory + "/postgres", "/var/run/postgresql"]
        if let url = environment["MASTERPLAN_DATABASE_URL"], let folder = socketFolder(inConninfo: url) {
            socketFolders.append(folder)
        }
        var seen = Set<String>()
        socketFolders = socketFolders.filter { seen.insert(URL(fileURLWithPath: $0).resolvingSymlinksInPath().path).inserted }
        var isFolder: ObjCBool = false
        let runExists = FileManager.default.fileExists(atPath: layout.run, isDirectory: &isFolder) && isFolder.boolValue
        var targets = ContainmentTargets(
            dataDirectory: dataDirectory, secretFile: layout.secretFile, workspacesRoot: settings.workspacesRoot,
            scratchParent: AcceptanceTestRunner(sandbox: sandbox).scratchParent, databaseSocketFolders: socketFolders,
            // `up`'s sockets, and those of the systemd units (README, "systemd").
            stackSockets: [layout.apiSocket, layout.eventsSocket, "/run/masterplan/api.sock", "/run/masterplan/events.sock"],
            socketFolder: runExists ? layout.run : dataDirectory,
            hostListeners: HostListeners.read(),
            checkoutFile: ContainmentTargets.checkoutFile(nearExecutable: UpStack.ownExecutable()))
        targets.skippedTCPPorts = skippingPorts
        return targets
    }

    /// The socket folder a libpq conninfo (`host=/path …`) or URL (`…?host=/path`, `postgresql://%2Fpath/…`)
    /// names, if it names one.
    static func socketFolder(inConninfo conninfo: String) -> String? {
        for word in conninfo.split(separator: " ") where word.hasPrefix("host=") {
            let value = String(word.dropFirst(5)).trimmingCharacters(in: CharacterSet(charactersIn: "'"))
            return value.hasPrefix("/") ? value : nil
        }
        guard let components = URLComponents(string: conninfo) else { return nil }
        if let host = components.queryItems?.first(where: { $0.name == "host" })?.value, host.hasPrefix("/") { return host }
        if let host = components.percentEncodedHost?.removingPercentEncoding, host.hasPrefix("/") { return host }
        return nil
    }
}
