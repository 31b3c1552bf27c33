import Engine
import Foundation

/// The containment check (`ContainmentCheck`) as `masterplan sandbox check` runs it: the executor's box,
/// and the targets of one installation found from the data folder's layout (`UpLayout`), the executor's
/// workspaces folder (`ExecutionSettings`) and the machine's listeners.
enum SandboxContainment {
    /// The sandbox generated code runs in: the executor's, with its default configuration.
    static func sandbox() throws(SandboxError) -> Sandbox {
        try Sandbox()
    }

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
