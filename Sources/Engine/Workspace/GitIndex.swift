/// Reads git's index file (`.git/index`) far enough to tell which paths have a plain entry, so that
/// a commit can skip `git add --force` when `git add --all` already staged every file it would force.
///
/// Only what it fully understands is answered: versions 2 and 3 with 20-byte (SHA-1) object ids, each
/// entry checked against the format (name length, NUL padding, bounds). Anything else — version 4's
/// compressed names, a damaged file — is nil, and the caller then lets git decide. No I/O, so it is
/// tested on bytes. The format: git's `Documentation/gitformat-index.txt`.
enum GitIndex {
    /// The length of an object id in a SHA-1 repository.
    static let sha1Length = 20

    /// Of `paths` (each the UTF-8 bytes of a path relative to the work tree), those with an entry in
    /// `index` at stage 0 for a regular file (mode 100644 or 100755) that carries none of the flags with
    /// which git leaves the working tree alone (assume-valid, skip-worktree, intent-to-add); nil when
    /// `index` is not a version 2 or 3 index with 20-byte ids, or is malformed.
    ///
    /// Names are compared as bytes: git stores them unnormalised, and two spellings of "é" are two files.
    static func plainEntries(among paths: Set<[UInt8]>, in index: [UInt8]) -> Set<[UInt8]>? {
        // Header: "DIRC", version, entry count; the file ends with the checksum of what precedes it.
        let end = index.count - sha1Length
        guard end >= 12, index[0 ..< 4].elementsEqual("DIRC".utf8) else { return nil }
        let version = bigEndian32(index, at: 4)
        guard version == 2 || version == 3 else { return nil }
        let count = Int(bigEndian32(index, at: 8))

        var found: Set<[UInt8]> = []
        var offset = 12
        for _ in 0 ..< count {
            // 40 bytes of stat data (mode at 24), the object id, 16 bits of flags, then the name.
            let fixed = 40 + sha1Length + 2
            guard offset + fixed <= end else { return nil }
            let mode = bigEndian32(index, at: offset + 24)
            let flags = bigEndian16(index, at: offset + fixed - 2)
            var nameStart = offset + fixed
            var extendedFlags: UInt16 = 0
            if flags & 0x4000 != 0 {
                // The extended flag exists from version 3 on.
                guard version == 3, nameStart + 2 <= end else { return nil }
                extendedFlags = bigEndian16(index, at: nameStart)
                nameStart += 2
            }
            guard let nul = index[nameStart ..< end].firstIndex(of: 0) else { return nil }
            let nameLength = nul - nameStart
            // The low 12 bits hold the name length, or 0xFFF for a longer name.
            guard Int(flags & 0x0FFF) == min(nameLength, 0xFFF) else { return nil }
            // Padded with 1 to 8 NUL bytes to a multiple of 8 bytes from the entry's start.
            let entryEnd = offset + ((nameStart - offset + nameLength + 8) & ~7)
            guard entryEnd <= end, index[nul ..< entryEnd].allSatisfy({ $0 == 0 }) else { return nil }

            let stage = (flags >> 12) & 0x3
            let assumeValid = flags & 0x8000 != 0
            let skipWorktreeOrIntentToAdd = extendedFlags & 0x6000 != 0
            let regularFile = mode == 0o100644 || mode == 0o100755
            if stage == 0 && !assumeValid && !skipWorktreeOrIntentToAdd && regularFile {
                let name = Array(index[nameStart ..< nul])
                if paths.contains(name) { found.insert(name) }
            }
            offset = entryEnd
        }
        return found
    }

    private static func bigEndian32(_ bytes: [UInt8], at offset: Int) -> UInt32 {
        UInt32(bytes[offset]) << 24 | UInt32(bytes[offset + 1]) << 16 | UInt32(bytes[offset + 2]) << 8 | UInt32(bytes[offset + 3])
    }

    private static func bigEndian16(_ bytes: [UInt8], at offset: Int) -> UInt16 {
        UInt16(bytes[offset]) << 8 | UInt16(bytes[offset + 1])
    }
}
