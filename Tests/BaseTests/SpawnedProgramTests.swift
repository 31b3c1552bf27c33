import Base
import Foundation
import Glibc
import Testing
import TestSupport

@Suite(.dedicatedThreads) struct SpawnedProgramTests {
    /// A folder of its own under the system's temporary folder, removed by the caller.
    static func folder() throws -> String {
        var template = Array((NSTemporaryDirectory() + "masterplan-base.XXXXXX").utf8CString)
        let made = try #require(mkdtemp(&template))
        return String(cString: made)
    }

    @Test func aPipeKeepsTheTailOfOutputAndErrorsAndTheExitCode() throws {
        let run = try SpawnedProgram(executable: "/bin/sh", arguments: ["-c", "echo out; echo err >&2; exit 3"],
                                     environment: ["PATH": "/usr/bin:/bin"]).run()
        #expect(run.termination == .exited(3))
        #expect(run.termination.status == 3)
        #expect(run.output.text == "out\nerr\n")
    }

    @Test func theEnvironmentIsExactlyTheOneGivenOrInheritedWhenNil() throws {
        let given = try SpawnedProgram(executable: "/usr/bin/env", arguments: [], environment: ["ONLY": "this"]).run()
        #expect(given.output.text == "ONLY=this\n")
        let inherited = try SpawnedProgram(executable: "/usr/bin/env", arguments: [], environment: nil).run()
        let path = try #require(ProcessInfo.processInfo.environment["PATH"])
        #expect(inherited.output.text.split(separator: "\n").contains("PATH=\(path)"))
    }

    @Test func aDeadlineKillsTheWholeProcessGroup() throws {
        let folder = try Self.folder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        // The grandchild would write its mark after the deadline unless the group is killed with it.
        let script = "(sleep 1; echo late > \(folder)/mark) & sleep 30"
        let run = try SpawnedProgram(executable: "/bin/sh", arguments: ["-c", script], environment: ["PATH": "/usr/bin:/bin"],
                                     timeout: .milliseconds(300)).run()
        #expect(run.termination == .timedOut)
        #expect(run.duration < .seconds(10))
        usleep(1_500_000)
        #expect(!FileManager.default.fileExists(atPath: folder + "/mark"))
    }

    @Test func aFileReceivesOutputTruncatedOrAppendedAndErrorsCanBeDiscarded() throws {
        let folder = try Self.folder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let path = folder + "/out"
        let program = { (text: String, append: Bool, errors: SpawnedProgram.StandardError) in
            SpawnedProgram(executable: "/bin/sh", arguments: ["-c", "echo \(text); echo oops >&2"], environment: [:],
                           output: .file(path, append: append), standardError: errors)
        }
        #expect(try program("one", false, .withOutput).run().termination == .exited(0))
        #expect(try program("two", true, .discarded).run().output.totalBytes == 0)
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "one\noops\ntwo\n")
        _ = try program("three", false, .discarded).run()
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "three\n")
    }

    @Test func aMissingProgramIsALaunchErrorNamingIt() {
        #expect(throws: SpawnedProgram.LaunchError.self) {
            try SpawnedProgram(executable: "/nonexistent/program", arguments: [], environment: [:]).run()
        }
        do {
            _ = try SpawnedProgram(executable: "/nonexistent/program", arguments: [], environment: [:]).run()
        } catch {
            #expect(error.description.contains("/nonexistent/program"))
        }
    }

    @Test func otherDescriptorsOfThisProcessDoNotReachTheChild() throws {
        try #require(SpawnedProgram.closesInheritedDescriptors)
        // A descriptor opened without close-on-exec, as a careless library would.
        let leaked = open("/dev/null", O_RDONLY)
        try #require(leaked >= 0)
        defer { close(leaked) }
        let run = try SpawnedProgram(executable: "/bin/sh", arguments: ["-c", "test -e /proc/self/fd/\(leaked) && echo open || echo closed"],
                                     environment: ["PATH": "/usr/bin:/bin"]).run()
        #expect(run.output.text == "closed\n")
    }

    @Test func aStartedProgramIsPolledSignalledAndReapedWithItsGroup() throws {
        let folder = try Self.folder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let log = folder + "/log"
        let program = try SpawnedProgram(executable: "/bin/sh", arguments: ["-c", "sleep 30 & echo started; wait"],
                                         environment: ["PATH": "/usr/bin:/bin"], output: .file(log, append: true)).start()
        #expect(program.leadsGroup && getpgid(program.pid) == program.pid)
        #expect(program.poll() == nil && program.isRunning)
        // "started" is written once the `sleep` runs in the background.
        let started = Date().addingTimeInterval(30)
        while (try? String(contentsOfFile: log, encoding: .utf8)) != "started\n" && Date() < started { usleep(10_000) }
        program.send(SIGTERM)
        let ended = program.wait()
        #expect(ended == .signalled(SIGTERM) && ended.status == 128 + SIGTERM)
        // The `sleep` it started is still in the group until the group is killed.
        #expect(program.groupIsAlive)
        program.killGroup()
        let deadline = Date().addingTimeInterval(10)
        while program.groupIsAlive && Date() < deadline { usleep(20_000) }
        #expect(!program.groupIsAlive)
        #expect(try String(contentsOfFile: log, encoding: .utf8) == "started\n")
    }

    @Test func childProcessReadsBackTheFileAndCapturesStandardOutputWhole() throws {
        let folder = try Self.folder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let outcome = try ChildProcess.run("/bin/sh", ["-c", "echo hello; echo there >&2; kill -9 $$"], outputPath: folder + "/out")
        #expect(outcome.status == 128 + SIGKILL)
        #expect(outcome.output == "hello\nthere\n")
        // More than any pipe buffer, kept whole; standard error is not part of it.
        let captured = try ChildProcess.standardOutput(of: "/bin/sh", ["-c", "head -c 300000 /dev/zero; echo noise >&2"])
        #expect(captured.status == 0)
        #expect(captured.bytes.count == 300_000 && captured.bytes.allSatisfy { $0 == 0 })
    }
}
