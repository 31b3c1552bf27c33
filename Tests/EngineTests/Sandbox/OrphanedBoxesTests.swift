import Base
import Engine
import Foundation
import Glibc
import Store
import Testing
import TestSupport

/// A box adopted by init (its executor was killed while it was being set up) is ended by the next
/// executor of the same data folder; a box whose parent lives, and boxes of other folders, are not.
@Suite(.dedicatedThreads) struct OrphanedBoxesTests {
    static func bwrap(_ folder: String, dieWithParent: Bool = false) -> [String] {
        ["/usr/bin/bwrap", "--unshare-all", "--cap-drop", "ALL"] + (dieWithParent ? ["--die-with-parent"] : []) + ["--ro-bind", "/usr", "/usr", "--symlink", "usr/bin", "/bin",
         "--symlink", "usr/lib", "/lib", "--symlink", "usr/lib64", "/lib64", "--proc", "/proc", "--dev", "/dev",
         "--ro-bind", folder + "/workspaces", folder + "/workspaces", "/usr/bin/sleep", "300"]
    }

    /// PIDs of bwrap processes adopted by init whose command line names `folder`.
    static func orphans(of folder: String) -> [pid_t] {
        ((try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []).compactMap { entry -> pid_t? in
            guard let pid = pid_t(entry), let data = FileManager.default.contents(atPath: "/proc/\(entry)/cmdline"),
                  let stat = try? String(contentsOfFile: "/proc/\(entry)/stat", encoding: .utf8),
                  let close = stat.lastIndex(of: ")") else { return nil }
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            let command = String(decoding: data, as: UTF8.self)
            return fields.count > 1 && fields[1] == "1" && fields[0] != "Z" && command.hasPrefix("/usr/bin/bwrap") && command.contains(folder) ? pid : nil
        }
    }

    @Test func aBoxAdoptedByInitIsEndedAndOthersAreLeftAlone() throws {
        let mine = "/tmp/masterplan-orphans-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let other = mine + "-other"
        defer { for folder in [mine, other] { try? FileManager.default.removeItem(atPath: folder) } }
        for folder in [mine, other] { try FileManager.default.createDirectory(atPath: folder + "/workspaces", withIntermediateDirectories: true) }
        // Orphans: started in the background by a shell that exits at once, so init adopts them.
        for folder in [mine, other] {
            let line = Self.bwrap(folder).map { "'\($0)'" }.joined(separator: " ")
            let outcome = try ChildProcess.run("/bin/sh", ["-c", "\(line) >/dev/null 2>&1 </dev/null &"], outputPath: "/dev/null")
            #expect(outcome.status == 0)
        }
        // A box whose parent (this test) lives.
        let living = try BackgroundProcess("/usr/bin/bwrap", Array(Self.bwrap(mine, dieWithParent: true).dropFirst()),
                                           environment: ProcessInfo.processInfo.environment, outputPath: "/dev/null")
        defer { _ = living.stop(SIGKILL, seconds: 5) }
        var adopted: [pid_t] = []
        for _ in 0..<50 where adopted.isEmpty {
            usleep(100_000)
            adopted = Self.orphans(of: mine + "/")
        }
        #expect(!adopted.isEmpty, "the orphan box did not start")

        let reaped = OrphanedBoxes.reap(under: mine)
        #expect(Set(adopted).isSubset(of: Set(reaped)), "reaped \(reaped), adopted \(adopted)")
        for _ in 0..<50 where !Self.orphans(of: mine + "/").isEmpty { usleep(100_000) }
        #expect(Self.orphans(of: mine + "/").isEmpty)
        #expect(living.isRunning, "a box with a living parent was killed")
        // The other folder's orphan is not this executor's to end.
        let others = Self.orphans(of: other + "/")
        #expect(!others.isEmpty)
        #expect(Set(others).isSubset(of: Set(OrphanedBoxes.reap(under: other))))
    }
}
