import Foundation
import Glibc
import JSON
import Synchronization

extension ContainmentCheck {
    /// Runs one probe in one kind of run: prepares what it aims at, runs it in the box, looks at the host
    /// afterwards, and turns both into a verdict.
    func attempt(_ probe: ContainmentProbe, in kind: ContainmentRunKind, python: String, stage: Stage) -> ContainmentFinding {
        let marker = "masterplan-containment-" + Self.nonce()
        func finding(_ verdict: ContainmentFinding.Verdict, _ detail: String) -> ContainmentFinding {
            ContainmentFinding(kind: kind, probe: probe, verdict: verdict, detail: detail)
        }
        if probe == .reachNetwork && kind.limits.network {
            return finding(.skipped, "the \(kind.rawValue) box has the network by design (its reach of the host's loopback and sockets is probed)")
        }
        let view: BoxView
        do {
            view = try stage.view(for: kind, scratchParent: targets.scratchParent)
        } catch {
            return finding(.error, "the run's folders could not be made: \(error)")
        }
        defer { view.remove() }
        func run(_ arguments: JSONObject) -> Outcome {
            runBox(probe, in: kind, view: view, python: python, arguments: arguments)
        }
        /// LEAK with the leaks when there are any, else contained with the notes.
        func verdict(_ leaks: [String], _ notes: [String]) -> ContainmentFinding {
            leaks.isEmpty ? finding(.contained, notes.joined(separator: "; ")) : finding(.leak, leaks.joined(separator: "; "))
        }

        switch probe {
        case .readDataFolder:
            let data = targets.dataDirectory
            // The box sees the folders on the way to its own workspace (bwrap makes them as mount points).
            var ownWay: Set<String> = []
            if HostPath.isInside(targets.workspacesRoot, data),
               let first = targets.workspacesRoot.dropFirst(data.count + 1).split(separator: "/").first {
                ownWay.insert(String(first))
            }
            let hostNames = Set(Self.entries(of: data) ?? [])
            let outcome = run(["files": JSONValue([stage.dataMarker]), "folders": JSONValue([data])])
            guard let result = outcome.result else { return finding(.error, outcome.failure) }
            var leaks: [String] = []
            var notes: [String] = []
            if case .leaked(let how)? = Self.fileAccess(result["files"]?[stage.dataMarker], hostDigest: stage.dataMarkerDigest) {
                leaks.append("read the check's marker file in \(data) (\(how))")
            }
            if let entries = result["folders"]?[data]?["entries"]?.arrayValue?.compactMap(\.stringValue) {
                let seen = entries.filter { hostNames.contains($0) && !ownWay.contains($0) }
                if !seen.isEmpty {
                    leaks.append("lists \(data): \(Self.list(seen))")
                } else {
                    notes.append(entries.isEmpty ? "sees \(data) empty" : "sees only \(Self.list(entries)) in \(data), its own workspace's way")
                }
            } else {
                notes.append("cannot list \(data) (\(result["folders"]?[data]?["error"]?.stringValue ?? "no answer"))")
            }
            return verdict(leaks, notes)

        case .readSecret:
            return readFile(targets.secretFile, missing: "no JWT secret file at \(targets.secretFile)", run: run, finding: finding)

        case .readOtherWorkspace:
            // The install step's boxes must not see the plan's own workspace either.
            let seesNoWorkspace = kind == .dependencyFetch || kind == .dependencyInstall
            let files = [stage.otherMarker] + (seesNoWorkspace ? [stage.workspaceMarker] : [])
            let outcome = run(["files": JSONValue(files), "folders": JSONValue([stage.otherWorkspace])])
            guard let result = outcome.result else { return finding(.error, outcome.failure) }
            var leaks: [String] = []
            var notes: [String] = []
            if seesNoWorkspace {
                switch Self.fileAccess(result["files"]?[stage.workspaceMarker], hostDigest: stage.workspaceMarkerDigest) {
                case .leaked(let how)?: leaks.append("read its plan's workspace, \(stage.workspaceMarker) (\(how))")
                case .refused(let why)?: notes.append("its plan's workspace: \(why)")
                case nil: return finding(.error, "the probe did not report the workspace's marker file")
                }
            }
            switch Self.fileAccess(result["files"]?[stage.otherMarker], hostDigest: stage.otherMarkerDigest) {
            case .leaked(let how)?: leaks.append("read \(stage.otherMarker) (\(how))")
            case .refused(let why)?: notes.append("its marker file: \(why)")
            case nil: return finding(.error, "the probe did not report the marker file")
            }
            if let entries = result["folders"]?[stage.otherWorkspace]?["entries"]?.arrayValue?.compactMap(\.stringValue) {
                if entries.contains("marker.txt") { leaks.append("lists \(stage.otherWorkspace)") } else { notes.append("sees the folder empty") }
            } else if let error = result["folders"]?[stage.otherWorkspace]?["error"]?.stringValue {
                notes.append("the folder: \(error)")
            }
            return verdict(leaks, notes)

        case .readShadow:
            return readFile("/etc/shadow", missing: "no /etc/shadow on this machine", run: run, finding: finding)

        case .readHome:
            var hostListings: [String: Set<String>] = [:]
            for folder in targets.homeFolders {
                if let names = Self.entries(of: folder), !names.isEmpty { hostListings[folder] = Set(names) }
            }
            guard !hostListings.isEmpty else {
                return finding(.skipped, "no home folder with entries on this machine (\(targets.homeFolders.joined(separator: ", ")))")
            }
            let folders = targets.homeFolders.filter { hostListings[$0] != nil }
            let outcome = run(["folders": JSONValue(folders)])
            guard let result = outcome.result else { return finding(.error, outcome.failure) }
            var leaks: [String] = []
            var notes: [String] = []
            for folder in folders {
                if let entries = result["folders"]?[folder]?["entries"]?.arrayValue?.compactMap(\.stringValue) {
                    let seen = entries.filter { hostListings[folder]!.contains($0) }
                    if seen.isEmpty { notes.append("\(folder) looks empty") } else { leaks.append("lists \(folder): \(Self.list(seen))") }
                } else {
                    notes.append("\(folder): \(result["folders"]?[folder]?["error"]?.stringValue ?? "no answer")")
                }
            }
            return verdict(leaks, notes)

        case .readCheckout:
            guard let file = targets.checkoutFile else {
                return finding(.skipped, "the executable is not in a checkout (no Package.swift above it)")
            }
            return readFile(file, missing: "\(file) is gone", run: run, finding: finding)

        case .connectDatabase:
            var sockets: [String] = []
            for folder in targets.databaseSocketFolders {
                for name in Self.entries(of: folder) ?? [] where name.hasPrefix(".s.PGSQL.") && !name.hasSuffix(".lock") {
                    if Self.isSocket(folder + "/" + name) { sockets.append(folder + "/" + name) }
                }
            }
            guard !sockets.isEmpty else {
                return finding(.skipped, "no PostgreSQL socket in \(targets.databaseSocketFolders.joined(separator: ", "))")
            }
            return connect(sockets.map { Self.unixEndpoint($0) }, standIn: nil, run: run, finding: finding)

        case .connectStackSockets:
            let existing = targets.stackSockets.filter(Self.isSocket)
            let standIn = targets.socketFolder.flatMap { StandInListener(unixPath: $0 + "/containment-" + Self.nonce() + ".sock") }
            guard !existing.isEmpty || standIn != nil else {
                return finding(.skipped, "none of \(targets.stackSockets.joined(separator: ", ")) exists and no socket could be made beside them")
            }
            let endpoints = existing.map { Self.unixEndpoint($0) } + (standIn?.path.map { [Self.unixEndpoint($0, label: "the check's \($0)")] } ?? [])
            return connect(endpoints, standIn: standIn, run: run, finding: finding)

        case .connectHostUnixSockets:
            let sample = targets.hostListeners.unixSockets.prefix(targets.hostUnixSocketSample)
            guard !sample.isEmpty else { return finding(.skipped, "the host lists no unix socket with a name") }
            let endpoints = sample.map { socket -> JSONValue in
                socket.isAbstract
                    ? ["kind": "abstract", "label": .string(socket.label), "path": .string(socket.name), "type": .int(Int64(socket.type))]
                    : Self.unixEndpoint(socket.name, type: socket.type)
            }
            return connect(endpoints, standIn: nil, run: run, finding: finding)

        case .connectLoopbackTCP:
            var endpoints: [JSONValue] = []
            var seen = Set<String>()
            for port in targets.hostListeners.tcpPorts where !targets.skippedTCPPorts.contains(port.port) {
                let target = TCPTarget(host: port.connectAddress, port: port.port)
                if seen.insert(target.label).inserted { endpoints.append(target.endpoint(label: target.label)) }
            }
            let standIn = StandInListener()
            if let standIn {
                let target = TCPTarget(host: "127.0.0.1", port: standIn.port)
                endpoints.append(target.endpoint(label: "the check's " + target.label))
            }
            let skipped = targets.skippedTCPPorts.sorted().map(String.init)
            guard !endpoints.isEmpty else { return finding(.skipped, "no TCP port listens on a loopback address") }
            var found = connect(endpoints, standIn: standIn, run: run, finding: finding)
            if !skipped.isEmpty { found.detail += "; left out on request: \(skipped.joined(separator: ", "))" }
            return found

        case .reachNetwork:
            let outcome = run(["addresses": [["1.1.1.1", 53], ["8.8.8.8", 53]], "names": ["pypi.org"]])
            guard let result = outcome.result else { return finding(.error, outcome.failure) }
            let reached = result["reached"]?.arrayValue?.compactMap(\.stringValue) ?? []
            return reached.isEmpty ? finding(.contained, "unreachable: " + Self.describe(refused: result["refused"]))
                                   : finding(.leak, "reached \(Self.list(reached))")

        case .writeOutside:
            // The workspace itself (a test's copy, the install step's boxes and a validator must not reach it)
            // and its engine folder (no box ever writes there) count as outside.
            var folders = [stage.root, stage.root + "/" + Workspace.engineFolder, stage.dependencies, stage.otherWorkspace,
                           targets.dataDirectory, targets.workspacesRoot, "/usr", "/etc", "/var/tmp", "/tmp"]
            if !folders.contains(targets.scratchParent) { folders.append(targets.scratchParent) }
            let paths = folders.map { $0 + "/" + marker }
            let outcome = run(["paths": JSONValue(paths)])
            let appeared = Self.removeAppeared(paths)
            guard let result = outcome.result else {
                return appeared.isEmpty ? finding(.error, outcome.failure) : finding(.leak, "created \(Self.list(appeared)) on the host")
            }
            let wrote = result["wrote"]?.arrayValue?.compactMap(\.stringValue) ?? []
            var notes = ["refused: " + Self.describe(refused: result["refused"], labels: { HostPath.parent(of: $0) })]
            let inside = wrote.filter { !appeared.contains($0) }.map { HostPath.parent(of: $0) }
            if !inside.isEmpty { notes.append("written only inside the box: \(Self.list(inside))") }
            return verdict(appeared.map { "created \($0) on the host" }, notes)

        case .escapeThroughLinks:
            let hostPaths = [stage.otherWorkspace, "/etc", "/var/tmp", targets.dataDirectory].map { $0 + "/" + marker }
            let outcome = run(["links": JSONValue(Stage.links.map { view.linkFolder + "/" + $0.0 }),
                               "targets": JSONValue([stage.otherWorkspace, "/var/tmp", targets.dataDirectory]),
                               "folders": [".", "/tmp"], "marker": .string(marker)])
            let appeared = Self.removeAppeared(hostPaths)
            guard let result = outcome.result else {
                return appeared.isEmpty ? finding(.error, outcome.failure) : finding(.leak, "created \(Self.list(appeared)) on the host")
            }
            let wrote = result["wrote"]?.arrayValue?.compactMap(\.stringValue) ?? []
            var notes = ["refused: " + Self.describe(refused: result["refused"])]
            if !wrote.isEmpty && appeared.isEmpty { notes.append("written only inside the box through \(Self.list(wrote))") }
            return verdict(appeared.map { "wrote \($0) on the host through a link" }, notes)

        case .exhaustDisk:
            let before = Self.freeBytes(view.hostFolder)
            let outcome = run(["folder": ".", "cap": .int(Int64(diskBound)), "marker": .string(marker)])
            let after = Self.freeBytes(view.hostFolder)
            let drop = max(0, (before ?? 0) - (after ?? before ?? 0))
            var found = fill(outcome, limit: view.workspace.copiesIntoBox ? kind.limits.workspaceBytes : nil, finding: finding)
            if found.verdict != .error {
                found.detail += "; the host's free space fell by \(Self.bytes(drop))"
                if drop > diskBound && found.verdict == .contained {
                    found.verdict = .leak
                    found.detail = "the host's free space fell by \(Self.bytes(drop)), more than \(Self.bytes(diskBound))"
                }
            }
            return found

        case .exhaustTmp:
            let outcome = run(["folder": "/tmp", "cap": .int(Int64(kind.limits.tmpBytes + tmpSlack)), "marker": .string(marker)])
            return fill(outcome, limit: kind.limits.tmpBytes, finding: finding)

        case .exhaustProcesses:
            let sleep = "\(Int.random(in: 3_000 ... 9_000)).\(Int.random(in: 100_000 ... 999_999))"
            let outcome = run(["cap": .int(Int64(processBound)), "sleep": .string(sleep)])
            var survivors = Self.hostProcesses(withArgument: sleep)
            for _ in 0..<40 where !survivors.isEmpty {
                usleep(50_000)
                survivors = Self.hostProcesses(withArgument: sleep)
            }
            for pid in survivors { kill(pid, SIGKILL) }
            guard let result = outcome.result, let started = result["started"]?.intValue else {
                return survivors.isEmpty ? finding(.error, outcome.failure) : finding(.leak, "\(survivors.count) processes outlived the box")
            }
            let stopped = result["stopped"]?.stringValue ?? "?"
            if stopped == "cap" { return finding(.leak, "started \(started) processes and was not stopped") }
            if !survivors.isEmpty { return finding(.leak, "\(survivors.count) of its \(started) processes outlived the box") }
            return finding(.contained, "no process after \(started) (\(stopped), limit \(kind.limits.processes)); none outlived the box")

        case .exhaustMemory:
            let limit = kind.limits.memoryBytes
            let outcome = run(["cap": .int(Int64(limit + memorySlack))])
            let allocated = Int(outcome.result?["allocated"]?.intValue ?? outcome.progress?["allocated"]?.intValue ?? 0)
            switch outcome.result?["stopped"]?.stringValue {
            case "cap"?:
                return finding(.leak, "allocated \(Self.bytes(allocated)), past the \(Self.bytes(limit)) limit, and was not stopped")
            case let stopped? where allocated <= limit:
                return finding(.contained, "\(stopped) after \(Self.bytes(allocated)) (limit \(Self.bytes(limit)))")
            case _? :
                return finding(.leak, "allocated \(Self.bytes(allocated)), more than the \(Self.bytes(limit)) limit")
            case nil:
                if outcome.box.status != .error && outcome.progress != nil && allocated <= limit {
                    return finding(.contained, "killed after \(Self.bytes(allocated)) (limit \(Self.bytes(limit)))")
                }
                return finding(.error, outcome.failure)
            }

        case .systemCalls:
            let outcome = run([:])
            guard let calls = outcome.result?["results"]?.objectValue else {
                if let architecture = outcome.result?["unknown_architecture"]?.stringValue {
                    return finding(.error, "no system call numbers for \(architecture)")
                }
                return finding(.error, outcome.failure)
            }
            let results = calls.map { (name: $0.key, result: $0.value.stringValue ?? "?") }
            let succeeded = results.filter { $0.result == "succeeded" }.map(\.name)
            let refused = results.filter { $0.result != "succeeded" }.map { "\($0.name) \($0.result)" }.joined(separator: ", ")
            return succeeded.isEmpty ? finding(.contained, "all refused: " + refused)
                                     : finding(.leak, "\(succeeded.joined(separator: ", ")) succeeded" + (refused.isEmpty ? "" : " (refused: \(refused))"))

        case .boxUser:
            // The host must see the box's process while it lingers; on a loaded machine the watch
            // can miss a short linger, so it is tried again with a longer one before it is an error.
            var attempt: (outcome: Outcome, host: HostProcessWatch.IDs?)?
            for linger in [0.5, 2.0, 5.0] {
                let watch = HostProcessWatch(executable: python, marker: marker)
                watch.start()
                let outcome = run(["root_only": JSONValue(view.rootOnly?.path), "linger": .double(linger), "marker": .string(marker)])
                attempt = (outcome, watch.stop())
                if attempt?.host != nil || outcome.result == nil { break }
            }
            guard let (outcome, host) = attempt else { return finding(.error, "the probe did not run") }
            guard let result = outcome.result else { return finding(.error, outcome.failure) }
            guard let host else { return finding(.error, "the box's process was not seen from the host") }
            var leaks: [String] = []
            var notes: [String] = []
            if host.userIDs.contains(0) || host.groupIDs.contains(0) {
                leaks.append("runs as uid \(host.userIDs.map(String.init).joined(separator: "/")) gid \(host.groupIDs.map(String.init).joined(separator: "/")) on the host")
            } else {
                notes.append("uid \(host.userIDs.first ?? 0) gid \(host.groupIDs.first ?? 0) on the host")
            }
            let capabilities = result["status"]?["CapEff"]?[0]?.stringValue ?? "?"
            if capabilities.allSatisfy({ $0 == "0" }) { notes.append("no capabilities") } else { leaks.append("has capabilities \(capabilities)") }
            if let file = view.rootOnly {
                switch Self.fileAccess(result["root_only"], hostDigest: file.digest) {
                case .leaked(let how)?: leaks.append("read a root-only file (\(how))")
                case .refused(let why)?: notes.append("a root-only file: \(why)")
                case nil: return finding(.error, "the probe did not report \(file.path)")
                }
            } else {
                notes.append("the check is not root, so the box is its user")
            }
            return verdict(leaks, notes)
        }
    }

    // MARK: shared verdicts

    /// Reads `path` in the box and compares what it read with the host's file; skipped, saying `missing`,
    /// when the host has no such file.
    private func readFile(_ path: String, missing: String, run: (JSONObject) -> Outcome,
                          finding: (ContainmentFinding.Verdict, String) -> ContainmentFinding) -> ContainmentFinding {
        var info = stat()
        guard lstat(path, &info) == 0 else { return finding(.skipped, missing) }
        let hostDigest = Self.digest(ofFileAt: path)
        let outcome = run(["files": JSONValue([path])])
        guard let result = outcome.result else { return finding(.error, outcome.failure) }
        switch Self.fileAccess(result["files"]?[path], hostDigest: hostDigest) {
        case .leaked(let how)?: return finding(.leak, "read \(path) (\(how))")
        case .refused(let why)?: return finding(.contained, "\(path): \(why)")
        case nil: return finding(.error, "the probe did not report \(path)")
        }
    }

    /// Connects to `endpoints` from the box; a connection that got through, or one the check's own
    /// listener accepted, is a leak.
    private func connect(_ endpoints: [JSONValue], standIn: StandInListener?, run: (JSONObject) -> Outcome,
                         finding: (ContainmentFinding.Verdict, String) -> ContainmentFinding) -> ContainmentFinding {
        let outcome = run(["endpoints": .array(endpoints)])
        let accepted = standIn?.acceptedConnection() ?? false
        guard let result = outcome.result else {
            return accepted ? finding(.leak, "the check's own listener accepted a connection from the box") : finding(.error, outcome.failure)
        }
        var reached = result["reached"]?.arrayValue?.compactMap(\.stringValue) ?? []
        if accepted && !reached.contains(where: { $0.hasPrefix("the check's") }) {
            reached.append("the check's own listener (seen from the host)")
        }
        return reached.isEmpty ? finding(.contained, "refused: " + Self.describe(refused: result["refused"]))
                               : finding(.leak, "connected to \(Self.list(reached))")
    }

    /// The verdict of a fill probe: stopped by an error below the cap is contained, reaching the cap is a
    /// leak; killed after some progress is contained. `limit` is the size the box gives the folder, if any.
    private func fill(_ outcome: Outcome, limit: Int?, finding: (ContainmentFinding.Verdict, String) -> ContainmentFinding) -> ContainmentFinding {
        let written = Int(outcome.result?["written"]?.intValue ?? outcome.progress?["written"]?.intValue ?? 0)
        let limitNote = limit.map { ", its size is \(Self.bytes($0))" } ?? ""
        guard let stopped = outcome.result?["stopped"]?.stringValue else {
            if outcome.box.status != .error && outcome.progress != nil {
                return finding(.contained, "killed after \(Self.bytes(written))\(limitNote)")
            }
            return finding(.error, outcome.failure)
        }
        if stopped == "cap" { return finding(.leak, "took \(Self.bytes(written)) and was not stopped\(limitNote)") }
        if written == 0 { return finding(.contained, "cannot write (\(stopped))") }
        return finding(.contained, "stopped after \(Self.bytes(written)) (\(stopped))\(limitNote)")
    }

    // MARK: reading the probes' answers

    enum FileAccess {
        /// The box read the host's file (or, when the host cannot read it either, read something).
        case leaked(String)
        case refused(String)
    }

    /// What the box's attempt to read a file amounted to, given the host's digest of it; nil when the
    /// probe did not report the file.
    static func fileAccess(_ entry: JSONValue?, hostDigest: String?) -> FileAccess? {
        guard let entry else { return nil }
        if let error = entry["error"]?.stringValue { return .refused("cannot read it (\(error))") }
        guard let digest = entry["sha256"]?.stringValue else { return nil }
        let size = entry["size"]?.intValue ?? 0
        if let hostDigest {
            return digest == hostDigest ? .leaked("same SHA-256 as on the host") : .refused("sees another file of \(size) bytes, not the host's")
        }
        return size > 0 ? .leaked("\(size) bytes the host's user cannot read") : .refused("sees an empty file")
    }

    /// `label ERROR, …` for the first few refused attempts.
    static func describe(refused: JSONValue?, labels: (String) -> String = { $0 }) -> String {
        guard let object = refused?.objectValue, !object.isEmpty else { return "nothing tried" }
        let items = object.map { "\(labels($0.key)) \($0.value.stringValue ?? "?")" }
        return list(items, max: 4)
    }

    /// The first `max` items and how many more.
    static func list(_ items: [String], max: Int = 3) -> String {
        items.count <= max ? items.joined(separator: ", ")
                           : items.prefix(max).joined(separator: ", ") + " and \(items.count - max) more"
    }

    /// `512 MiB`, `1.0 GiB`, `0 B`.
    static func bytes(_ count: Int) -> String {
        if count >= 1 << 30 { return String(format: "%.1f GiB", Double(count) / Double(1 << 30)) }
        if count >= 1 << 20 { return "\(count >> 20) MiB" }
        if count >= 1 << 10 { return "\(count >> 10) KiB" }
        return "\(count) B"
    }

    static func unixEndpoint(_ path: String, label: String? = nil, type: Int32 = 1) -> JSONValue {
        ["kind": "unix", "label": .string(label ?? path), "path": .string(path), "type": .int(Int64(type))]
    }

    struct TCPTarget {
        var host: String
        var port: UInt16
        var label: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
        func endpoint(label: String) -> JSONValue {
            ["kind": "tcp", "label": .string(label), "host": .string(host), "port": .int(Int64(port))]
        }
    }

    // MARK: looking at the host

    /// The names in a folder, or nil when it cannot be listed.
    static func entries(of folder: String) -> [String]? {
        try? FileManager.default.contentsOfDirectory(atPath: folder)
    }

    static func isSocket(_ path: String) -> Bool {
        var info = stat()
        return lstat(path, &info) == 0 && info.st_mode & S_IFMT == S_IFSOCK
    }

    /// The paths among `paths` that exist on the host (without following links); each is removed.
    static func removeAppeared(_ paths: [String]) -> [String] {
        paths.filter { path in
            var info = stat()
            guard lstat(path, &info) == 0 else { return false }
            unlink(path)
            return true
        }
    }

    /// The bytes an unprivileged user may still write on the file system holding `path`.
    static func freeBytes(_ path: String) -> Int? {
        var info = statvfs()
        guard statvfs(path, &info) == 0 else { return nil }
        return Int(info.f_bavail) * Int(info.f_frsize)
    }

    /// Host processes with `argument` among their arguments.
    static func hostProcesses(withArgument argument: String) -> [pid_t] {
        (entries(of: "/proc") ?? []).compactMap { entry in
            guard let pid = pid_t(entry), let data = FileManager.default.contents(atPath: "/proc/\(entry)/cmdline") else { return nil }
            return data.split(separator: 0).contains { String(decoding: $0, as: UTF8.self) == argument } ? pid : nil
        }
    }
}

/// Watches the host's process table, while a probe runs, for the box's program (`executable` with
/// `marker` in its arguments), and records its user and group ids as the host sees them.
private final class HostProcessWatch: Sendable {
    struct IDs: Sendable {
        /// Real, effective, saved and file-system ids, from the host's `/proc/PID/status`.
        var userIDs: [UInt32]
        var groupIDs: [UInt32]
    }

    let executable: String
    let marker: String
    private let found = Mutex<IDs?>(nil)
    private let done = Atomic<Bool>(false)
    private let finished = DispatchSemaphore(value: 0)

    init(executable: String, marker: String) {
        self.executable = executable
        self.marker = marker
    }

    func start() {
        let thread = Thread { [self] in
            while !done.load(ordering: .acquiring) {
                if let ids = scan() {
                    found.withLock { $0 = ids }
                    break
                }
                usleep(10_000)
            }
            finished.signal()
        }
        thread.start()
    }

    /// Stops watching; the ids seen, if the program was seen.
    func stop() -> IDs? {
        done.store(true, ordering: .releasing)
        finished.wait()
        return found.withLock { $0 }
    }

    private func scan() -> IDs? {
        for entry in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? [] where entry.allSatisfy(\.isNumber) {
            guard let data = FileManager.default.contents(atPath: "/proc/\(entry)/cmdline") else { continue }
            let arguments = data.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
            guard arguments.first == executable, arguments.contains(where: { $0.contains(marker) }),
                  let status = try? String(contentsOfFile: "/proc/\(entry)/status", encoding: .utf8) else { continue }
            func ids(_ key: String) -> [UInt32] {
                status.split(separator: "\n").first { $0.hasPrefix(key + ":") }?
                    .dropFirst(key.count + 1).split(whereSeparator: \.isWhitespace).compactMap { UInt32($0) } ?? []
            }
            let found = IDs(userIDs: ids("Uid"), groupIDs: ids("Gid"))
            if !found.userIDs.isEmpty { return found }
        }
        return nil
    }
}
