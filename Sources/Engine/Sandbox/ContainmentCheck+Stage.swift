import Crypto
import Foundation
import Glibc

extension ContainmentCheck {
    /// The throwaway things the check puts on the host for the probes to aim at, and removes afterwards:
    /// a probe workspace and an "other workspace" in the workspaces folder, a marker in the data folder.
    ///
    /// The probe workspace is laid out as the executor lays one out: a git repository made by
    /// `Workspace.open` (folders 0755), a marker file, two links (to the other workspace and to `/etc`),
    /// and installed dependencies put in place as `PythonDependencyInstall` puts them (an engine folder
    /// the install box filled, renamed to `.masterplan/site-packages`). When the box switches user, that
    /// folder holds a root-only file (0600), which the validator and test runs see as it is.
    struct Stage: Sendable {
        let workspace: Workspace
        /// `<root>/.masterplan/site-packages`.
        let dependencies: String
        /// A file in the probe workspace, and the SHA-256 of its content (the install step's boxes must
        /// not see the workspace at all).
        let workspaceMarker: String
        let workspaceMarkerDigest: String
        let otherWorkspace: String
        /// A file in the other workspace, and the SHA-256 of its content.
        let otherMarker: String
        let otherMarkerDigest: String
        /// A file the check puts in the data folder, and the SHA-256 of its content.
        let dataMarker: String
        let dataMarkerDigest: String
        /// The root-only file in the dependencies and its digest, when the box switches user.
        let rootOnly: RootOnlyFile?
        let owner: Owner?

        struct Owner: Sendable {
            var user: UInt32
            var group: UInt32
            var pair: (user: UInt32, group: UInt32) { (user, group) }
        }

        struct RootOnlyFile: Sendable {
            var path: String
            var digest: String
        }

        /// The links the check puts where a box works: name → target (empty: the other workspace).
        static let links = [("link-other", ""), ("link-etc", "/etc")]

        var root: String { workspace.root }

        init(targets: ContainmentTargets, sandbox: Sandbox) throws(WorkspaceError) {
            let nonce = ContainmentCheck.nonce()
            let owner = sandbox.switchesUser ? Owner(user: sandbox.configuration.userID, group: sandbox.configuration.groupID) : nil
            self.owner = owner
            try Workspace.makeFolders(targets.workspacesRoot)
            let root = targets.workspacesRoot + "/containment-check-" + nonce
            otherWorkspace = targets.workspacesRoot + "/containment-other-" + nonce
            dependencies = root + "/" + Workspace.engineFolder + "/" + PythonDependencyInstall.installedFolder
            workspaceMarker = root + "/marker.txt"
            otherMarker = otherWorkspace + "/marker.txt"
            dataMarker = targets.dataDirectory + "/containment-check-" + nonce
            var made: [String] = []
            do throws(WorkspaceError) {
                workspace = try Workspace.open(at: root)
                made.append(root)
                workspaceMarkerDigest = try Self.writeSecret(to: workspaceMarker, mode: 0o644)
                try Self.makeLinks(in: root, otherWorkspace: otherWorkspace)
                let installed = try workspace.makeEngineFolder(prefix: "install", owner: owner?.pair)
                try workspace.replaceEngineFolder(PythonDependencyInstall.installedFolder, with: String(installed.split(separator: "/").last!))
                rootOnly = try owner == nil ? nil : Self.makeRootOnlyFile(in: dependencies)
                guard mkdir(otherWorkspace, 0o755) == 0 else {
                    throw WorkspaceError(.system(operation: "mkdir \(otherWorkspace)", code: errno))
                }
                made.append(otherWorkspace)
                chmod(otherWorkspace, 0o755)
                otherMarkerDigest = try Self.writeSecret(to: otherMarker, mode: 0o644)
                dataMarkerDigest = try Self.writeSecret(to: dataMarker, mode: 0o644)
            } catch {
                for folder in made { ScratchFolder(path: folder).remove() }
                throw error
            }
        }

        /// Removes everything the check put on the host.
        func remove() {
            ScratchFolder(path: root).remove()
            ScratchFolder(path: otherWorkspace).remove()
            unlink(dataMarker)
        }

        /// The view a box of `kind` gets, made as the engine makes it for that kind; `remove()` it after the run.
        func view(for kind: ContainmentRunKind, scratchParent: String) throws(WorkspaceError) -> BoxView {
            switch kind {
            case .validator:
                return BoxView(workspace: .readOnly(root), hostFolder: root, linkFolder: root, rootOnly: rootOnly, throwaway: [])
            case .acceptanceTest:
                // As `AcceptanceTestRunner` runs a test: a host copy without the engine folder, which the box
                // copies into a size-limited folder of its own, and the dependencies bound read-only.
                let scratch = try ScratchFolder.copy(of: workspace, under: scratchParent, owner: owner?.pair,
                                                     leavingOutFolders: [Workspace.engineFolder])
                let bind = SandboxWorkspace.ReadOnlyBind(source: dependencies, path: dependencies)
                return BoxView(workspace: .scratchCopy(scratch.path, shownAt: root, readOnly: [bind]), hostFolder: scratch.path,
                               linkFolder: root, rootOnly: rootOnly, throwaway: [scratch.path])
            case .dependencyFetch, .dependencyInstall:
                // As `PythonDependencyInstall` runs its boxes: an empty working folder of the sandbox user's,
                // shown read-only, and (install) the executor's wheels folder, read-only; here the wheels
                // folder holds the check's links and a root-only file.
                let empty = try workspace.makeEngineFolder(prefix: "box", owner: owner?.pair)
                var throwaway = [empty]
                do throws(WorkspaceError) {
                    if kind == .dependencyFetch {
                        try Self.makeLinks(in: empty, otherWorkspace: otherWorkspace)
                        let rootOnly = try owner == nil ? nil : Self.makeRootOnlyFile(in: empty)
                        return BoxView(workspace: PythonDependencyInstall.fetchView(empty: empty, guardFolder: nil), hostFolder: empty,
                                       linkFolder: empty, rootOnly: rootOnly, throwaway: throwaway)
                    }
                    let wheels = try workspace.makeEngineFolder(prefix: "wheels", owner: nil, mode: 0o755)
                    throwaway.append(wheels)
                    try Self.makeLinks(in: wheels, otherWorkspace: otherWorkspace)
                    let rootOnly = try owner == nil ? nil : Self.makeRootOnlyFile(in: wheels)
                    return BoxView(workspace: PythonDependencyInstall.installView(empty: empty, wheels: wheels), hostFolder: empty,
                                   linkFolder: wheels, rootOnly: rootOnly, throwaway: throwaway)
                } catch {
                    for folder in throwaway { ScratchFolder(path: folder).remove() }
                    throw error
                }
            }
        }

        static func makeLinks(in folder: String, otherWorkspace: String) throws(WorkspaceError) {
            for (name, target) in links {
                guard symlink(target.isEmpty ? otherWorkspace : target, folder + "/" + name) == 0 else {
                    throw WorkspaceError(.system(operation: "symlink \(name) in \(folder)", code: errno))
                }
            }
        }

        static func makeRootOnlyFile(in folder: String) throws(WorkspaceError) -> RootOnlyFile {
            let path = folder + "/root-only-" + ContainmentCheck.nonce()
            return RootOnlyFile(path: path, digest: try writeSecret(to: path, mode: 0o600))
        }

        /// Writes random text to a new file with `mode`, returning its SHA-256.
        static func writeSecret(to path: String, mode: mode_t) throws(WorkspaceError) -> String {
            let content = Array((ContainmentCheck.nonce() + ContainmentCheck.nonce() + "\n").utf8)
            let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode)
            guard fd >= 0 else { throw WorkspaceError(.system(operation: "create \(path)", code: errno)) }
            defer { close(fd) }
            fchmod(fd, mode)
            try writeAll(fd, content, operation: "write \(path)")
            return ContainmentCheck.digest(content)
        }
    }

    /// What one run's box sees, and where its writes land on the host.
    struct BoxView: Sendable {
        var workspace: SandboxWorkspace
        /// The host folder behind the box's working directory.
        var hostFolder: String
        /// Where the check's links (`Stage.links`) are, as the box sees it.
        var linkFolder: String
        /// A root-only file the box sees, when the box switches user.
        var rootOnly: Stage.RootOnlyFile?
        /// Folders made for this run alone.
        var throwaway: [String]

        func remove() {
            for folder in throwaway { ScratchFolder(path: folder).remove() }
        }
    }

    /// 12 random hexadecimal digits.
    static func nonce() -> String {
        var generator = SystemRandomNumberGenerator()
        return String(UInt64.random(in: 0 ..< (1 << 48), using: &generator), radix: 16).leftPadded(to: 12)
    }

    /// The SHA-256 of `bytes`, in hexadecimal.
    static func digest(_ bytes: [UInt8]) -> String {
        SHA256.hash(data: bytes).map { String(format: "%02x", $0) }.joined()
    }

    /// The SHA-256 of a file's first MiB (what the read probe hashes), or nil when the host cannot read it.
    static func digest(ofFileAt path: String) -> String? {
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var content: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 64 << 10)
        while content.count < 1 << 20 {
            let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, min($0.count, (1 << 20) - content.count)) }
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else { break }
            content += buffer[0..<count]
        }
        return digest(content)
    }
}

private extension String {
    func leftPadded(to length: Int) -> String {
        count >= length ? self : String(repeating: "0", count: length - count) + self
    }
}
