/// The rules for a file path a task may write: relative, normalised, inside the workspace, and harmless.
///
/// Paths come from an LLM and end up as arguments to file-system calls inside the workspace, so
/// anything that could reach outside it (`..`, `/etc/x`), touch version control (`.git/config`),
/// name a device, or hide characters from a reviewer is refused here, before the plan is stored.
/// A project's files are also kept from the names the test runner and the interpreter act on
/// (`projectFileViolation`, in WorkspacePath+TestRunner.swift).
public enum WorkspacePath {
    /// Why a path is refused; `description` is the sentence shown to the LLM and the user.
    public enum Violation: Sendable, Hashable, CustomStringConvertible {
        case empty
        /// A control character, or an invisible one that could make the path read differently than it is.
        case hiddenCharacter(path: String, scalar: UInt32)
        /// Longer than `PlanLimits.maxPathLength` code points.
        case tooLong(path: String, length: Int, limit: Int)
        case backslash(path: String)
        case absolute(path: String)
        case homeOrDrive(path: String)
        case parentReference(path: String)
        case notNormalised(path: String, normalised: String)
        case versionControl(path: String, folder: String)
        case deviceName(path: String, component: String)
        case componentTooLong(path: String)
        case tooDeep(path: String, depth: Int, limit: Int)
        /// A file the test runner or the interpreter acts on because of its name (`projectFileViolation` only).
        case runnerFile(path: String, kind: RunnerFile)

        public var description: String {
            switch self {
            case .empty:
                return "the file path is empty"
            case .hiddenCharacter(let path, let scalar):
                return "\(path.quotedForMessage()) contains the control or invisible character U+\(String(scalar, radix: 16, uppercase: true)); use printable characters only"
            case .tooLong(let path, let length, let limit):
                return "\(path.quotedForMessage()) is \(length) characters long, more than the limit of \(limit)"
            case .backslash(let path):
                return "\(path.quotedForMessage()) contains a backslash; separate folders with /"
            case .absolute(let path):
                return "\(path.quotedForMessage()) is an absolute path; write it relative to the project root"
            case .homeOrDrive(let path):
                return "\(path.quotedForMessage()) refers to a home folder or drive; write it relative to the project root"
            case .parentReference(let path):
                return "\(path.quotedForMessage()) uses \"..\" to leave its folder; paths must stay inside the project"
            case .notNormalised(let path, let normalised):
                return "\(path.quotedForMessage()) is not normalised; write \(normalised.quotedForMessage())"
            case .versionControl(let path, let folder):
                return "\(path.quotedForMessage()) is inside \(folder)/, which belongs to version control; tasks must not write there"
            case .deviceName(let path, let component):
                return "\(path.quotedForMessage()) uses the reserved device name \(component.quotedForMessage()); choose another name"
            case .componentTooLong(let path):
                return "\(path.quotedForMessage()) has a file or folder name longer than 255 bytes"
            case .tooDeep(let path, let depth, let limit):
                return "\(path.quotedForMessage()) is \(depth) levels deep, more than the limit of \(limit)"
            case .runnerFile(let path, let kind):
                return "\(path.quotedForMessage()) \(kind.consequence) — \(kind.remedy)"
            }
        }
    }

    /// Folders of version-control systems; compared without case, as case-insensitive file systems would.
    static let versionControlFolders: Set<String> = [".git", ".hg", ".svn", ".bzr"]

    /// Names Windows reserves for devices (with any extension); a workspace is downloaded as an archive
    /// and may be unpacked there.
    static let deviceNames: Set<String> = {
        var names: Set<String> = ["con", "prn", "aux", "nul"]
        for n in 1...9 { names.insert("com\(n)"); names.insert("lpt\(n)") }
        return names
    }()

    /// The first rule `path` breaks, or nil when the path is acceptable as it is.
    public static func violation(of path: String, limits: PlanLimits = .default) -> Violation? {
        isPlainlySafe(path, limits: limits) ? nil : violationByRules(of: path, limits: limits)
    }

    /// The rules themselves, without the shortcut of `isPlainlySafe`.
    static func violationByRules(of path: String, limits: PlanLimits) -> Violation? {
        if path.isEmpty { return .empty }
        for scalar in path.unicodeScalars where isHidden(scalar) {
            return .hiddenCharacter(path: path, scalar: scalar.value)
        }
        if let length = ProblemList.length(of: path, over: limits.maxPathLength) {
            return .tooLong(path: path, length: length, limit: limits.maxPathLength)
        }
        if path.utf8.contains(UInt8(ascii: "\\")) { return .backslash(path: path) }
        if path.utf8.first == UInt8(ascii: "/") { return .absolute(path: path) }
        if path.utf8.first == UInt8(ascii: "~") || hasDriveLetter(path) { return .homeOrDrive(path: path) }
        let components = path.split(separator: "/", omittingEmptySubsequences: false)
        if components.contains(where: { $0 == ".." }) { return .parentReference(path: path) }
        let kept = components.compactMap { component -> Substring? in
            let trimmed = trimSpaces(component)
            return trimmed.isEmpty || trimmed == "." ? nil : trimmed
        }
        if kept.count != components.count || zip(kept, components).contains(where: { $0.0.count != $0.1.count }) {
            if kept.isEmpty { return .empty }
            return .notNormalised(path: path, normalised: kept.joined(separator: "/"))
        }
        for component in components {
            let lowered = component.lowercased()
            // Also as the last component: a file named ".git" is how git links worktrees and submodules.
            if versionControlFolders.contains(lowered) {
                return .versionControl(path: path, folder: String(component))
            }
            let stem = lowered.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
            if deviceNames.contains(String(stem)) { return .deviceName(path: path, component: String(component)) }
            if component.utf8.count > 255 { return .componentTooLong(path: path) }
        }
        if components.count > limits.maxPathDepth {
            return .tooDeep(path: path, depth: components.count, limit: limits.maxPathDepth)
        }
        return nil
    }

    /// A single pass over the bytes that accepts the common case — ASCII letters, digits, `_`, `-`, `.`
    /// and single slashes, no reserved name — without allocating. Anything else (including anything this
    /// pass is unsure of) goes through the full rules, which alone decide what is refused and why.
    static func isPlainlySafe(_ path: String, limits: PlanLimits) -> Bool {
        let utf8 = path.utf8
        // Bytes equal code points here: any byte outside ASCII sends the path to the full rules.
        guard let first = utf8.first, first != UInt8(ascii: "/"), utf8.count <= limits.maxPathLength else { return false }
        var depth = 1
        var length = 0
        var stemLength = -1
        // The first four bytes of the component, lowercased, packed little-endian: compared against the reserved names.
        var head: UInt32 = 0
        func componentIsSafe() -> Bool {
            guard length > 0, length <= 255 else { return false }
            if head & 0xFF == UInt32(UInt8(ascii: ".")) {
                // ".", ".." and the version-control folders are left to the full rules.
                if length <= 2 || (length <= 4 && reservedKeys.contains(packedKey(head, length))) { return false }
            }
            let stem = stemLength < 0 ? length : stemLength
            return !(stem == 3 || stem == 4) || !reservedKeys.contains(packedKey(head, stem))
        }
        for byte in utf8 {
            if byte == UInt8(ascii: "/") {
                guard componentIsSafe() else { return false }
                depth += 1
                length = 0
                stemLength = -1
                head = 0
                continue
            }
            let lowered = byte | 0x20
            let isLetter = (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(lowered)
            let isDigit = (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
            guard isLetter || isDigit || byte == UInt8(ascii: "_") || byte == UInt8(ascii: "-") || byte == UInt8(ascii: ".") else {
                return false
            }
            if length < 4 { head |= UInt32(isLetter ? lowered : byte) << (8 * UInt32(length)) }
            if byte == UInt8(ascii: ".") && stemLength < 0 && length > 0 { stemLength = length }
            length += 1
        }
        return componentIsSafe() && depth <= limits.maxPathDepth
    }

    /// The reserved names (device names and version-control folders) of three or four bytes, packed like `head` above.
    private static let reservedKeys: Set<UInt64> = {
        var keys: Set<UInt64> = []
        for name in deviceNames.union(versionControlFolders) where name.utf8.count <= 4 {
            var packed: UInt32 = 0
            for (i, byte) in name.utf8.enumerated() { packed |= UInt32(byte) << (8 * UInt32(i)) }
            keys.insert(packedKey(packed, name.utf8.count))
        }
        return keys
    }()

    /// The first `length` bytes of `head`, tagged with the length so that "aux" and "aux\0" cannot collide.
    private static func packedKey(_ head: UInt32, _ length: Int) -> UInt64 {
        let mask: UInt32 = length >= 4 ? .max : (1 << (8 * UInt32(length))) - 1
        return UInt64(head & mask) | UInt64(length) << 32
    }

    /// Control characters (C0, DEL, C1) and the invisible format characters that can reorder or hide
    /// text (zero-width spaces, bidirectional overrides, the byte-order mark).
    static func isHidden(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x00...0x1F, 0x7F...0x9F: return true
        case 0x200B...0x200F, 0x202A...0x202E, 0x2060...0x2069, 0xFEFF: return true
        default: return false
        }
    }

    private static func hasDriveLetter(_ path: String) -> Bool {
        var bytes = path.utf8.makeIterator()
        guard let letter = bytes.next(), let colon = bytes.next() else { return false }
        let isLetter = (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(letter | 0x20)
        return isLetter && colon == UInt8(ascii: ":")
    }

    private static func trimSpaces(_ text: Substring) -> Substring {
        var result = text
        while result.first == " " { result = result.dropFirst() }
        while result.last == " " { result = result.dropLast() }
        return result
    }
}
