import Glibc

/// Installs a Python project's requirements in two boxes, so that nothing a model chose runs with a
/// network, no box ever has a writable host folder, and nothing a box wrote is followed by the executor.
///
/// 1. **Fetch**: a box with network, whose working folder is empty and read-only, runs the system's pip
///    to download *built wheels* of the requirements the system's Python lacks (`--only-binary=:all:`:
///    a source distribution would run its own build code) into its own size-limited `/tmp`, and hands
///    them over as a `FolderStream` of at most `maxDownloadBytes`.
/// 2. The executor writes the wheels into a new folder itself (no links, no path outside it).
/// 3. **Install**: a box without network installs those wheels (`--no-index`, nothing compiled) into its
///    own `/tmp` and hands the result over the same way (at most `maxInstalledBytes`).
/// 4. The executor writes it into a new folder, which replaces `.masterplan/site-packages` (see
///    `Workspace.replaceEngineFolder`); it belongs to the executor, so every later run sees it read-only.
///
/// Requirement lines must already have passed `RequirementsCheck`.
public struct PythonDependencyInstall: Sendable {
    public var sandbox: Sandbox
    public var python: String
    /// Variables passed to the fetch box, when the executor has them: proxies and pip's index settings.
    public var fetchEnvironment: [String: String]

    /// The most the downloaded wheels may weigh together.
    public static let maxDownloadBytes = 768 << 20
    /// The most the installed packages may weigh together.
    public static let maxInstalledBytes = 1536 << 20
    /// The fetch box: no network of its own (only `IndexGuard`'s socket), the network's settings (pip's
    /// configuration, certificates), ten minutes, a `/tmp` that holds the downloads (pip keeps a partial
    /// file beside each finished one).
    public static let fetchLimits: SandboxLimits = {
        var limits = SandboxLimits(timeout: .seconds(600), memoryBytes: 2 << 30, outputBytes: 64 << 10, network: false,
                                   fileBytes: 512 << 20, tmpBytes: maxDownloadBytes + (256 << 20))
        limits.networkSettings = true
        return limits
    }()
    /// The install box: no network; pip unpacks and installs in `/tmp`.
    public static let installLimits = SandboxLimits(timeout: .seconds(600), memoryBytes: 2 << 30, outputBytes: 64 << 10,
                                                    network: false, fileBytes: 512 << 20, tmpBytes: maxInstalledBytes + (512 << 20))
    /// Where installed packages end up, relative to the workspace's engine folder.
    public static let installedFolder = "site-packages"
    /// The environment variables the fetch box and its guard inherit from the executor: pip's index settings.
    public static let passedVariables = ["PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL", "PIP_TRUSTED_HOST", "PIP_DEFAULT_TIMEOUT"]
    /// Where the fetch box finds the guard's socket (`IndexGuard`).
    static let guardVariable = "MASTERPLAN_INDEX_GUARD"

    public init(sandbox: Sandbox, python: String, environment: [String: String]) {
        self.sandbox = sandbox
        self.python = python
        fetchEnvironment = environment.filter { Self.passedVariables.contains($0.key) && !$0.value.isEmpty }
    }

    /// How an install ended.
    public struct Outcome: Sendable {
        public var passed: Bool
        /// One sentence for the plan's history when it failed.
        public var reason: String?
        /// Both boxes' output, fetch first.
        public var output: String
        public var duration: Duration
    }

    /// The fetch box's view: its empty, read-only working folder and the guard's socket folder, read-only.
    public static func fetchView(empty: String, guardFolder: String?) -> SandboxWorkspace {
        var view = SandboxWorkspace.readOnly(empty)
        if let guardFolder { view.readOnlyBinds = [.init(source: guardFolder, path: IndexGuard.shownAt)] }
        return view
    }

    /// The install box's view: its empty, read-only working folder and the wheels, read-only.
    public static func installView(empty: String, wheels: String) -> SandboxWorkspace {
        var view = SandboxWorkspace.readOnly(empty)
        view.readOnlyBinds = [.init(source: wheels, path: wheels)]
        return view
    }

    /// Fetches and installs `requirements` (checked lines) into `workspace`'s `.masterplan/site-packages`.
    /// Blocking: call it from the executor's CPU-bound pool.
    public func run(_ requirements: [String], in workspace: Workspace) -> Outcome {
        let owner: (user: UInt32, group: UInt32)? = sandbox.switchesUser
            ? (sandbox.configuration.userID, sandbox.configuration.groupID) : nil
        let empty: String
        let wheels: String
        let target: String
        do {
            // The boxes' working folder: the sandbox user's, so that bwrap can mount it, but read-only inside.
            empty = try workspace.makeEngineFolder(prefix: "box", owner: owner)
            wheels = try workspace.makeEngineFolder(prefix: "wheels", owner: nil, mode: 0o755)
            target = try workspace.makeEngineFolder(prefix: "install", owner: nil, mode: 0o755)
        } catch {
            return Outcome(passed: false, reason: "the install folders could not be made: \(error)", output: "", duration: .zero)
        }
        defer {
            for folder in [empty, wheels, target] { ScratchFolder(path: folder).remove() }
        }
        let guardFolder: String
        let indexGuard: IndexGuard
        do {
            guardFolder = try workspace.makeEngineFolder(prefix: "guard", owner: nil, mode: 0o755)
            indexGuard = try IndexGuard(sandbox: sandbox, python: python, folder: guardFolder, empty: empty, environment: fetchEnvironment)
        } catch {
            return Outcome(passed: false, reason: "the index guard could not start: \(error)", output: "", duration: .zero)
        }
        defer { ScratchFolder(path: guardFolder).remove() }
        let fetch = handOver(into: wheels, limit: Self.maxDownloadBytes, what: "the downloaded wheels") { export in
            sandbox.run(python, ["-I", "-c", Self.fetchScript, "--"] + requirements,
                        in: Self.fetchView(empty: empty, guardFolder: guardFolder), limits: Self.fetchLimits,
                        environment: fetchEnvironment.merging(["HOME": "/tmp", Self.guardVariable: indexGuard.socketPath]) { $1 },
                        export: export)
        }
        let guardOutput = indexGuard.stop()
        var output = "--- fetch ---\n" + fetch.result.outputWithNotice
            + (guardOutput.isEmpty ? "" : "\n--- index guard ---\n" + guardOutput)
        if let problem = fetch.problem {
            return Outcome(passed: false, reason: problem, output: output, duration: fetch.result.duration)
        }
        let install = handOver(into: target, limit: Self.maxInstalledBytes, what: "the installed packages") { export in
            sandbox.run(python, ["-I", "-c", Self.installScript, wheels, "--"] + requirements,
                        in: Self.installView(empty: empty, wheels: wheels), limits: Self.installLimits,
                        environment: ["HOME": "/tmp"], export: export)
        }
        output += "\n--- install ---\n" + install.result.outputWithNotice
        let duration = fetch.result.duration + install.result.duration
        if let problem = install.problem {
            return Outcome(passed: false, reason: problem, output: output, duration: duration)
        }
        do {
            try workspace.replaceEngineFolder(Self.installedFolder, with: String(target.split(separator: "/").last!))
        } catch {
            return Outcome(passed: false, reason: "the installed packages could not be put in place: \(error)", output: output,
                           duration: duration)
        }
        return Outcome(passed: true, reason: nil, output: output, duration: duration)
    }

    /// Runs a box that exports a folder on descriptor 4 into an unnamed file (at most `limit` bytes plus
    /// the stream's own overhead), then writes that folder into `folder`. Returns the box's result and,
    /// when anything failed, one sentence saying what.
    private func handOver(into folder: String, limit: Int, what: String,
                          _ box: ((descriptor: Int32, limit: Int)) -> SandboxResult) -> (result: SandboxResult, problem: String?) {
        let file = HostPath.unnamedFile(in: folder, mode: 0o600)
        guard file >= 0 else {
            return (.notStarted("no file for \(what)"), "cannot make a file for \(what): \(String(cString: strerror(errno)))")
        }
        defer { close(file) }
        let streamLimit = limit + limit / 16 + (1 << 20)
        let result = box((file, streamLimit))
        if result.status != .passed {
            return (result, Self.failure(result, what: what))
        }
        if result.reportOverflow > 0 {
            return (result, "\(what) weigh more than \(limit >> 20) MiB, the limit")
        }
        if let code = result.exportError {
            return (result, "\(what) could not be written: \(String(cString: strerror(code)))")
        }
        lseek(file, 0, SEEK_SET)
        do {
            _ = try FolderStream.extract(from: file, into: folder)
        } catch {
            return (result, "\(what) were refused: \(error.description)")
        }
        return (result, nil)
    }

    /// One sentence on why a box failed: a package without a built wheel is named.
    static func failure(_ result: SandboxResult, what: String) -> String {
        if result.status == .timedOut { return "making \(what) took longer than \(fetchLimits.timeout)" }
        if result.status == .error { return "the box could not start: " + ValidatorResult.excerpt(result.output, lines: 3) }
        if result.output.contains("No space left on device") {
            return "\(what) do not fit in the box's \(fetchLimits.tmpBytes >> 20) MiB of working space"
        }
        if result.output.contains("No module named pip") {
            return "pip is not installed for \(result.output.contains("python3") ? "python3" : "the system's Python"); install the Debian package python3-pip (make deps)"
        }
        let marker = "No matching distribution found for "
        if let range = result.output.range(of: marker) {
            let name = result.output[range.upperBound...].prefix { !$0.isNewline }
            return "no built wheel of \(name) for this Python and machine is on the index (source distributions are "
                + "refused: their build code would run); pin a version that publishes wheels, or choose another package"
        }
        return "pip failed making \(what): " + ValidatorResult.excerpt(result.output, lines: 3)
    }

    /// The requirements the system's Python lacks (shared by both scripts): a distribution already
    /// installed is never fetched again.
    static let missingRequirements = """
        import importlib.metadata as metadata, os, re, subprocess, sys
        requirements = sys.argv[sys.argv.index("--") + 1:]
        missing = []
        for line in requirements:
            name = re.split(r"[<>=!~\\[;@ ]", line, maxsplit=1)[0]
            try:
                metadata.distribution(name)
            except metadata.PackageNotFoundError:
                missing.append(line)
        """ + FolderStream.pythonWriter + """
        if not missing:
            print("every requirement is installed on the system")
            os.makedirs("/tmp/out", exist_ok=True)
            export_folder("/tmp/out")
            sys.exit(0)
        """

    /// Runs in the fetch box: downloads into `/tmp/out` and exports it.
    static let fetchScript = missingRequirements + """

        # No network here: pip's proxy is a port of this box's own loopback, forwarded to the guard's socket.
        import socket, threading
        """ + IndexGuard.pythonPump + """
        def forward(listener, path):
            while True:
                client, _ = listener.accept()
                upstream = socket.socket(socket.AF_UNIX)
                upstream.connect(path)
                threading.Thread(target=pump, args=(client, upstream), daemon=True).start()
                threading.Thread(target=pump, args=(upstream, client), daemon=True).start()
        forwarder = socket.socket()
        forwarder.bind(("127.0.0.1", 0))
        forwarder.listen(64)
        threading.Thread(target=forward, args=(forwarder, os.environ["MASTERPLAN_INDEX_GUARD"]), daemon=True).start()
        proxy = "http://127.0.0.1:%d" % forwarder.getsockname()[1]
        print("fetching built wheels of: " + ", ".join(missing), flush=True)
        code = subprocess.call([sys.executable, "-I", "-m", "pip", "download", "--quiet", "--disable-pip-version-check",
                                "--no-input", "--no-cache-dir", "--only-binary=:all:", "--proxy", proxy,
                                "--dest", "/tmp/out", "--"] + missing)
        if code == 0:
            export_folder("/tmp/out")
        sys.exit(code)
        """

    /// Runs in the install box: installs into `/tmp/out` from the (read-only) wheels in `argv[1]` and exports it.
    static let installScript = missingRequirements + """

        print("installing from the downloaded wheels: " + ", ".join(missing), flush=True)
        code = subprocess.call([sys.executable, "-I", "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                                "--no-input", "--no-cache-dir", "--no-index", "--find-links", sys.argv[1],
                                "--only-binary=:all:", "--no-compile", "--target", "/tmp/out", "--"] + missing)
        if code == 0:
            export_folder("/tmp/out")
        sys.exit(code)
        """
}
