import Foundation
import Glibc
import LLM

/// Where `masterplan up` keeps things: the data folder's layout, and the shipped files it needs
/// (static/, nginx/masterplan-locations.conf, the demo cassette) found from a checkout or an install.
struct UpLayout {
    /// The data folder (absolute).
    let dataDirectory: String

    var logs: String { dataDirectory + "/logs" }
    /// The FastCGI sockets (no ':' in the path: libfcgi would read it as host:port).
    var run: String { dataDirectory + "/run" }
    var nginxPrefix: String { dataDirectory + "/nginx" }
    var secretFile: String { dataDirectory + "/jwt-secret" }
    var lockFile: String { dataDirectory + "/up.lock" }
    var apiSocket: String { run + "/api.sock" }
    var eventsSocket: String { run + "/events.sock" }
    /// The children of the running `up` ("name pid" lines), to clean up after one that was killed.
    var childrenFile: String { run + "/children" }
    func log(_ name: String) -> String { logs + "/\(name).log" }

    /// The private PostgreSQL cluster's folder, which is also its socket folder: `DIR/postgres`, or —
    /// when `up` runs as root and a folder on the way to the data folder is closed to others (named in
    /// `closedFolder`) — a folder under /var/lib/masterplan, which the `postgres` user can reach.
    var privateCluster: (folder: String, closedFolder: String?) {
        if geteuid() == 0, let closed = Self.folderClosedToOthers(on: dataDirectory) {
            let name = "up-" + String(UInt32(truncatingIfNeeded: UpStack.stableHash(dataDirectory)), radix: 16)
            return ("/var/lib/masterplan/" + name + "/postgres", closed)
        }
        return (dataDirectory + "/postgres", nil)
    }

    /// The data folder to use: `explicit`, else `$MASTERPLAN_DATA_DIR`, else `./.masterplan-data`, made absolute.
    static func dataDirectory(explicit: String?) -> String {
        let environment = ProcessInfo.processInfo.environment["MASTERPLAN_DATA_DIR"].flatMap { $0.isEmpty ? nil : $0 }
        let chosen = explicit ?? environment ?? ".masterplan-data"
        let absolute = chosen.hasPrefix("/") ? chosen : FileManager.default.currentDirectoryPath + "/" + chosen
        return URL(fileURLWithPath: absolute).standardizedFileURL.path
    }

    /// Creates the data folder and its sub-folders, readable and searchable by others (nginx's workers
    /// reach the logs through them; the secret file is 0600), except the sockets' folder (0700).
    func create() throws {
        let fm = FileManager.default
        for folder in [dataDirectory, logs, run, nginxPrefix, nginxPrefix + "/tmp"] {
            do {
                try fm.createDirectory(atPath: folder, withIntermediateDirectories: true)
            } catch {
                throw UpFailure("cannot create the folder \(folder): \(error.localizedDescription)")
            }
            // The sockets' folder starts closed to everyone else; nginx's workers' group is let in
            // when nginx starts (UpStack.nginxWorkerUser).
            chmod(folder, folder == run ? 0o700 : 0o755)
        }
    }

    // MARK: - Shipped files

    /// Folders a shipped file may be under: the current folder, the folders above the executable
    /// (a checkout's `.build/debug/masterplan`), then `/usr/share/masterplan`.
    static var searchRoots: [String] {
        var roots = [FileManager.default.currentDirectoryPath]
        var dir = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
        for _ in 0..<6 {
            roots.append(dir.path)
            dir.deleteLastPathComponent()
        }
        roots.append("/usr/share/masterplan")
        return roots
    }

    /// The review UI's folder (it holds index.html): `$MASTERPLAN_STATIC_DIR`, else `static/` in a search root.
    static func staticFolder() throws -> String {
        let fm = FileManager.default
        if let env = ProcessInfo.processInfo.environment["MASTERPLAN_STATIC_DIR"], !env.isEmpty {
            guard fm.fileExists(atPath: env + "/index.html") else {
                throw UpFailure("MASTERPLAN_STATIC_DIR=\(env) has no index.html: point it at the repository's static/ folder")
            }
            return env
        }
        if let root = searchRoots.first(where: { fm.fileExists(atPath: $0 + "/static/index.html") }) {
            return URL(fileURLWithPath: root + "/static").standardizedFileURL.path
        }
        throw UpFailure("the review UI (static/index.html) was not found: run masterplan up from the repository, or set MASTERPLAN_STATIC_DIR")
    }

    /// The shipped nginx locations (`nginx/masterplan-locations.conf`), included by the generated config.
    static func nginxLocations() throws -> String {
        let fm = FileManager.default
        let candidates = searchRoots.map { $0 + "/nginx/masterplan-locations.conf" } + ["/etc/nginx/masterplan/masterplan-locations.conf"]
        if let found = candidates.first(where: { fm.fileExists(atPath: $0) }) {
            return URL(fileURLWithPath: found).standardizedFileURL.path
        }
        throw UpFailure("nginx/masterplan-locations.conf was not found: run masterplan up from the repository")
    }

    /// nginx's executable.
    static func nginxExecutable() throws -> String {
        let candidates = ["/usr/sbin/nginx", "/usr/bin/nginx", "/usr/local/sbin/nginx"]
            + (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":").map { "\($0)/nginx" }
        if let found = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) { return found }
        throw UpFailure("nginx is not installed: run make deps (or apt-get install nginx), or pass --no-nginx")
    }

    /// The bundled demo cassette (`DemoCassette.path`, in the LLM module's resource bundle beside the
    /// executable), else the one in a checkout's `Sources/LLM/Resources/demo/`.
    static func demoCassette() -> String? {
        let fm = FileManager.default
        if fm.fileExists(atPath: DemoCassette.path) { return DemoCassette.path }
        return searchRoots.map { $0 + "/Sources/LLM/Resources/demo/" + DemoCassette.fileName }.first { fm.fileExists(atPath: $0) }
    }

    /// The first folder on the way to `path` that users other than its owner cannot search (o+x),
    /// or nil when every folder is searchable. nginx's workers (`nobody`) and the private cluster's
    /// server (`postgres`) run as other users when `up` runs as root.
    static func folderClosedToOthers(on path: String) -> String? {
        var current = "/"
        for component in URL(fileURLWithPath: path).standardizedFileURL.pathComponents.dropFirst() {
            current = current == "/" ? "/" + component : current + "/" + component
            var info = stat()
            guard stat(current, &info) == 0 else { return nil }  // not created yet: we create it 0755
            if (info.st_mode & S_IFMT) == S_IFDIR && (info.st_mode & S_IXOTH) == 0 { return current }
        }
        return nil
    }
}
