import Foundation
import Testing
import TestSupport

/// `masterplan sandbox check`, run as an operator runs it: the built binary against a throwaway data folder.
@Suite(.dedicatedThreads) struct SandboxCommandTests {
    /// Every TCP port this machine listens on, passed as --skip-port: the test must not poke at the
    /// machine's own services (the Engine tests aim the loopback probe at a listener of their own).
    static func hostPorts() -> [String] {
        var ports = Set<String>()
        for table in ["/proc/net/tcp", "/proc/net/tcp6"] {
            let text = (try? String(contentsOfFile: table, encoding: .utf8)) ?? ""
            for line in text.split(separator: "\n").dropFirst() {
                let columns = line.split(separator: " ")
                guard columns.count > 3, columns[3] == "0A", let port = columns[1].split(separator: ":").last,
                      let number = UInt16(port, radix: 16) else { continue }
                ports.insert(String(number))
            }
        }
        return ports.sorted().flatMap { ["--skip-port", $0] }
    }

    @Test func theCheckPrintsOneAlignedLinePerProbeAndASummary() throws {
        let folder = try TemporaryFolder(prefix: "mpsbx")
        defer { folder.remove() }
        let data = folder.file("data")
        let outcome = try MasterplanBinary.run(["sandbox", "check", "--data-dir", data] + Self.hostPorts(), environment: ["HOME": folder.path])
        let lines = outcome.output.split(separator: "\n").map(String.init)
        #expect(lines.first?.hasPrefix("masterplan sandbox check: data folder \(data), workspaces in \(data)/workspaces") == true, "\(outcome.output)")
        let findings = Array(lines.dropFirst().dropLast())
        // Four kinds of run (validator, test, the install step's fetch and install boxes), nineteen probes each.
        #expect(findings.count == 76, "\(outcome.output)")
        let verdicts = ["contained", "LEAK", "ERROR", "skipped"]
        let column = try #require(findings.first.flatMap { line in verdicts.compactMap { line.range(of: "  \($0)  ") }.first?.lowerBound })
        var counts: [String: Int] = [:]
        for line in findings {
            let words = line.split(separator: " ", maxSplits: 2)
            #expect(words.count == 3, "\(line)")
            let name = String(words[0])
            let verdict = words.count > 1 ? String(words[1]) : ""
            #expect(["validator.", "test.", "fetch.", "install."].contains { name.hasPrefix($0) }, "\(line)")
            #expect(verdicts.contains(verdict), "\(line)")
            // The verdicts start in one column.
            #expect(line.range(of: "  \(verdict)  ")?.lowerBound.utf16Offset(in: line) == column.utf16Offset(in: findings[0]), "\(line)")
            counts[verdict, default: 0] += 1
        }
        let summary = try #require(lines.last)
        #expect(summary.hasPrefix("76 probes in "), "\(summary)")
        let tally = verdicts.map { "\(counts[$0] ?? 0) \($0)" }.joined(separator: ", ")
        #expect(summary.contains(": \(tally); "), "\(summary) does not say \(tally)")
        let notContained = (counts["LEAK"] ?? 0) + (counts["ERROR"] ?? 0)
        // Exit status 1 exactly when something is not contained.
        #expect(outcome.status == (notContained > 0 ? 1 : 0), "\(outcome.output)")
        // On this machine nothing gets out.
        #expect(notContained == 0, "\(outcome.output)")
        #expect(summary.hasSuffix(notContained > 0 ? "the box is NOT contained" : "the box is contained"), "\(summary)")
        // The check leaves nothing behind in the data folder but the workspaces folder it made.
        #expect(try FileManager.default.contentsOfDirectory(atPath: data) == ["workspaces"])
        #expect(try FileManager.default.contentsOfDirectory(atPath: data + "/workspaces").isEmpty)
    }

    /// A data folder the box's user cannot reach: no probe can run, exit status 2 with the fix.
    @Test(.enabled(if: geteuid() == 0, "only root switches the box to another user"))
    func aBoxThatCannotStartExitsTwo() throws {
        let folder = try TemporaryFolder(prefix: "mpsbx")
        defer { folder.remove() }
        let closed = folder.file("closed")
        try FileManager.default.createDirectory(atPath: closed, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let outcome = try MasterplanBinary.run(["sandbox", "check", "--data-dir", closed + "/data"] + Self.hostPorts(),
                                               environment: ["HOME": folder.path])
        #expect(outcome.status == 2, "\(outcome.output)")
        #expect(outcome.output.contains("the box does not start, no probe ran"), "\(outcome.output)")
        #expect(outcome.output.contains("chmod o+x \(closed)"), "\(outcome.output)")
    }
}
