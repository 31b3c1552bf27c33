import Glibc

/// Installs a Python project's requirements in two boxes, so that nothing a model chose runs with a
/// network and nothing a box wrote is later trusted by the executor.
///
/// 1. **Fetch**: a box with network that sees no workspace, only an empty download folder, runs the
///    system's pip to download *built wheels* of the requirements the system's Python lacks
///    (`--only-binary=:all:`: a source distribution would run its own build code). Only pip runs there.
/// 2. **Install**: a box without network installs those wheels (`--no-index`, nothing compiled) into
///    a new, empty folder that is its only writable place.
///
/// The result replaces `.masterplan/site-packages` (see `Workspace.replaceEngineFolder`), which every
/// later run sees read-only. Requirement lines must already have passed `RequirementsCheck`.
public struct PythonDependencyInstall: Sendable {
    public var sandbox: Sandbox
    public var python: String
    /// Variables passed to the fetch box, when the executor has them: proxies and pip's index settings.
    public var fetchEnvironment: [String: String]

    /// The fetch box: network, ten minutes, large files allowed.
    public static let fetchLimits = SandboxLimits(timeout: .seconds(600), memoryBytes: 2 << 30, outputBytes: 64 << 10,
                                                  network: true, fileBytes: 512 << 20, tmpBytes: 512 << 20)
    /// The install box: no network; pip unpacks through `/tmp`.
    public static let installLimits = SandboxLimits(timeout: .seconds(600), memoryBytes: 2 << 30, outputBytes: 64 << 10,
                                                    network: false, fileBytes: 512 << 20, tmpBytes: 1 << 30)
    /// The most the downloaded wheels may weigh together.
    public static let maxDownloadBytes = 1 << 30
    /// Where installed packages end up, relative to the workspace's engine folder.
    public static let installedFolder = "site-packages"
    /// The environment variables the fetch box inherits from the executor.
    public static let passedVariables = ["HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "http_proxy", "https_proxy", "no_proxy",
                                         "PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL", "PIP_TRUSTED_HOST", "PIP_DEFAULT_TIMEOUT"]

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

    /// Fetches and installs `requirements` (checked lines) into `workspace`'s `.masterplan/site-packages`.
    /// Blocking: call it from the executor's CPU-bound pool.
    public func run(_ requirements: [String], in workspace: Workspace) -> Outcome {
        let owner: (user: UInt32, group: UInt32)? = sandbox.switchesUser
            ? (sandbox.configuration.userID, sandbox.configuration.groupID) : nil
        let wheels: String
        let target: String
        do {
            wheels = try workspace.makeEngineFolder(prefix: "wheels", owner: owner)
            target = try workspace.makeEngineFolder(prefix: "install", owner: owner)
        } catch {
            return Outcome(passed: false, reason: "the install folders could not be made: \(error)", output: "", duration: .zero)
        }
        defer {
            ScratchFolder(path: wheels).remove()
            ScratchFolder(path: target).remove()
        }
        let fetch = sandbox.run(python, ["-I", "-c", Self.fetchScript, "--"] + requirements, in: .readWrite(wheels),
                                limits: Self.fetchLimits, environment: fetchEnvironment.merging(["HOME": "/tmp"]) { $1 })
        var output = "--- fetch ---\n" + fetch.outputWithNotice
        guard fetch.status == .passed else {
            return Outcome(passed: false, reason: Self.fetchFailure(fetch), output: output, duration: fetch.duration)
        }
        let downloaded = Self.bytes(in: wheels)
        guard downloaded <= Self.maxDownloadBytes else {
            return Outcome(passed: false, reason: "the wheels weigh \(downloaded >> 20) MiB, over the \(Self.maxDownloadBytes >> 20) MiB limit",
                           output: output, duration: fetch.duration)
        }
        var workspaceView = SandboxWorkspace.readWrite(target)
        workspaceView.readOnlyBinds = [.init(source: wheels, path: wheels)]
        let install = sandbox.run(python, ["-I", "-c", Self.installScript, wheels, "--"] + requirements, in: workspaceView,
                                  limits: Self.installLimits, environment: ["HOME": "/tmp"])
        output += "\n--- install ---\n" + install.outputWithNotice
        let duration = fetch.duration + install.duration
        guard install.status == .passed else {
            let reason = install.status == .timedOut ? "installing the wheels took longer than \(Self.installLimits.timeout)"
                : "pip could not install the downloaded wheels: " + ValidatorResult.excerpt(install.output, lines: 3)
            return Outcome(passed: false, reason: reason, output: output, duration: duration)
        }
        do {
            try workspace.replaceEngineFolder(Self.installedFolder, with: String(target.split(separator: "/").last!))
        } catch {
            return Outcome(passed: false, reason: "the installed packages could not be put in place: \(error)", output: output,
                           duration: duration)
        }
        return Outcome(passed: true, reason: nil, output: output, duration: duration)
    }

    /// One sentence on why the fetch failed: a package without a built wheel is named.
    static func fetchFailure(_ result: SandboxResult) -> String {
        if result.status == .timedOut { return "downloading the wheels took longer than \(fetchLimits.timeout)" }
        if result.status == .error { return "the fetch box could not start: " + ValidatorResult.excerpt(result.output, lines: 3) }
        if result.output.contains("No module named pip") {
            return "pip is not installed for \(result.output.contains("python3") ? "python3" : "the system's Python"); install the Debian package python3-pip (make deps)"
        }
        let marker = "No matching distribution found for "
        if let range = result.output.range(of: marker) {
            let name = result.output[range.upperBound...].prefix { !$0.isNewline }
            return "no built wheel of \(name) for this Python and machine is on the index (source distributions are "
                + "refused: their build code would run); pin a version that publishes wheels, or choose another package"
        }
        return "pip could not download the requirements: " + ValidatorResult.excerpt(result.output, lines: 3)
    }

    /// The bytes of the regular files directly in `folder` (pip downloads into one flat folder); links and
    /// special files are not followed.
    static func bytes(in folder: String) -> Int {
        guard let directory = opendir(folder) else { return Int.max }
        defer { closedir(directory) }
        var total = 0
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            if name == "." || name == ".." { continue }
            var info = stat()
            guard fstatat(dirfd(directory), name, &info, AT_SYMLINK_NOFOLLOW) == 0 else { continue }
            // A folder in the download folder is not pip's; count it as too much rather than walk it.
            if info.st_mode & S_IFMT == S_IFDIR { return Int.max }
            if info.st_mode & S_IFMT == S_IFREG { total += Int(info.st_size) }
        }
        return total
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
        if not missing:
            print("every requirement is installed on the system")
            sys.exit(0)
        """

    /// Runs in the fetch box, in the empty download folder.
    static let fetchScript = missingRequirements + """

        print("fetching built wheels of: " + ", ".join(missing), flush=True)
        sys.exit(subprocess.call([sys.executable, "-I", "-m", "pip", "download", "--quiet", "--disable-pip-version-check",
                                  "--no-input", "--no-cache-dir", "--only-binary=:all:", "--dest", ".", "--"] + missing))
        """

    /// Runs in the install box, in the empty target folder; `argv[1]` is the (read-only) download folder.
    static let installScript = missingRequirements + """

        print("installing from the downloaded wheels: " + ", ".join(missing), flush=True)
        sys.exit(subprocess.call([sys.executable, "-I", "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                                  "--no-input", "--no-cache-dir", "--no-index", "--find-links", sys.argv[1],
                                  "--only-binary=:all:", "--no-compile", "--target", ".", "--"] + missing))
        """
}
