import Glibc
import PlanCore

/// Why the workspace refused or failed an operation; `description` is one sentence fit for a log, a
/// user, and the LLM's retry prompt.
public struct WorkspaceError: Error, Sendable, CustomStringConvertible {
    public enum Kind: Sendable, Hashable {
        /// The path breaks the workspace path rules (absolute, `..`, `.git`, …).
        case pathRefused(WorkspacePath.Violation)
        /// A component of the path is a symbolic link; writes never follow links.
        case symlink(component: String)
        /// A component that must be a folder is a file (or the file to write is a folder).
        case notAFolder(component: String)
        case isAFolder
        /// The target exists and is neither a regular file nor a folder (a FIFO, a socket, a device).
        case notARegularFile
        case tooLarge(bytes: Int, limit: Int)
        /// The content is not text: NUL bytes or invalid UTF-8, with the byte offset of the first one.
        case notText(reason: String, offset: Int)
        case notFound
        /// A system call failed.
        case system(operation: String, code: Int32)
        /// A git command failed.
        case git(command: String, status: String, output: String)
        /// The workspace has no commit yet.
        case noCommits
        /// The workspace root itself is unusable.
        case badRoot(reason: String)
    }

    public var kind: Kind
    /// The relative path concerned, when there is one.
    public var path: String?

    public init(_ kind: Kind, path: String? = nil) {
        self.kind = kind
        self.path = path
    }

    /// Whether the error is about the content or path the caller supplied (an LLM answer to retry),
    /// rather than about the machine.
    public var isRefusal: Bool {
        switch kind {
        case .pathRefused, .symlink, .notAFolder, .isAFolder, .notARegularFile, .tooLarge, .notText: return true
        case .notFound, .system, .git, .noCommits, .badRoot: return false
        }
    }

    public var description: String {
        let subject = path.map { "\"\($0)\"" } ?? "the workspace"
        switch kind {
        case .pathRefused(let violation):
            return "refused \(subject): \(violation)"
        case .symlink(let component):
            return "refused \(subject): \"\(component)\" is a symbolic link; files are never written through links"
        case .notAFolder(let component):
            return "refused \(subject): \"\(component)\" is a file, not a folder"
        case .isAFolder:
            return "refused \(subject): it is a folder, not a file"
        case .notARegularFile:
            return "refused \(subject): it is a special file, not a regular file"
        case .tooLarge(let bytes, let limit):
            return "refused \(subject): \(bytes) bytes is more than the limit of \(limit) bytes per file"
        case .notText(let reason, let offset):
            return "refused \(subject): the content is not text (\(reason) at byte \(offset)); only UTF-8 text files are written"
        case .notFound:
            return "\(subject) does not exist"
        case .system(let operation, let code):
            return "\(operation) failed for \(subject): \(String(cString: strerror(code)))"
        case .git(let command, let status, let output):
            let firstLines = output.split(separator: "\n").prefix(5).joined(separator: "\n")
            return "git \(command) failed (\(status)) in \(subject)" + (firstLines.isEmpty ? "" : ": \(firstLines)")
        case .noCommits:
            return "\(subject) has no commit yet"
        case .badRoot(let reason):
            return "the workspace cannot be used: \(reason)"
        }
    }
}
