import Glibc

/// The absolute paths of the interpreters boxed programs run with.
///
/// Only real executables count: a pyenv or nvm shim is a shell script that reads the host user's
/// configuration and would fail (or pick another interpreter) inside the box. Debian's own
/// interpreters come first because `make deps` installs them and their modules (pytest, pyflakes,
/// yaml) with them.
public struct Interpreters: Sendable, Hashable {
    public var python3: String?
    public var node: String?
    public var bash: String?
    /// The Go toolchain's `go` and `gofmt` (Debian's golang-go).
    public var go: String?
    public var gofmt: String?

    public init(python3: String?, node: String?, bash: String?, go: String? = nil, gofmt: String? = nil) {
        self.python3 = python3
        self.node = node
        self.bash = bash
        self.go = go
        self.gofmt = gofmt
    }

    public static let python3Candidates = ["/usr/bin/python3", "/usr/local/bin/python3"]
    public static let nodeCandidates = ["/usr/bin/node", "/usr/bin/nodejs", "/usr/local/bin/node"]
    public static let bashCandidates = ["/usr/bin/bash", "/bin/bash"]
    public static let goCandidates = ["/usr/lib/go/bin/go", "/usr/bin/go", "/usr/local/go/bin/go"]
    public static let gofmtCandidates = ["/usr/lib/go/bin/gofmt", "/usr/bin/gofmt", "/usr/local/go/bin/gofmt"]

    /// The first real executable among the candidates of each interpreter.
    public static func locate() -> Interpreters {
        Interpreters(python3: python3Candidates.first(where: isNativeExecutable),
                     node: nodeCandidates.first(where: isNativeExecutable),
                     bash: bashCandidates.first(where: isNativeExecutable),
                     go: goCandidates.first(where: isNativeExecutable),
                     gofmt: gofmtCandidates.first(where: isNativeExecutable))
    }

    /// Whether `path` (after symlinks) is an executable ELF file rather than a script.
    public static func isNativeExecutable(_ path: String) -> Bool {
        guard access(path, X_OK) == 0 else { return false }
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var magic = [UInt8](repeating: 0, count: 4)
        let count = magic.withUnsafeMutableBytes { read(fd, $0.baseAddress, 4) }
        return count == 4 && magic == [0x7F, 0x45, 0x4C, 0x46]
    }
}
