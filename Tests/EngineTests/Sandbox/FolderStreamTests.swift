@testable import Engine
import Foundation
import Testing
import TestSupport

/// The stream a box hands a folder over with is written by whatever ran in the box: the reader takes
/// plain relative paths in order and nothing else, and never writes outside the folder it was given.
@Suite(.dedicatedThreads) struct FolderStreamTests {
    /// One record: kind, path, mode, content.
    static func record(_ kind: UInt8, _ path: String, mode: UInt32 = 0o644, content: [UInt8] = [], size: UInt64? = nil) -> [UInt8] {
        func bigEndian<T: FixedWidthInteger>(_ value: T) -> [UInt8] { withUnsafeBytes(of: value.bigEndian) { Array($0) } }
        let name = Array(path.utf8)
        return [kind] + bigEndian(UInt32(name.count)) + name + bigEndian(mode) + bigEndian(size ?? UInt64(content.count)) + content
    }

    static let end: [UInt8] = [2, 0, 0, 0, 0]

    /// Extracts `stream` into a new folder; returns the outcome and the folder (removed by the caller).
    func extract(_ stream: [UInt8]) throws -> (Result<Int, FolderStream.Refusal>, String) {
        let folder = NSTemporaryDirectory() + "masterplan-stream-\(UInt32.random(in: 0 ... .max))"
        try FileManager.default.createDirectory(atPath: folder + "/into", withIntermediateDirectories: true)
        let file = folder + "/stream"
        try Data(stream).write(to: URL(fileURLWithPath: file))
        let fd = open(file, O_RDONLY)
        defer { close(fd) }
        do {
            return (.success(try FolderStream.extract(from: fd, into: folder + "/into")), folder)
        } catch {
            return (.failure(error), folder)
        }
    }

    @Test func aFolderAndItsFilesArriveAsSent() throws {
        let stream = Self.record(0, "pkg", mode: 0o755) + Self.record(1, "pkg/__init__.py", content: Array("x = 1\n".utf8))
            + Self.record(1, "top.txt", mode: 0o755, content: Array("hi".utf8)) + Self.end
        let (outcome, folder) = try extract(stream)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        #expect(try outcome.get() == 2)
        #expect(try String(contentsOfFile: folder + "/into/pkg/__init__.py", encoding: .utf8) == "x = 1\n")
        #expect(try String(contentsOfFile: folder + "/into/top.txt", encoding: .utf8) == "hi")
    }

    static let refused: [(String, [UInt8])] = [
        ("an absolute path", record(1, "/etc/escape", content: [1]) + end),
        ("a parent component", record(1, "../escape", content: [1]) + end),
        ("a parent component inside", record(0, "a") + record(1, "a/../../escape", content: [1]) + end),
        ("an empty component", record(1, "a//b", content: [1]) + end),
        ("a file before its folder", record(1, "missing/escape", content: [1]) + end),
        ("a path twice", record(1, "twice", content: [1]) + record(1, "twice", content: [2]) + end),
        ("no end record", record(1, "cut", content: [1])),
        ("content shorter than its size", record(1, "short", content: [1], size: 100) + end),
        ("an unknown kind", [7, 0, 0, 0, 1, 65] + end),
        ("a NUL in a path", record(1, "a\u{0}b", content: [1]) + end),
    ]

    @Test(arguments: refused.map(\.0))
    func aHostileStreamIsRefusedAndNothingLandsOutside(name: String) throws {
        let stream = try #require(Self.refused.first { $0.0 == name }).1
        let (outcome, folder) = try extract(stream)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        #expect(throws: FolderStream.Refusal.self, "\(name)") { try outcome.get() }
        #expect(!FileManager.default.fileExists(atPath: folder + "/escape"))
        #expect(!FileManager.default.fileExists(atPath: "/etc/escape"))
    }
}
