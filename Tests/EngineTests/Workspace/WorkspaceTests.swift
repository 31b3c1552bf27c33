import Engine
import Foundation
import PlanCore
import Testing
import TestSupport

/// The workspace against the real file system and git, with the hostile answers of the executor issue.
@Suite(.dedicatedThreads) struct WorkspaceTests {
    private func makeWorkspace(_ folder: TemporaryFolder, limits: WorkspaceLimits = .default) throws -> Workspace {
        try Workspace.open(at: folder.sub("workspaces/plan-1"), limits: limits)
    }

    private func refusal(_ body: () throws(WorkspaceError) -> Void) -> WorkspaceError.Kind? {
        do {
            try body()
            return nil
        } catch {
            return error.kind
        }
    }

    @Test func writesCreateFoldersAndReadBack() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let workspace = try makeWorkspace(folder)
        try workspace.write("print('hi')\n", to: "app/main.py")
        try workspace.write("x = 1\n", to: "app/main.py")
        #expect(try workspace.read("app/main.py") == "x = 1\n")
        #expect(try workspace.files() == ["app/main.py"])
        let attributes = try FileManager.default.attributesOfItem(atPath: workspace.root + "/app/main.py")
        #expect(attributes[.posixPermissions] as? Int == 0o644)
        // No temporary files are left beside the target.
        #expect(try FileManager.default.contentsOfDirectory(atPath: workspace.root + "/app") == ["main.py"])
        #expect(workspace.fileExists("app/main.py"))
        #expect(!workspace.fileExists("app/other.py"))
    }

    @Test(arguments: ["../../etc/x", "/etc/passwd", ".git/config", "a/../../x", "~/x", ".git", "src/.GIT/hooks/pre-commit", ""])
    func hostilePathsAreRefused(path: String) throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let workspace = try makeWorkspace(folder)
        let passwd = try Data(contentsOf: URL(fileURLWithPath: "/etc/passwd"))
        let gitConfig = try Data(contentsOf: URL(fileURLWithPath: workspace.root + "/.git/config"))
        let kind = refusal { () throws(WorkspaceError) in try workspace.write("owned\n", to: path) }
        guard case .pathRefused = kind else {
            Issue.record("\(path) was not refused by the path rules: \(String(describing: kind))")
            return
        }
        #expect(!FileManager.default.fileExists(atPath: "/etc/x"))
        #expect(!FileManager.default.fileExists(atPath: folder.sub("x")))
        #expect(try Data(contentsOf: URL(fileURLWithPath: "/etc/passwd")) == passwd)
        #expect(try Data(contentsOf: URL(fileURLWithPath: workspace.root + "/.git/config")) == gitConfig)
        #expect(try workspace.files() == [])
    }

    @Test func aSymlinkToEtcPlantedInTheWorkspaceDoesNotRedirectAWrite() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let workspace = try makeWorkspace(folder)
        let marker = "masterplan-through-link-\(UInt32.random(in: 0 ... .max))"
        // As code run earlier with a writable workspace could have left it.
        #expect(symlink("/etc", workspace.root + "/config") == 0)
        let kind = refusal { () throws(WorkspaceError) in try workspace.write("owned\n", to: "config/\(marker)") }
        #expect(kind == .symlink(component: "config"))
        #expect(!FileManager.default.fileExists(atPath: "/etc/\(marker)"))

        // A deeper link, to a folder outside the workspace.
        let outside = folder.sub("outside")
        try FileManager.default.createDirectory(atPath: outside, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: workspace.root + "/src", withIntermediateDirectories: true)
        #expect(symlink(outside, workspace.root + "/src/lib") == 0)
        let deeper = refusal { () throws(WorkspaceError) in try workspace.write("owned\n", to: "src/lib/deep/x.py") }
        #expect(deeper == .symlink(component: "src/lib"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: outside) == [])
    }

    @Test func aSymlinkAtTheFileItselfIsNotWrittenThrough() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let workspace = try makeWorkspace(folder)
        let target = folder.sub("target.txt")
        try "untouched\n".write(toFile: target, atomically: false, encoding: .utf8)
        #expect(symlink(target, workspace.root + "/notes.txt") == 0)
        let kind = refusal { () throws(WorkspaceError) in try workspace.write("owned\n", to: "notes.txt") }
        #expect(kind == .symlink(component: "notes.txt"))
        #expect(try String(contentsOfFile: target, encoding: .utf8) == "untouched\n")
        // Reading through it is refused too.
        #expect(throws: WorkspaceError.self) { try workspace.read("notes.txt") }
        // Not listed as a file.
        #expect(try workspace.files() == [])
    }

    @Test func aFiftyMegabyteFileIsRefused() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let workspace = try makeWorkspace(folder)
        let huge = [UInt8](repeating: UInt8(ascii: "a"), count: 50 << 20)
        let kind = refusal { () throws(WorkspaceError) in try workspace.write(huge, to: "big.txt") }
        #expect(kind == .tooLarge(bytes: 50 << 20, limit: 1 << 20))
        #expect(!FileManager.default.fileExists(atPath: workspace.root + "/big.txt"))
        #expect(try workspace.files() == [])
    }

    @Test func theSizeCapIsConfigurable() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let workspace = try makeWorkspace(folder, limits: WorkspaceLimits(maxFileBytes: 10))
        try workspace.write("0123456789", to: "ten.txt")
        #expect(throws: WorkspaceError.self) { try workspace.write("0123456789x", to: "eleven.txt") }
    }

    @Test(arguments: [
        ("nul", [UInt8]("ok".utf8) + [0] + [UInt8]("more".utf8)),
        ("invalid UTF-8", [0x61, 0x62, 0xFF, 0xFE]),
        ("truncated sequence", [0x61, 0xE2, 0x82]),
        ("overlong encoding", [0xC0, 0xAF]),
    ])
    func binaryContentIsRefused(label: String, bytes: [UInt8]) throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let workspace = try makeWorkspace(folder)
        let kind = refusal { () throws(WorkspaceError) in try workspace.write(bytes, to: "data.bin") }
        guard case .notText = kind else {
            Issue.record("\(label) was not refused as binary: \(String(describing: kind))")
            return
        }
        #expect(!FileManager.default.fileExists(atPath: workspace.root + "/data.bin"))
    }

    @Test func textWithUnicodeIsAccepted() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let workspace = try makeWorkspace(folder)
        let text = "# Grüße, 日本語, emoji 🎉\nprint(\"ok\")\n"
        try workspace.write(text, to: "unicode.py")
        #expect(try workspace.read("unicode.py") == text)
    }

    @Test func aWaveCommitMakesExactlyOneCommitWithTheFiles() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let workspace = try makeWorkspace(folder)
        #expect(try workspace.log().isEmpty)
        #expect(try workspace.head() == nil)
        try workspace.write("a = 1\n", to: "pkg/a.py")
        try workspace.write("b = 2\n", to: "pkg/b.py")
        // A generated .gitignore must not keep a written file out of the commit.
        try workspace.write("*.py\n", to: ".gitignore")
        let first = try workspace.commitWave(1, atomCount: 3, files: ["pkg/a.py", "pkg/b.py", ".gitignore"])
        let log = try workspace.log()
        #expect(log.count == 1)
        #expect(log.first?.sha == first)
        #expect(log.first?.subject == "wave 1: 3 atoms")
        #expect(log.first?.parents == [])
        #expect(first.count == 40)
        #expect(try workspace.committedFiles(at: first) == [".gitignore", "pkg/a.py", "pkg/b.py"])

        try workspace.write("c = 3\n", to: "pkg/c.py")
        let second = try workspace.commitWave(2, atomCount: 1, files: ["pkg/c.py"])
        let history = try workspace.log()
        #expect(history.map(\.subject) == ["wave 2: 1 atom", "wave 1: 3 atoms"])
        #expect(history.first?.parents == [first])
        #expect(try workspace.committedFiles(at: second) == [".gitignore", "pkg/a.py", "pkg/b.py", "pkg/c.py"])
        #expect(try workspace.committedContent(of: "pkg/c.py") == "c = 3\n")
        #expect(try workspace.diff(from: first, to: second).contains("+c = 3"))

        // The fixed identity, with no git configuration needed.
        let author = try hostRun("/usr/bin/git", ["-C", workspace.root, "-c", "safe.directory=*", "log", "-1", "--format=%an <%ae>|%cn <%ce>"],
                                 environment: ["PATH": "/usr/bin:/bin", "HOME": "/nonexistent", "GIT_CONFIG_NOSYSTEM": "1"])
        #expect(author.output == "MasterPlan Executor <executor@masterplan.invalid>|MasterPlan Executor <executor@masterplan.invalid>\n")
    }

    @Test func ignoredFilesTheExecutorDidNotWriteStayOut() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let workspace = try makeWorkspace(folder)
        try workspace.exclude([".venv/"])
        try workspace.write("print(1)\n", to: "app.py")
        // As a dependency install in the sandbox would leave them.
        try FileManager.default.createDirectory(atPath: workspace.root + "/.venv/bin", withIntermediateDirectories: true)
        try "#!/bin/sh\n".write(toFile: workspace.root + "/.venv/bin/activate", atomically: false, encoding: .utf8)
        let sha = try workspace.commitWave(1, atomCount: 1, files: ["app.py", "missing.py", "../x"])
        #expect(try workspace.committedFiles(at: sha) == ["app.py"])
    }

    @Test func anUnchangedTreeStillCommitsOncePerWave() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let workspace = try makeWorkspace(folder)
        try workspace.write("a\n", to: "a.txt")
        try workspace.commitWave(1, atomCount: 1)
        try workspace.commitWave(2, atomCount: 0)
        #expect(try workspace.log().count == 2)
    }

    @Test func reopeningKeepsTheHistory() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let workspace = try makeWorkspace(folder)
        try workspace.write("a\n", to: "a.txt")
        let sha = try workspace.commit(message: "wave 1: 1 atom")
        let reopened = try makeWorkspace(folder)
        #expect(try reopened.head() == sha)
        #expect(try reopened.read("a.txt") == "a\n")
    }

    @Test func hooksPlantedInTheRepositoryDoNotRun() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let workspace = try makeWorkspace(folder)
        let marker = folder.sub("hook-ran")
        let hook = workspace.root + "/.git/hooks/pre-commit"
        try "#!/bin/sh\ntouch \(marker)\n".write(toFile: hook, atomically: false, encoding: .utf8)
        chmod(hook, 0o755)
        try workspace.write("a\n", to: "a.txt")
        try workspace.commit(message: "wave 1: 1 atom")
        #expect(!FileManager.default.fileExists(atPath: marker))
    }

    @Test func theArchiveHoldsTheCommittedFiles() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let workspace = try makeWorkspace(folder)
        #expect(throws: WorkspaceError.self) { try workspace.archive(to: folder.sub("early.tar.gz"), prefix: "project") }
        try workspace.write("print('a')\n", to: "app/a.py")
        try workspace.write("# Project\n", to: "README.md")
        // export-ignore from a generated .gitattributes must not drop files from the download.
        try workspace.write("README.md export-ignore\n", to: ".gitattributes")
        try workspace.commitWave(1, atomCount: 3)
        try workspace.write("uncommitted\n", to: "later.txt")
        let archive = folder.sub("workspace.tar.gz")
        try workspace.archive(to: archive, prefix: "project")
        let listing = try hostRun("/usr/bin/tar", ["-tzf", archive])
        #expect(listing.status == 0)
        let entries = Set(listing.output.split(separator: "\n").map(String.init))
        #expect(entries.isSuperset(of: ["project/app/a.py", "project/README.md", "project/.gitattributes"]))
        #expect(!entries.contains("project/later.txt"))
        #expect(!entries.contains { $0.contains(".git/") })
        let content = try hostRun("/usr/bin/tar", ["-xzOf", archive, "project/app/a.py"])
        #expect(content.output == "print('a')\n")
    }

    @Test func concurrentWritesToOneNewFolderAllLand() async throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let workspace = try makeWorkspace(folder)
        let failures = await withTaskGroup(of: String?.self) { group in
            for i in 0 ..< 24 {
                group.addTask {
                    do {
                        try workspace.write("n = \(i)\n", to: "shared/deep/folder/file\(i).py")
                        return nil
                    } catch {
                        return "\(error)"
                    }
                }
            }
            var failures: [String] = []
            for await failure in group { if let failure { failures.append(failure) } }
            return failures
        }
        #expect(failures.isEmpty, "\(failures)")
        #expect(try workspace.files().count == 24)
    }

    @Test func refusalsReadAsOneSentence() {
        let refused = WorkspaceError(.pathRefused(WorkspacePath.violation(of: "../x")!), path: "../x")
        #expect(refused.isRefusal)
        #expect(refused.description.hasPrefix("refused \"../x\": "))
        let large = WorkspaceError(.tooLarge(bytes: 52_428_800, limit: 1_048_576), path: "big.txt")
        #expect(large.description == "refused \"big.txt\": 52428800 bytes is more than the limit of 1048576 bytes per file")
        #expect(!WorkspaceError(.noCommits).isRefusal)
    }
}
