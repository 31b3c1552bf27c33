@testable import Engine
import Foundation
import Testing
import TestSupport

/// The cheaper wave commit (git's own files read instead of asking git where that is certain) against
/// real git: what is committed, which git processes run, and the fallbacks when `.git` is not plain.
@Suite(.dedicatedThreads) struct WorkspaceGitTests {
    /// A workspace whose git is a wrapper logging each call's arguments to `calls` before running git.
    private struct LoggedWorkspace {
        let workspace: Workspace
        let calls: String

        /// The git subcommands run since the last call (the first argument after the `-C`/`-c` options).
        func takeSubcommands() throws -> [String] {
            let lines = (try? String(contentsOfFile: calls, encoding: .utf8))?.split(separator: "\n") ?? []
            try? FileManager.default.removeItem(atPath: calls)
            return lines.map { line in
                var words = line.split(separator: "\u{1f}").map(String.init)[...]
                while let first = words.first, first == "-C" || first == "-c" { words = words.dropFirst(2) }
                return words.prefix(2).joined(separator: " ")
            }
        }
    }

    private func makeWorkspace(_ folder: TemporaryFolder) throws -> LoggedWorkspace {
        let calls = folder.sub("git-calls.log")
        let wrapper = folder.sub("git-wrapper.sh")
        // One line per call, arguments separated by the unit separator (paths may contain spaces).
        let script = """
        #!/bin/sh
        for argument in "$@"; do printf '%s\\037' "$argument"; done >> \(calls)
        echo >> \(calls)
        exec /usr/bin/git "$@"

        """
        let fd = open(wrapper, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o755)
        #expect(fd >= 0)
        #expect(write(fd, script, script.utf8.count) == script.utf8.count)
        close(fd)
        // A program started by a test running alongside may still hold a copy of the descriptor until
        // it executes (close-on-exec); until then starting the script fails with "Text file busy".
        var opened: Workspace?
        var attempts = 0
        while opened == nil {
            do {
                opened = try Workspace.open(at: folder.sub("workspaces/plan-1"), git: wrapper)
            } catch {
                attempts += 1
                if !error.description.contains("Text file busy") || attempts > 100 { throw error }
                usleep(10_000)
            }
        }
        let logged = LoggedWorkspace(workspace: try #require(opened), calls: calls)
        _ = try logged.takeSubcommands()
        return logged
    }

    /// Runs git in the workspace the way a person would, outside the workspace's own settings.
    private func git(_ workspace: Workspace, _ arguments: [String]) throws -> String {
        let outcome = try hostRun("/usr/bin/git", ["-C", workspace.root, "-c", "safe.directory=*",
                                                   "-c", "user.name=Test", "-c", "user.email=test@example.invalid"] + arguments,
                                  environment: ["PATH": "/usr/bin:/bin", "HOME": "/nonexistent", "GIT_CONFIG_NOSYSTEM": "1"])
        #expect(outcome.status == 0, "git \(arguments.joined(separator: " ")): \(outcome.output)")
        return outcome.output.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    // MARK: commit

    @Test func aCommitWithNothingIgnoredRunsOnlyAddAndCommit() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let logged = try makeWorkspace(folder)
        let workspace = logged.workspace
        try workspace.exclude(["__pycache__/", "*.pyc", "node_modules/", ".venv/"])
        try workspace.write("__pycache__/\n", to: ".gitignore")
        try workspace.write("a = 1\n", to: "pkg/a.py")
        try workspace.write("b = 2\n", to: "pkg/b.py")
        let sha = try workspace.commitWave(1, atomCount: 2, files: [".gitignore", "pkg/a.py", "pkg/b.py"])
        let subcommands = try logged.takeSubcommands()
        #expect(subcommands == ["add --all", "commit --quiet"], "\(subcommands)")
        #expect(try workspace.committedFiles(at: sha) == [".gitignore", "pkg/a.py", "pkg/b.py"])
        #expect(try sha == git(workspace, ["rev-parse", "HEAD"]))
    }

    @Test func aForcedFileThatAGeneratedGitignoreIgnoresIsStillCommitted() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let logged = try makeWorkspace(folder)
        let workspace = logged.workspace
        try workspace.write("*.py\nbuild/\n", to: ".gitignore")
        try workspace.write("kept = 1\n", to: "app/kept.py")
        try workspace.write("out = 1\n", to: "build/out.txt")
        try workspace.write("notes\n", to: "notes.txt")
        // Written but not forced, and ignored: stays out.
        try workspace.write("stray = 1\n", to: "app/stray.py")
        let sha = try workspace.commitWave(1, atomCount: 3, files: [".gitignore", "app/kept.py", "build/out.txt", "notes.txt"])
        // Only the two ignored files are forced in.
        let calls = try String(contentsOfFile: logged.calls, encoding: .utf8)
        #expect(calls.contains("add\u{1f}--force\u{1f}--\u{1f}app/kept.py\u{1f}build/out.txt\u{1f}\n"))
        let subcommands = try logged.takeSubcommands()
        #expect(subcommands == ["add --all", "add --force", "commit --quiet"], "\(subcommands)")
        #expect(try workspace.committedFiles(at: sha) == [".gitignore", "app/kept.py", "build/out.txt", "notes.txt"])
    }

    @Test func aForcedFileMatchingAnExcludePatternIsStillCommitted() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let workspace = try makeWorkspace(folder).workspace
        try workspace.exclude([".venv/", "*.generated.js", "/dist"])
        try workspace.write("export const a = 1\n", to: "web/app.generated.js")
        try workspace.write("bundle\n", to: "dist/bundle.js")
        try workspace.write("ignored\n", to: "web/other.generated.js")
        try FileManager.default.createDirectory(atPath: workspace.root + "/.venv/bin", withIntermediateDirectories: true)
        try "#!/bin/sh\n".write(toFile: workspace.root + "/.venv/bin/activate", atomically: false, encoding: .utf8)
        let sha = try workspace.commitWave(1, atomCount: 2, files: ["web/app.generated.js", "dist/bundle.js"])
        #expect(try workspace.committedFiles(at: sha) == ["dist/bundle.js", "web/app.generated.js"])
        #expect(try workspace.committedContent(of: "web/app.generated.js", at: sha) == "export const a = 1\n")
    }

    @Test func aTrackedFileALaterGitignoreMatchesIsCommittedWithItsNewContent() throws {
        // Pins the rule the skipped `add --force` relies on: `add --all` updates tracked files whatever
        // the ignore rules say.
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let logged = try makeWorkspace(folder)
        let workspace = logged.workspace
        try workspace.write("v = 1\n", to: "src/forced.py")
        try workspace.write("w = 1\n", to: "src/unforced.py")
        try workspace.commitWave(1, atomCount: 2, files: ["src/forced.py", "src/unforced.py"])
        _ = try logged.takeSubcommands()

        try workspace.write("*.py\n", to: ".gitignore")
        try workspace.write("v = 2\n", to: "src/forced.py")
        try workspace.write("w = 2\n", to: "src/unforced.py")
        let sha = try workspace.commitWave(2, atomCount: 2, files: [".gitignore", "src/forced.py"])
        let subcommands = try logged.takeSubcommands()
        #expect(subcommands == ["add --all", "commit --quiet"], "\(subcommands)")
        #expect(try workspace.committedContent(of: "src/forced.py", at: sha) == "v = 2\n")
        #expect(try workspace.committedContent(of: "src/unforced.py", at: sha) == "w = 2\n")
    }

    @Test func theFlushThatEndsACommitIsAvailableAndReportsFailure() throws {
        // glibc has syncfs (Swift's Glibc module does not declare it: it is looked up by name).
        let syncfs = try #require(Workspace.syncfs)
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let workspace = try makeWorkspace(folder).workspace
        let fd = open(workspace.root, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        defer { close(fd) }
        #expect(syncfs(fd) == 0)
        // A descriptor that is not open is refused, not ignored: a failing flush fails the commit.
        #expect(syncfs(-1) == -1 && errno == EBADF)
        try workspace.write("a = 1\n", to: "a.py")
        try workspace.flushFilesystem()
        let sha = try workspace.commitWave(1, atomCount: 1, files: ["a.py"])
        #expect(try workspace.committedFiles(at: sha) == ["a.py"])
        // Writes are not flushed one by one unless asked (accepted content is durable in PostgreSQL).
        #expect(WorkspaceLimits.default.syncWrites == false)
    }

    @Test func anUnchangedTreeStillMakesOneCommitPerCall() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let workspace = try makeWorkspace(folder).workspace
        let first = try workspace.commitWave(1, atomCount: 0)
        let second = try workspace.commitWave(2, atomCount: 0, files: ["missing.py"])
        #expect(first != second)
        #expect(try workspace.log().map(\.sha) == [second, first])
        #expect(try workspace.committedFiles(at: second) == [])
    }

    @Test func theReturnedIdIsTheNewHead() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let workspace = try makeWorkspace(folder).workspace
        for wave in 1 ... 3 {
            try workspace.write("n = \(wave)\n", to: "w\(wave).py")
            let sha = try workspace.commitWave(wave, atomCount: 1, files: ["w\(wave).py"])
            #expect(try sha == git(workspace, ["rev-parse", "HEAD"]))
            #expect(sha.count == 40)
        }
    }

    @Test func anIndexInAFormatNotReadIsLeftToGit() throws {
        // Version 4 compresses names; the index is not read and every forced file goes to `add --force`.
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let logged = try makeWorkspace(folder)
        let workspace = logged.workspace
        try workspace.write("a = 1\n", to: "a.py")
        try workspace.commitWave(1, atomCount: 1, files: ["a.py"])
        _ = try git(workspace, ["update-index", "--index-version", "4"])
        try workspace.write("*.py\n", to: ".gitignore")
        try workspace.write("b = 1\n", to: "b.py")
        _ = try logged.takeSubcommands()
        let sha = try workspace.commitWave(2, atomCount: 2, files: ["a.py", "b.py", ".gitignore"])
        let subcommands = try logged.takeSubcommands()
        #expect(subcommands == ["add --all", "add --force", "commit --quiet"], "\(subcommands)")
        #expect(try workspace.committedFiles(at: sha) == [".gitignore", "a.py", "b.py"])
    }

    // MARK: head

    @Test func headIsReadFromTheFilesAndFallsBackToGitAfterPackRefs() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let logged = try makeWorkspace(folder)
        let workspace = logged.workspace
        #expect(workspace.headFromFiles() == .unborn)
        #expect(try workspace.head() == nil)
        #expect(try workspace.log().isEmpty)
        #expect(try logged.takeSubcommands() == [])

        try workspace.write("a\n", to: "a.txt")
        let first = try workspace.commitWave(1, atomCount: 1)
        let second = try workspace.commitWave(2, atomCount: 0)
        _ = try logged.takeSubcommands()
        #expect(workspace.headFromFiles() == .commit(second))
        #expect(try workspace.head() == second)
        #expect(try logged.takeSubcommands() == [])

        _ = try git(workspace, ["pack-refs", "--all"])
        #expect(!FileManager.default.fileExists(atPath: workspace.root + "/.git/refs/heads/main"))
        #expect(workspace.headFromFiles() == .askGit)
        #expect(try workspace.head() == second)
        #expect(try logged.takeSubcommands() == ["rev-parse --verify"])
        #expect(try workspace.log().map(\.sha) == [second, first])

        // The next commit writes a loose ref again.
        let third = try workspace.commitWave(3, atomCount: 0)
        #expect(try third == git(workspace, ["rev-parse", "HEAD"]))
        #expect(workspace.headFromFiles() == .commit(third))
    }

    @Test func headFallsBackToGitForPackedObjectsADetachedHeadAndOddFiles() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let workspace = try makeWorkspace(folder).workspace
        try workspace.write("a\n", to: "a.txt")
        let first = try workspace.commitWave(1, atomCount: 1)
        let second = try workspace.commitWave(2, atomCount: 0)

        // Objects packed (and the loose ones pruned): the ref is loose, its object is not.
        _ = try git(workspace, ["repack", "-a", "-d", "-q"])
        _ = try git(workspace, ["prune-packed"])
        #expect(workspace.headFromFiles() == .askGit)
        #expect(try workspace.head() == second)

        _ = try git(workspace, ["checkout", "-q", "--detach", first])
        #expect(workspace.headFromFiles() == .askGit)
        #expect(try workspace.head() == first)
        _ = try git(workspace, ["checkout", "-q", "main"])
        #expect(try workspace.head() == second)

        // A branch file that is not as git writes it.
        try "\(second)\r\n".write(toFile: workspace.root + "/.git/refs/heads/main", atomically: false, encoding: .utf8)
        #expect(workspace.headFromFiles() == .askGit)
    }

    @Test(arguments: ["refs/heads/main", "refs/heads/feature/x-1.2_b"])
    func plainBranchRefsAreRead(ref: String) {
        #expect(Workspace.isPlainBranchRef(ref))
    }

    @Test(arguments: ["refs/heads/", "refs/heads/../../config", "refs/heads/a..b", "refs/heads/.hidden",
                      "refs/heads/x.lock", "refs/heads//x", "refs/tags/v1", "refs/heads/sp ace", "HEAD", "refs/heads/é"])
    func otherRefsAreLeftToGit(ref: String) {
        #expect(!Workspace.isPlainBranchRef(ref))
    }

    // MARK: the index reader

    @Test func theIndexReaderFindsPlainEntriesOfARealIndex() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let workspace = try makeWorkspace(folder).workspace
        let long = String(repeating: "d", count: 100) + "/" + String(repeating: "f", count: 120) + ".txt"
        for path in ["a.py", "pkg/b.py", "café.md", long] { try workspace.write("x\n", to: path) }
        _ = try git(workspace, ["add", "--all"])
        _ = try git(workspace, ["update-index", "--skip-worktree", "pkg/b.py"])
        guard case .content(let index) = workspace.readGitFile("index", limit: 1 << 20) else {
            Issue.record("the index was not read")
            return
        }
        let wanted: Set<[UInt8]> = Set(["a.py", "pkg/b.py", "café.md", long, "missing.py", "pkg"].map { Array($0.utf8) })
        let found = GitIndex.plainEntries(among: wanted, in: index)
        // skip-worktree makes version 3 with an extended flag; that entry is not plain.
        #expect(found == Set(["a.py", "café.md", long].map { Array($0.utf8) }))
        // The decomposed spelling of the same name is another file.
        let decomposed = Array("cafe\u{301}.md".utf8)
        #expect(GitIndex.plainEntries(among: [decomposed], in: index) == [])
    }

    @Test func theIndexReaderRefusesWhatItDoesNotUnderstand() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let workspace = try makeWorkspace(folder).workspace
        try workspace.write("x\n", to: "a.py")
        _ = try git(workspace, ["add", "--all"])
        guard case .content(let index) = workspace.readGitFile("index", limit: 1 << 20) else {
            Issue.record("the index was not read")
            return
        }
        let wanted: Set<[UInt8]> = [Array("a.py".utf8)]
        #expect(GitIndex.plainEntries(among: wanted, in: index) == wanted)
        #expect(GitIndex.plainEntries(among: wanted, in: []) == nil)
        #expect(GitIndex.plainEntries(among: wanted, in: Array(index.prefix(40))) == nil)
        var otherVersion = index
        otherVersion[7] = 4
        #expect(GitIndex.plainEntries(among: wanted, in: otherVersion) == nil)
        var badMagic = index
        badMagic[0] = UInt8(ascii: "X")
        #expect(GitIndex.plainEntries(among: wanted, in: badMagic) == nil)
        // A name length that does not match the name.
        var badLength = index
        badLength[12 + 61] += 1
        #expect(GitIndex.plainEntries(among: wanted, in: badLength) == nil)
        // More entries announced than present.
        var moreEntries = index
        moreEntries[11] += 1
        #expect(GitIndex.plainEntries(among: wanted, in: moreEntries) == nil)
    }

    @Test func aRepositoryWithAnotherObjectFormatIsNotRead() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let workspace = try makeWorkspace(folder).workspace
        #expect(workspace.usesSHA1Ids())
        try workspace.write("x\n", to: "a.py")
        _ = try git(workspace, ["add", "--all"])
        #expect(workspace.pathsLeftOutOfIndex(["a.py"]) == [])
        _ = try git(workspace, ["config", "extensions.objectFormat", "sha1"])
        #expect(!workspace.usesSHA1Ids())
        #expect(workspace.pathsLeftOutOfIndex(["a.py"]) == ["a.py"])
    }
}
