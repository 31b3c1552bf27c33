import Glibc

/// A folder's regular files and sub-folders as one byte stream: how a box hands a folder it made in its
/// own memory (downloaded wheels, installed packages) to the executor, which writes it to a new host
/// folder itself. The box never has a writable host folder, so what it can put on the host's disk is
/// the stream's size, which `Sandbox.run`'s `export` bounds.
///
/// The format is the engine's own, so that the reader can be small and strict: records of
/// `kind (u8) · path length (u32) · path · mode (u32) · size (u64) · content`, big-endian, kind 0 a
/// folder, 1 a file, 2 the end. Links and special files are never written (the writer skips them).
/// The reader refuses absolute paths, `.`/`..` components, empty components, NUL bytes, a path over
/// 4,096 bytes, a file before its folder, a repeated path and a stream that stops before its end record;
/// it creates every entry with `O_NOFOLLOW`/`O_EXCL` under a folder only it has written to, so no
/// entry can land outside it.
public enum FolderStream {
    /// Python that writes the folder `sys.argv`-given root as a stream to descriptor 4; define
    /// `export_folder(root)` in a boxed script by appending this.
    public static let pythonWriter = """

        def export_folder(root):
            import os, stat, struct
            out = os.fdopen(4, "wb", buffering=1 << 20)
            def record(kind, name, mode, size):
                data = name.encode("utf-8", "surrogateescape")
                out.write(struct.pack(">BI", kind, len(data)) + data + struct.pack(">IQ", mode, size))
            for folder, folders, files in os.walk(root):
                folders.sort()
                relative = os.path.relpath(folder, root)
                if relative != ".":
                    record(0, relative, 0o755, 0)
                for name in sorted(files):
                    path = os.path.join(folder, name)
                    info = os.lstat(path)
                    if not stat.S_ISREG(info.st_mode):
                        continue
                    with open(path, "rb") as source:
                        data = source.read()
                    record(1, os.path.relpath(path, root), info.st_mode & 0o755, len(data))
                    out.write(data)
            out.write(struct.pack(">BI", 2, 0))
            out.flush()

        """

    /// Why a stream was refused.
    public struct Refusal: Error, CustomStringConvertible, Sendable {
        public var description: String
    }

    /// Writes the stream read from `source` (an open file, read from its start) into the empty folder
    /// `destination`, which the caller made and nothing else writes to. Returns the number of files.
    public static func extract(from source: Int32, into destination: String) throws(Refusal) -> Int {
        let root = open(destination, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        guard root >= 0 else { throw Refusal(description: "cannot open \(destination): \(String(cString: strerror(errno)))") }
        defer { close(root) }
        var reader = Reader(fd: source)
        var seen: Set<String> = []
        var files = 0
        while true {
            let kind = try reader.integer(1)
            let length = try reader.integer(4)
            if kind == 2 {
                guard length == 0 else { throw Refusal(description: "the end record has a path") }
                return files
            }
            guard kind <= 1 else { throw Refusal(description: "unknown record kind \(kind)") }
            guard (1...4096).contains(length) else { throw Refusal(description: "a path of \(length) bytes") }
            let nameBytes = try reader.bytes(Int(length))
            let mode = try reader.integer(4)
            let size = try reader.integer(8)
            let path = try checkedPath(nameBytes)
            guard seen.insert(path).inserted else { throw Refusal(description: "\(path) appears twice") }
            let parent = path.split(separator: "/").dropLast().joined(separator: "/")
            guard parent.isEmpty || seen.contains(parent) else { throw Refusal(description: "\(path) comes before its folder") }
            if kind == 0 {
                guard size == 0, mkdirat(root, path, 0o755) == 0 else {
                    throw Refusal(description: "cannot make the folder \(path): \(String(cString: strerror(errno)))")
                }
                continue
            }
            let fd = openat(root, path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode_t(mode & 0o755))
            guard fd >= 0 else { throw Refusal(description: "cannot create \(path): \(String(cString: strerror(errno)))") }
            defer { close(fd) }
            fchmod(fd, mode_t(mode & 0o755 | 0o644))
            try reader.copy(Int(size), to: fd, path: path)
            files += 1
        }
    }

    /// The path as text, when it is a plain relative path.
    static func checkedPath(_ bytes: [UInt8]) throws(Refusal) -> String {
        guard !bytes.contains(0), let path = String(validating: bytes, as: UTF8.self) else {
            throw Refusal(description: "a path that is not UTF-8 text")
        }
        let components = path.split(separator: "/", omittingEmptySubsequences: false)
        guard !path.hasPrefix("/"), !components.contains(where: { $0.isEmpty || $0 == "." || $0 == ".." }) else {
            throw Refusal(description: "the path \(path) is not a plain relative path")
        }
        return path
    }

    /// Sequential reads from the stream's file.
    struct Reader {
        let fd: Int32

        mutating func bytes(_ count: Int) throws(Refusal) -> [UInt8] {
            var buffer = [UInt8](repeating: 0, count: count)
            var filled = 0
            while filled < count {
                let n = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress! + filled, count - filled) }
                if n < 0 && errno == EINTR { continue }
                guard n > 0 else { throw Refusal(description: "the stream stops before its end") }
                filled += n
            }
            return buffer
        }

        mutating func integer(_ width: Int) throws(Refusal) -> UInt64 {
            try bytes(width).reduce(0) { $0 << 8 | UInt64($1) }
        }

        mutating func copy(_ size: Int, to output: Int32, path: String) throws(Refusal) {
            var left = size
            while left > 0 {
                let chunk = try bytes(min(left, 1 << 20))
                var written = 0
                while written < chunk.count {
                    let n = chunk.withUnsafeBytes { write(output, $0.baseAddress! + written, chunk.count - written) }
                    if n < 0 && errno == EINTR { continue }
                    guard n > 0 else { throw Refusal(description: "cannot write \(path): \(String(cString: strerror(errno)))") }
                    written += n
                }
                left -= chunk.count
            }
        }
    }
}
