/// One attempt of the containment check to get out of the box: a small Python program run inside it,
/// whose outcome, together with what the check then finds on the host, makes the verdict.
///
/// The order of the cases is the order of the report.
public enum ContainmentProbe: String, Sendable, Hashable, CaseIterable {
    /// List the data folder and read a marker the check puts there.
    case readDataFolder = "read-data-folder"
    /// Read the JWT secret file.
    case readSecret = "read-jwt-secret"
    /// List another workspace and read its marker file (the install step's boxes: also read their plan's
    /// own workspace, which they must not see).
    case readOtherWorkspace = "read-other-workspace"
    /// Read `/etc/shadow`.
    case readShadow = "read-etc-shadow"
    /// List the home folders (`/root`, `/home`).
    case readHome = "read-home"
    /// Read a file of the checkout (or installation) the running executable comes from.
    case readCheckout = "read-checkout"
    /// Connect to the PostgreSQL sockets (`.s.PGSQL.*`).
    case connectDatabase = "connect-database"
    /// Connect to the API and relay sockets, and to a socket the check listens on in their folder.
    case connectStackSockets = "connect-stack-sockets"
    /// Connect to a sample of the unix sockets the host lists in `/proc/net/unix`.
    case connectHostUnixSockets = "connect-host-unix-sockets"
    /// Connect to every TCP port listening on a loopback or wildcard address of the host, and to one the
    /// check listens on.
    case connectLoopbackTCP = "connect-loopback-tcp"
    /// Connect to public addresses and look up a public name (not for the fetch box, which has the
    /// network by design).
    case reachNetwork = "reach-network"
    /// Create files outside the box's writable folder: the workspace itself and its engine folder, another
    /// workspace, the data folder, `/usr`, `/etc`, `/var/tmp`, the host's `/tmp`.
    case writeOutside = "write-outside"
    /// Write through links the box finds where it works (to another workspace, to `/etc`; for the install
    /// box, in the downloads the fetch box left) and through links it makes itself (to host folders).
    case escapeThroughLinks = "escape-through-links"
    /// Fill the file system behind the box's working directory.
    case exhaustDisk = "exhaust-disk-workspace"
    /// Fill the box's `/tmp`.
    case exhaustTmp = "exhaust-disk-tmp"
    /// Start processes until the box refuses.
    case exhaustProcesses = "exhaust-processes"
    /// Allocate and touch memory until the box refuses.
    case exhaustMemory = "exhaust-memory"
    /// `ptrace`, `mount`, `bpf`, `keyctl`, `perf_event_open`, `userfaultfd` and `unshare`.
    case systemCalls = "system-calls"
    /// The box's user on the host, its capabilities, and a root-only file.
    case boxUser = "box-user"

    /// Whether the probe runs alone, with no other box at the same time: the disk probe measures the
    /// host's free space, and the process probe must not take process slots from other boxes.
    var runsAlone: Bool {
        self == .exhaustDisk || self == .exhaustProcesses
    }

    /// The probe's Python program: the shared preamble, then its own body.
    var script: String {
        Self.preamble + body
    }
}
