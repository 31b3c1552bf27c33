import Base
import Glibc

/// Runs a program under bubblewrap as an unprivileged box: no capabilities, no network (unless asked),
/// no host processes, a seccomp filter, a minimal read-only view of the machine (the toolchains'
/// folders, a few files of /etc), a private size-limited `/tmp`, one workspace folder, and time,
/// memory, process, file-size and output limits.
///
/// The box is unprivileged for real, not only inside its namespaces: when the executor runs as root,
/// `setpriv` first switches to an ordinary host user (65534, `nobody`, by default), so the program is
/// that user for every permission check on the host file system.
/// As root, bwrap would otherwise keep the host uid 0 (without `--cap-drop ALL` it could even remount
/// `/` read-write). `--cap-drop ALL` stays as a second lock, and `SeccompFilter` refuses the system
/// calls generated code never needs (loaded by bwrap from an unnamed file, `SeccompProgramFile`).
///
/// Limits come from `prlimit`, which runs first inside the box, sets `RLIMIT_AS`, `RLIMIT_NPROC`,
/// `RLIMIT_FSIZE`, `RLIMIT_NOFILE` and `RLIMIT_CORE` on itself and execs the program: glibc's
/// `posix_spawn` has no resource-limit attribute, Swift cannot safely run `setrlimit` between fork and
/// exec, and setting them on bwrap itself would also squeeze bwrap's own set-up. Limits set there are
/// inherited by everything the program starts and cannot be raised again without capabilities.
///
/// A missing bwrap fails `init`; nothing ever runs unsandboxed. `run` blocks: call it from a thread of
/// its own (the executor's CPU-bound pool), never from the cooperative thread pool.
public struct Sandbox: Sendable {
    public struct Configuration: Sendable, Hashable {
        public var bubblewrap: String
        public var prlimit: String
        public var setpriv: String
        /// The host user and group the box runs as when the executor runs as root.
        public var userID: UInt32
        public var groupID: UInt32
        /// The host folders the toolchains live in, shown read-only at the same paths. A folder that is
        /// a link on the host (`/bin` → `usr/bin` on a merged-/usr system) is shown as the same link;
        /// paths that do not exist are skipped. Nothing else of the host is visible: no data folder, no
        /// home folders, no sockets, no logs, no checkout.
        public var systemFolders: [String]
        /// Files and folders of `/etc` that programs read on start (the dynamic linker's cache, the
        /// time zone, the name service's local files), shown read-only. None holds a secret.
        public var configurationFiles: [String]
        /// What a run with network also needs: name resolution, certificates and pip's own settings.
        public var networkConfigurationFiles: [String]
        /// `PATH` inside the box; interpreters are called by absolute path anyway.
        public var searchPath: String

        public init(bubblewrap: String = "/usr/bin/bwrap", prlimit: String = "/usr/bin/prlimit",
                    setpriv: String = "/usr/bin/setpriv", userID: UInt32 = 65534, groupID: UInt32 = 65534,
                    systemFolders: [String] = Configuration.defaultSystemFolders,
                    configurationFiles: [String] = Configuration.defaultConfigurationFiles,
                    networkConfigurationFiles: [String] = Configuration.defaultNetworkConfigurationFiles,
                    searchPath: String = "/usr/bin:/bin") {
            self.bubblewrap = bubblewrap
            self.prlimit = prlimit
            self.setpriv = setpriv
            self.userID = userID
            self.groupID = groupID
            self.systemFolders = systemFolders
            self.configurationFiles = configurationFiles
            self.networkConfigurationFiles = networkConfigurationFiles
            self.searchPath = searchPath
        }

        public static let defaultSystemFolders = ["/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"]
        public static let defaultConfigurationFiles = [
            "/etc/ld.so.cache", "/etc/ld.so.conf", "/etc/ld.so.conf.d", "/etc/alternatives", "/etc/localtime",
            "/etc/timezone", "/etc/passwd", "/etc/group", "/etc/nsswitch.conf", "/etc/host.conf", "/etc/hosts",
            "/etc/mime.types", "/etc/os-release", "/etc/debian_version", "/etc/python3", "/etc/python3.11",
            "/etc/python3.12", "/etc/python3.13",
        ]
        public static let defaultNetworkConfigurationFiles = [
            "/etc/resolv.conf", "/etc/gai.conf", "/etc/ssl", "/etc/ca-certificates", "/etc/pki", "/etc/pip.conf",
            "/etc/xdg/pip",
        ]
    }

    public let configuration: Configuration
    /// True when the executor runs as root and the box therefore switches to `configuration.userID`.
    public let switchesUser: Bool
    /// The seccomp program every box runs under (`SeccompFilter`): system calls generated code never
    /// needs fail with EPERM.
    let seccomp: SeccompProgramFile

    /// Where a copied workspace's source is shown (read-only) while the box fills its own workspace from it.
    static let copySource = "/run/masterplan-source"
    /// The descriptor bwrap reads the seccomp program from.
    static let seccompDescriptor: Int32 = 5
    /// The descriptor a passed listening socket gets (`run`'s `listener`).
    public static let listenerDescriptor: Int32 = 6
    /// The descriptor `run`'s `secret` is read from: a pipe holding only those bytes, already closed at
    /// its other end. Unlike the environment (which `/proc/PID/environ` shows to any process of the
    /// box, also after the program removed the variable), the bytes are gone once the program read
    /// them and closed the descriptor, and no process it starts afterwards inherits them.
    public static let secretDescriptor: Int32 = 7
    /// Fills the box's workspace (the working directory) from `copySource` with the system's `cp`, then
    /// runs the rest of the command line. `$1` is the workspace's size limit in MiB, for the message.
    static let copyScript = """
        limit="$1"; shift
        if ! cp -R -P --preserve=mode,timestamps -- \(copySource)/. . ; then
            echo "masterplan: the workspace could not be copied into the box (its limit is ${limit} MiB); cp said why above" >&2
            exit 125
        fi
        exec "$@"
        """

    /// Folders a workspace may never be (or be inside): mounting one writable would hand the box the system.
    static let systemFolders = ["/bin", "/boot", "/dev", "/etc", "/lib", "/lib32", "/lib64", "/proc", "/sbin", "/sys", "/usr"]

    /// Checks that the programs the sandbox needs are present and executable.
    public init(configuration: Configuration = Configuration()) throws(SandboxError) {
        self.configuration = configuration
        switchesUser = geteuid() == 0
        // On a machine without a filter table for its architecture, no box runs at all.
        seccomp = try SeccompProgramFile(program: SeccompFilter().bytes())
        var needed = [("bwrap", configuration.bubblewrap, "bubblewrap"), ("prlimit", configuration.prlimit, "util-linux")]
        if switchesUser { needed.append(("setpriv", configuration.setpriv, "util-linux")) }
        for (name, path, package) in needed {
            guard path.hasPrefix("/") else {
                throw SandboxError(kind: .invalidConfiguration, message: "the path of \(name) must be absolute, not \(path)")
            }
            guard access(path, X_OK) == 0 else {
                throw SandboxError(kind: .missingProgram,
                                   message: "\(name) is not available at \(path); install the Debian package \(package) (make deps)")
            }
        }
        if !SpawnedProgram.closesInheritedDescriptors {
            throw SandboxError(kind: .missingProgram,
                               message: "this C library cannot close inherited descriptors in a new process (posix_spawn_file_actions_addclosefrom_np, glibc 2.34 or later): the box would inherit the executor's sockets")
        }
        if switchesUser && configuration.userID == 0 {
            throw SandboxError(kind: .invalidConfiguration, message: "the sandbox user must not be root (uid 0)")
        }
    }

    /// The environment every boxed program starts with; `run`'s `environment` adds to it.
    public var baseEnvironment: [String: String] {
        [
            "PATH": configuration.searchPath,
            "HOME": "/tmp",
            "TMPDIR": "/tmp",
            "LANG": "C.UTF-8",
            "LC_ALL": "C.UTF-8",
            "TERM": "dumb",
            "NO_COLOR": "1",
            "PYTHONDONTWRITEBYTECODE": "1",
            "PYTHONNOUSERSITE": "1",
            "PYTHONUNBUFFERED": "1",
            "PIP_DISABLE_PIP_VERSION_CHECK": "1",
            "PIP_NO_INPUT": "1",
        ]
    }

    /// Runs `executable` (an absolute path) with `arguments` in the box, with `workspace` as its working
    /// directory. Never throws: a box that cannot start is a result with status `.error` saying why.
    /// With `capturesReport`, descriptor 4 of the program is a pipe of its own whose bytes come back in
    /// `SandboxResult.report` (the acceptance-test harness writes its per-test report there).
    ///
    /// With `export`, descriptor 4 is instead written to that open host file, at most `limit` bytes: the
    /// one way a box hands over a large result (installed packages) without a writable host folder, so
    /// that what it can put on the host's disk is bounded by `limit` whatever runs inside. With `listener`,
    /// that open socket is the program's descriptor 6 (the fetch guard accepts on it). With `secret`, those
    /// bytes (at most a pipe's buffer) are readable once on descriptor 7 (`secretDescriptor`).
    public func run(_ executable: String, _ arguments: [String], in workspace: SandboxWorkspace, limits: SandboxLimits,
                    environment: [String: String] = [:], capturesReport: Bool = false,
                    export: (descriptor: Int32, limit: Int)? = nil, listener: Int32? = nil, secret: [UInt8]? = nil) -> SandboxResult {
        if let problem = problem(with: executable, workspace: workspace) {
            return .notStarted(problem)
        }
        var passed = listener.map { [($0, Self.listenerDescriptor)] } ?? []
        var secretReader: Int32 = -1
        defer { if secretReader >= 0 { close(secretReader) } }
        if let secret {
            let (reader, problem) = Self.pipeHolding(secret)
            if let problem { return .notStarted(problem) }
            secretReader = reader
            passed.append((reader, Self.secretDescriptor))
        }
        let program = SpawnedProgram(
            executable: switchesUser ? configuration.setpriv : configuration.bubblewrap,
            arguments: Array(commandLine(executable, arguments, in: workspace, limits: limits).dropFirst()),
            environment: baseEnvironment.merging(environment) { $1 },
            timeout: limits.timeout, outputLimit: limits.outputBytes, capturesDescriptor3: true,
            capturesDescriptor4: capturesReport || export != nil, reportLimit: export?.limit ?? SpawnedProgram.defaultReportLimit,
            reportSink: export?.descriptor, passedDescriptors: passed,
            openedFiles: [(Self.seccompDescriptor, seccomp.pathInChild)])
        let run: SpawnedProgram.Run
        do {
            run = try program.run()
        } catch {
            return .notStarted(error.description)
        }
        let report = BubblewrapStatus(run.statusBytes)
        var result = SandboxResult(status: .error, exitCode: nil, signal: nil, duration: run.duration, output: run.output.text,
                                   outputBytes: run.output.totalBytes, droppedOutputBytes: run.output.droppedBytes)
        result.report = run.reportBytes
        result.reportOverflow = run.reportOverflow
        result.exportError = run.reportSinkError
        switch run.termination {
        case .timedOut:
            result.status = .timedOut
        case .signalled(let signal):
            result.status = report.childStarted ? .failed : .error
            result.signal = signal
        case .exited(let code):
            if !report.childStarted {
                // bwrap itself failed (a mount, a namespace); its message is in the output.
                result.status = .error
                if result.output.isEmpty { result.output = "the sandbox failed to start (bwrap exit status \(code))" }
            } else {
                let exitCode = report.exitCode ?? code
                result.exitCode = exitCode
                result.status = exitCode == 0 ? .passed : .failed
            }
        }
        return result
    }

    /// The reading end of a close-on-exec pipe that holds `bytes` (at most 4 KiB, well inside a pipe's
    /// buffer) and whose writing end is closed. Both ends sit above the descriptors the child gets, so
    /// placing those never overwrites this one.
    static func pipeHolding(_ bytes: [UInt8]) -> (reader: Int32, problem: String?) {
        guard bytes.count <= 4096 else { return (-1, "the run's secret is larger than 4 KiB") }
        var low: [Int32] = [-1, -1]
        guard pipe(&low) == 0 else {
            return (-1, "cannot make a pipe for the run: \(String(cString: strerror(errno)))")
        }
        let ends = low.map { fcntl($0, F_DUPFD_CLOEXEC, 10) }
        low.forEach { close($0) }
        guard ends.allSatisfy({ $0 >= 0 }) else {
            ends.filter { $0 >= 0 }.forEach { close($0) }
            return (-1, "cannot place the run's secret pipe: \(String(cString: strerror(errno)))")
        }
        defer { close(ends[1]) }
        var offset = 0
        while offset < bytes.count {
            let written = bytes[offset...].withUnsafeBytes { write(ends[1], $0.baseAddress, $0.count) }
            if written < 0, errno == EINTR { continue }
            guard written > 0 else {
                close(ends[0])
                return (-1, "cannot fill the run's secret pipe: \(String(cString: strerror(errno)))")
            }
            offset += written
        }
        return (ends[0], nil)
    }

    /// The full command line: `[setpriv …] bwrap … -- prlimit … -- executable arguments`. The first
    /// element is the program to spawn.
    public func commandLine(_ executable: String, _ arguments: [String], in workspace: SandboxWorkspace,
                            limits: SandboxLimits) -> [String] {
        var line: [String] = []
        if switchesUser {
            line += [configuration.setpriv, "--reuid=\(configuration.userID)", "--regid=\(configuration.groupID)",
                     "--clear-groups", "--inh-caps=-all", "--bounding-set=-all", "--"]
        }
        line += [configuration.bubblewrap,
                 "--unshare-all", "--unshare-user", "--uid", "65534", "--gid", "65534", "--disable-userns"]
        if limits.network { line.append("--share-net") }
        line += ["--cap-drop", "ALL", "--die-with-parent", "--new-session", "--hostname", "sandbox"]
        // No `--ro-bind / /`: the root is an empty tmpfs of bwrap's (read-only once everything is
        // mounted), holding only the toolchains' folders, a few files of /etc and the workspace.
        for folder in configuration.systemFolders { line += showing(folder) }
        for file in configuration.configurationFiles { line += showing(file) }
        if limits.network || limits.networkSettings {
            for file in configuration.networkConfigurationFiles { line += showing(file) }
        }
        // A fresh /dev with only the harmless devices, read-only so it cannot fill memory; /dev/shm
        // (Python's multiprocessing needs it) and /tmp are sized tmpfs.
        line += ["--dev", "/dev", "--remount-ro", "/dev",
                 "--perms", "01777", "--size", String(limits.tmpBytes), "--tmpfs", "/dev/shm"]
        if limits.processFiles { line += ["--proc", "/proc"] }
        line += ["--perms", "01777", "--size", String(limits.tmpBytes), "--tmpfs", "/tmp"]
        if workspace.copiesIntoBox {
            // The run writes into a size-limited tmpfs of its own, filled from the read-only source
            // before the program starts: nothing it writes reaches a host disk, and it cannot write
            // more than `limits.workspaceBytes`.
            line += ["--perms", "0755", "--size", String(limits.workspaceBytes), "--tmpfs", workspace.path,
                     "--ro-bind", workspace.source, Self.copySource]
        } else {
            line += [workspace.writable ? "--bind" : "--ro-bind", workspace.source, workspace.path]
        }
        // Git's metadata is the executor's: a program that could write hooks or config there would run
        // code as the executor at the next commit. Hidden even from read-only runs.
        var gitInfo = stat()
        if !workspace.copiesIntoBox, lstat(workspace.source + "/.git", &gitInfo) == 0 {
            line += gitInfo.st_mode & S_IFMT == S_IFDIR ? emptyFolder(at: workspace.path + "/.git")
                                                        : ["--ro-bind", "/dev/null", workspace.path + "/.git"]
        }
        for bind in workspace.readOnlyBinds { line += ["--ro-bind", bind.source, bind.path] }
        line += ["--seccomp", String(Self.seccompDescriptor)]
        line += ["--remount-ro", "/"]
        line += ["--chdir", workspace.path, "--json-status-fd", "3", "--"]
        if workspace.copiesIntoBox {
            // `cp` and `sh` are the system's; the copy's failure (it does not fit) is the run's error.
            line += ["/bin/sh", "-c", Self.copyScript, "sh", String(limits.workspaceBytes >> 20)]
        }
        line += [configuration.prlimit,
                 "--as=\(limits.memoryBytes)", "--nproc=\(limits.processes)", "--fsize=\(limits.fileBytes)",
                 "--nofile=1024", "--core=0", "--",
                 executable]
        line += arguments
        return line
    }

    /// Why the run cannot start, or nil.
    private func problem(with executable: String, workspace: SandboxWorkspace) -> String? {
        guard executable.hasPrefix("/") else {
            return "the program must be given by absolute path, not \(executable)"
        }
        for path in [workspace.path, workspace.source] {
            guard path.hasPrefix("/"), path != "/", !path.hasSuffix("/"),
                  !path.split(separator: "/").contains(where: { $0 == ".." || $0 == "." }) else {
                return "the workspace path \(path) must be absolute and normalised"
            }
        }
        if let system = Self.systemFolders.first(where: { HostPath.isInside(workspace.path, $0) || workspace.path == $0 }) {
            return "the workspace \(workspace.path) is inside the system folder \(system)"
        }
        var info = stat()
        guard stat(workspace.source, &info) == 0, info.st_mode & S_IFMT == S_IFDIR else {
            return "the workspace folder \(workspace.source) does not exist"
        }
        for bind in workspace.readOnlyBinds {
            guard bind.source.hasPrefix("/"), bind.path.hasPrefix("/"), bind.path != "/",
                  !bind.path.split(separator: "/").contains(where: { $0 == ".." || $0 == "." }),
                  !Self.systemFolders.contains(where: { bind.path == $0 || HostPath.isInside(bind.path, $0) }) else {
                return "a read-only folder must come from an absolute path and be shown at a normalised path outside the system folders, not \(bind.path)"
            }
            var folder = stat()
            guard lstat(bind.source, &folder) == 0, folder.st_mode & S_IFMT == S_IFDIR else {
                return "the folder \(bind.source) to show read-only does not exist (or is a link)"
            }
        }
        // Only the system folders, the workspace and the read-only folders exist in the box.
        let visible = configuration.systemFolders + [workspace.path] + workspace.readOnlyBinds.map(\.path)
        guard visible.contains(where: { HostPath.isInside(executable, $0) }) else {
            return "\(executable) is outside the folders the box shows (\(configuration.systemFolders.joined(separator: ", ")) and the workspace)"
        }
        // A program inside the workspace (a virtual environment's python) is looked up in the mounted folder.
        let hostExecutable = HostPath.isInside(executable, workspace.path)
            ? workspace.source + executable.dropFirst(workspace.path.count) : executable
        guard access(hostExecutable, X_OK) == 0 else {
            return "\(executable) is not installed or not executable"
        }
        // bwrap mounts the source as the sandbox user, and the program then walks to the path inside.
        if switchesUser {
            for path in Set([workspace.source, workspace.path]) {
                if let blocked = firstUnsearchableFolder(on: path) {
                    return "the sandbox user \(configuration.userID) cannot reach \(path): \(blocked) is not searchable by it (chmod o+x \(blocked))"
                }
            }
        }
        return nil
    }

    /// The first folder on the way to `path` that the sandbox user may not enter (bwrap mounts the
    /// workspace as that user, so it must be able to walk there).
    private func firstUnsearchableFolder(on path: String) -> String? {
        var current = ""
        for component in (HostPath.resolved(path) ?? path).split(separator: "/") {
            current += "/" + component
            var info = stat()
            guard stat(current, &info) == 0 else { return current }
            let mode = info.st_mode
            let searchable = info.st_uid == configuration.userID ? mode & S_IXUSR != 0
                : info.st_gid == configuration.groupID ? mode & S_IXGRP != 0
                : mode & S_IXOTH != 0
            if !searchable { return current }
        }
        return nil
    }

    /// The bwrap arguments that show the host's `path` read-only at the same place: a link as the same
    /// link (its target must be shown by another entry), anything else bound; nothing when it is missing.
    private func showing(_ path: String) -> [String] {
        var info = stat()
        guard lstat(path, &info) == 0 else { return [] }
        if info.st_mode & S_IFMT == S_IFLNK {
            var target = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
            let length = readlink(path, &target, target.count - 1)
            guard length > 0 else { return [] }
            let destination = String(decoding: target.prefix(length).map { UInt8(bitPattern: $0) }, as: UTF8.self)
            // A file link (/etc/localtime → the zone file) is bound through to its target; a folder
            // link (/bin → usr/bin) stays a link, so that paths inside it keep resolving the same way.
            var resolved = stat()
            if stat(path, &resolved) == 0, resolved.st_mode & S_IFMT != S_IFDIR { return ["--ro-bind", path, path] }
            return ["--symlink", destination, path]
        }
        return ["--ro-bind", path, path]
    }

    /// An empty, read-only, tiny folder over `path`.
    private func emptyFolder(at path: String) -> [String] {
        ["--perms", "0555", "--size", "4096", "--tmpfs", path]
    }

    /// Runs `/usr/bin/true` in a box over a throwaway folder under `scratchParent`: a start-up check
    /// that this machine allows the namespaces the box needs. Nil when it works, else the reason.
    public func selfCheck(scratchParent: String = "/tmp") -> String? {
        var template = Array((scratchParent + "/masterplan-sandbox-check-XXXXXX").utf8CString)
        guard template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) != nil else {
            return "cannot create a folder under \(scratchParent): \(String(cString: strerror(errno)))"
        }
        let folder = String(decoding: template.dropLast().map { UInt8(bitPattern: $0) }, as: UTF8.self)
        defer { rmdir(folder) }
        chmod(folder, 0o755)
        let result = run("/usr/bin/true", [], in: .readOnly(folder), limits: .validator)
        return result.status == .passed ? nil : "the sandbox does not work here: \(result.outputWithNotice)"
    }
}
