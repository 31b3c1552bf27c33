import Glibc

/// What the containment check tries to reach from inside the box: the places of one installation that
/// generated code must never see, change or talk to.
///
/// The check itself adds throwaway stand-ins (a probe workspace and another workspace in
/// `workspacesRoot`, a marker in the data folder, a listening socket and port), so that every probe has
/// something real to aim at even on a machine where the stack is not running.
public struct ContainmentTargets: Sendable, Hashable {
    /// The data folder: logs, sockets, the secret, workspaces.
    public var dataDirectory: String
    /// The JWT secret file (`masterplan up` keeps it in the data folder, mode 0600).
    public var secretFile: String
    /// Where the executor makes workspaces; the check makes its probe workspace and a throwaway "other
    /// workspace" here, laid out as the executor lays them out.
    public var workspacesRoot: String
    /// Where acceptance tests' throwaway copies are made (`AcceptanceTestRunner.scratchParent`).
    public var scratchParent: String
    /// Folders that may hold PostgreSQL sockets (`.s.PGSQL.*`).
    public var databaseSocketFolders: [String]
    /// The stack's own unix sockets (the API pool, the events relay); missing ones are skipped.
    public var stackSockets: [String]
    /// Where the check listens on a socket of its own, as the stack's sockets are kept (their folder);
    /// nil for none.
    public var socketFolder: String?
    /// The unix sockets and TCP ports the host listens on.
    public var hostListeners: HostListeners
    /// At most this many of the host's unix sockets are tried.
    public var hostUnixSocketSample: Int = 20
    /// TCP ports never connected to (a service that must not be disturbed); the check says it left them out.
    public var skippedTCPPorts: Set<UInt16> = []
    /// A file of the checkout (or installation) the running executable comes from; nil when there is none.
    public var checkoutFile: String?
    /// Home folders, listed.
    public var homeFolders: [String] = ["/root", "/home"]

    public init(dataDirectory: String, secretFile: String, workspacesRoot: String, scratchParent: String = "/tmp",
                databaseSocketFolders: [String] = ["/var/run/postgresql"], stackSockets: [String] = [],
                socketFolder: String? = nil, hostListeners: HostListeners = HostListeners(unixSockets: [], tcpPorts: []),
                checkoutFile: String? = nil) {
        self.dataDirectory = dataDirectory
        self.secretFile = secretFile
        self.workspacesRoot = workspacesRoot
        self.scratchParent = scratchParent
        self.databaseSocketFolders = databaseSocketFolders
        self.stackSockets = stackSockets
        self.socketFolder = socketFolder
        self.hostListeners = hostListeners
        self.checkoutFile = checkoutFile
    }

    /// `Package.swift` of the checkout the executable at `executable` (a real path) was built in, found
    /// in one of its parent folders; nil for an installed executable.
    public static func checkoutFile(nearExecutable executable: String) -> String? {
        var folder = HostPath.parent(of: executable)
        while folder != "/" {
            let candidate = folder + "/Package.swift"
            if access(candidate, R_OK) == 0 { return candidate }
            folder = HostPath.parent(of: folder)
        }
        return nil
    }
}
