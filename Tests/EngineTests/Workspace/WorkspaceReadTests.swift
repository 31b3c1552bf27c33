@testable import Engine
import Foundation
import Testing
import TestSupport

/// `Workspace.read(_:)` at the size limits, through links, and its text check against the scalar
/// decoder it replaced.
@Suite(.dedicatedThreads) struct WorkspaceReadTests {
    private func makeWorkspace(_ folder: TemporaryFolder, limits: WorkspaceLimits = .default) throws -> Workspace {
        try Workspace.open(at: folder.sub("workspaces/plan-1"), limits: limits)
    }

    /// Puts `bytes` at `path` directly, as a sandboxed step could, past every check of `write`.
    private func plant(_ bytes: [UInt8], at path: String, in workspace: Workspace) throws {
        let url = URL(fileURLWithPath: workspace.root + "/" + path)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(bytes).write(to: url)
    }

    private func kind(_ body: () throws(WorkspaceError) -> String) -> WorkspaceError.Kind? {
        do {
            _ = try body()
            return nil
        } catch {
            return error.kind
        }
    }

    @Test(arguments: [0, 1, 63, 64])
    func filesUpToTheLimitAreReadWhole(size: Int) throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let workspace = try makeWorkspace(folder, limits: WorkspaceLimits(maxFileBytes: 64))
        let text = String((0 ..< size).map { Character(UnicodeScalar(UInt8(ascii: "a") + UInt8($0 % 26))) })
        try plant(Array(text.utf8), at: "src/file.txt", in: workspace)
        #expect(try workspace.read("src/file.txt") == text)
    }

    @Test func oneByteOverTheLimitIsRefused() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let workspace = try makeWorkspace(folder, limits: WorkspaceLimits(maxFileBytes: 64))
        try plant([UInt8](repeating: UInt8(ascii: "x"), count: 65), at: "big.txt", in: workspace)
        #expect(kind { () throws(WorkspaceError) in try workspace.read("big.txt") } == .tooLarge(bytes: 65, limit: 64))
    }

    @Test func theDefaultLimitOfOneMebibyteHoldsExactly() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let workspace = try makeWorkspace(folder)
        let limit = WorkspaceLimits.default.maxFileBytes
        try plant([UInt8](repeating: UInt8(ascii: "y"), count: limit), at: "exact.txt", in: workspace)
        try plant([UInt8](repeating: UInt8(ascii: "y"), count: limit + 1), at: "over.txt", in: workspace)
        #expect(try workspace.read("exact.txt").utf8.count == limit)
        #expect(kind { () throws(WorkspaceError) in try workspace.read("over.txt") } == .tooLarge(bytes: limit + 1, limit: limit))
    }

    @Test func linksAreNotReadThrough() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let workspace = try makeWorkspace(folder)
        try "secret\n".write(toFile: folder.sub("outside.txt"), atomically: false, encoding: .utf8)
        #expect(symlink(folder.sub("outside.txt"), workspace.root + "/link.txt") == 0)
        #expect(kind { () throws(WorkspaceError) in try workspace.read("link.txt") } == .symlink(component: "link.txt"))
        #expect(symlink(folder.path, workspace.root + "/linked") == 0)
        #expect(kind { () throws(WorkspaceError) in try workspace.read("linked/outside.txt") } == .symlink(component: "linked"))
        #expect(kind { () throws(WorkspaceError) in try workspace.read("../outside.txt") } == .pathRefused(.parentReference(path: "../outside.txt")))
        #expect(kind { () throws(WorkspaceError) in try workspace.read("missing.txt") } == .notFound)
    }

    @Test func aFileThatGrewSinceFstatIsStillReadWholeUpToTheLimit() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let workspace = try makeWorkspace(folder)
        try plant([UInt8](repeating: UInt8(ascii: "g"), count: 200), at: "growing.txt", in: workspace)
        let fd = open(workspace.root + "/growing.txt", O_RDONLY | O_CLOEXEC)
        #expect(fd >= 0)
        defer { close(fd) }
        // As if fstat had seen 3 bytes.
        #expect(try workspace.readToEnd(fd, expected: 3, limit: 1000, path: nil).count == 200)
        lseek(fd, 0, SEEK_SET)
        // Stops one byte past the limit, which the caller refuses as too large.
        #expect(try workspace.readToEnd(fd, expected: 3, limit: 100, path: nil).count == 101)
    }

    @Test(arguments: [
        ("a NUL byte", [UInt8]("ok".utf8) + [0] + [UInt8]("more".utf8), "a NUL byte", 2),
        ("invalid byte", [0x61, 0x62, 0xFF, 0xFE], "invalid UTF-8", 2),
        ("truncated sequence", [0x61, 0xE2, 0x82], "invalid UTF-8", 1),
        ("overlong encoding", [0xC0, 0xAF], "invalid UTF-8", 0),
        ("surrogate", [0x41, 0xED, 0xA0, 0x80], "invalid UTF-8", 1),
        ("beyond U+10FFFF", [0xF4, 0x90, 0x80, 0x80], "invalid UTF-8", 0),
        ("lone continuation after text", [UInt8]("héllo".utf8) + [0x80], "invalid UTF-8", 6),
    ] as [(String, [UInt8], String, Int)])
    func contentThatIsNotTextIsRefusedAtItsFirstBadByte(label: String, bytes: [UInt8], reason: String, offset: Int) throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let workspace = try makeWorkspace(folder)
        try plant(bytes, at: "data.bin", in: workspace)
        #expect(kind { () throws(WorkspaceError) in try workspace.read("data.bin") } == .notText(reason: reason, offset: offset), "\(label)")
    }

    @Test func theFastTextCheckAgreesWithTheScalarDecoder() throws {
        // Short random sequences from bytes that sit on UTF-8's boundaries: lead bytes, continuation
        // bytes, the overlong and surrogate ranges, and bytes that never appear.
        let alphabet: [UInt8] = [0x01, 0x41, 0x7F, 0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xBF, 0xC0, 0xC1, 0xC2, 0xDF,
                                 0xE0, 0xE1, 0xED, 0xEE, 0xEF, 0xF0, 0xF1, 0xF3, 0xF4, 0xF5, 0xF8, 0xFE, 0xFF]
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        func next() -> UInt64 {
            // xorshift64: reproducible without a seeded generator in the standard library.
            state ^= state << 13
            state ^= state >> 7
            state ^= state << 17
            return state
        }
        var accepted = 0
        for _ in 0 ..< 50_000 {
            let bytes = (0 ..< Int(next() % 7)).map { _ in alphabet[Int(next() % UInt64(alphabet.count))] }
            let decoderOffset = Workspace.firstInvalidUTF8Offset(bytes)
            do {
                let text = try Workspace.text(bytes, limit: 100, path: "x")
                #expect(decoderOffset == nil, "\(bytes) accepted, but the decoder refuses it at \(decoderOffset ?? -1)")
                #expect(Array(text.utf8) == bytes)
                accepted += 1
            } catch {
                #expect(error.kind == .notText(reason: "invalid UTF-8", offset: decoderOffset ?? -1), "\(bytes)")
            }
        }
        // Both outcomes were exercised.
        #expect(accepted > 1_000)
        #expect(accepted < 49_000)
    }
}
