import Glibc

/// A classic-BPF seccomp program for bwrap's `--seccomp FD` that refuses, with `EPERM`, the system calls
/// generated code never needs.
///
/// The box already runs as an unprivileged user without capabilities (`Sandbox`), so most of these calls
/// would fail anyway; the filter is the second lock. It shrinks the kernel surface a program can reach
/// (bpf, io_uring, userfaultfd, perf, keyrings), stops it from reading or steering other processes
/// (ptrace, process_vm_*), and from reshaping the box bwrap built (mount, namespaces), should a kernel
/// bug or a misconfiguration hand it a capability.
///
/// Refused calls return `EPERM` (`SECCOMP_RET_ERRNO | EPERM`) so programs see an ordinary, clear error
/// rather than dying; everything else is allowed. `personality` stays allowed: tools use it (setarch,
/// some test runners switch off address randomisation with it). Argument checks (`clone` with namespace
/// flags) are left to the box itself: `clone3` passes its flags in memory a filter cannot read, and the
/// box's `--disable-userns` already forbids new user namespaces.
///
/// The program checks the architecture first. A call made through any ABI other than the native one is
/// killed (`SECCOMP_RET_KILL_PROCESS`): its numbers are another table, so the list below would not
/// apply. On x86_64 that closes the i386 `int 0x80` path, and every x32 call (number with
/// `__X32_SYSCALL_BIT`) is refused with `EPERM`.
///
/// Only x86_64 and aarch64 have tables. On any other architecture `init()` throws: the box must then
/// refuse to run rather than run unfiltered.
public struct SeccompFilter: Sendable, Hashable {
    /// A processor architecture with a system call table here.
    public enum Architecture: String, Sendable, Hashable, CaseIterable {
        case x86_64
        case aarch64

        /// The `AUDIT_ARCH_*` value the kernel reports in `seccomp_data.arch` (linux/audit.h).
        public var auditArch: UInt32 {
            switch self {
            case .x86_64: 0xC000_003E   // EM_X86_64 | __AUDIT_ARCH_64BIT | __AUDIT_ARCH_LE
            case .aarch64: 0xC000_00B7  // EM_AARCH64 | __AUDIT_ARCH_64BIT | __AUDIT_ARCH_LE
            }
        }

        /// The architecture this program was compiled for, or nil when it has no table here.
        public static var native: Architecture? {
            #if arch(x86_64)
            .x86_64
            #elseif arch(arm64)
            .aarch64
            #else
            nil
            #endif
        }
    }

    /// One refused system call on one architecture.
    public struct RefusedCall: Sendable, Hashable {
        public var name: String
        public var number: UInt32
        /// Why generated code must not make it.
        public var reason: String
    }

    /// One classic BPF instruction, laid out as the kernel's `struct sock_filter`.
    public struct Instruction: Sendable, Hashable {
        public var code: UInt16
        public var jt: UInt8
        public var jf: UInt8
        public var k: UInt32

        public init(code: UInt16, jt: UInt8, jf: UInt8, k: UInt32) {
            self.code = code
            self.jt = jt
            self.jf = jf
            self.k = k
        }
    }

    /// The value a refused call returns with: errno `EPERM`.
    public static let refuse: UInt32 = 0x0005_0000 | UInt32(EPERM)  // SECCOMP_RET_ERRNO | EPERM
    /// The value a permitted call returns with.
    public static let allow: UInt32 = 0x7FFF_0000  // SECCOMP_RET_ALLOW
    /// The value a call through a foreign ABI returns with: the whole process is killed.
    public static let killProcess: UInt32 = 0x8000_0000  // SECCOMP_RET_KILL_PROCESS

    public let architecture: Architecture
    /// The calls refused on `architecture`, in ascending number order.
    public let refusedCalls: [RefusedCall]

    /// The filter for the architecture this program runs on; throws when there is no table for it.
    public init() throws(SandboxError) {
        guard let native = Architecture.native else {
            throw SandboxError(kind: .unsupportedArchitecture,
                               message: "the seccomp filter has system call tables for x86_64 and aarch64 only, not this machine's "
                                   + "architecture; the sandbox will not run code unfiltered")
        }
        self.init(architecture: native)
    }

    /// The filter for `architecture` (a filter for another architecture than the host's kills every call).
    public init(architecture: Architecture) {
        self.architecture = architecture
        refusedCalls = Self.table.compactMap { entry in
            let number = switch architecture {
            case .x86_64: entry.x86_64
            case .aarch64: entry.aarch64
            }
            return number.map { RefusedCall(name: entry.name, number: $0, reason: entry.reason) }
        }.sorted { $0.number < $1.number }
        precondition(Set(refusedCalls.map(\.number)).count == refusedCalls.count, "a system call number is listed twice")
    }

    /// The program: check the architecture, refuse x32 calls (x86_64), compare the number with each
    /// refused call, allow the rest.
    public func instructions() -> [Instruction] {
        // Offsets in struct seccomp_data (linux/seccomp.h): int nr, then __u32 arch.
        let numberOffset: UInt32 = 0
        let archOffset: UInt32 = 4
        var program: [Instruction] = [
            .load(archOffset),
            .jumpIfEqual(architecture.auditArch, jt: 1, jf: 0),
            .ret(Self.killProcess),
            .load(numberOffset),
        ]
        // Each conditional jump goes to the shared `refuse` return at the end; its offset is patched in
        // below, once the length is known (jt counts instructions after the jump itself).
        var refusingJumps: [Int] = []
        if architecture == .x86_64 {
            // __X32_SYSCALL_BIT (asm/unistd.h): x32 calls share the x86_64 audit arch but use their own
            // numbers, so none of them may pass; this also covers every number at or above the bit.
            refusingJumps.append(program.count)
            program.append(.jumpIfGreaterOrEqual(0x4000_0000, jt: 0, jf: 0))
        }
        for call in refusedCalls {
            refusingJumps.append(program.count)
            program.append(.jumpIfEqual(call.number, jt: 0, jf: 0))
        }
        program.append(.ret(Self.allow))
        let refuseIndex = program.count
        program.append(.ret(Self.refuse))
        for index in refusingJumps {
            let offset = refuseIndex - (index + 1)
            // A conditional jump reaches at most 255 instructions ahead; the tables are far shorter.
            precondition(offset <= Int(UInt8.max), "the refused-call table is too long for one jump")
            program[index].jt = UInt8(offset)
        }
        return program
    }

    /// The program as bwrap reads it from `--seccomp FD`: 8 bytes per instruction (u16 code, u8 jt,
    /// u8 jf, u32 k) in the host's byte order.
    public func bytes() -> [UInt8] {
        let program = instructions()
        var bytes: [UInt8] = []
        bytes.reserveCapacity(program.count * 8)
        for instruction in program {
            withUnsafeBytes(of: instruction.code) { bytes.append(contentsOf: $0) }
            bytes.append(instruction.jt)
            bytes.append(instruction.jf)
            withUnsafeBytes(of: instruction.k) { bytes.append(contentsOf: $0) }
        }
        return bytes
    }

    /// A refused call with its number on each architecture (nil where the architecture lacks it).
    struct Entry {
        var name: String
        var x86_64: UInt32?
        var aarch64: UInt32?
        var reason: String

        init(_ name: String, x86_64: UInt32?, aarch64: UInt32?, _ reason: String) {
            self.name = name
            self.x86_64 = x86_64
            self.aarch64 = aarch64
            self.reason = reason
        }
    }

    /// Every refused call. Numbers come from the kernel's tables: x86_64 from asm/unistd_64.h
    /// (arch/x86/entry/syscalls/syscall_64.tbl), aarch64 from the generic asm-generic/unistd.h;
    /// SeccompFilterTests checks them against the headers installed on the machine.
    static let table: [Entry] = [
        // Other processes.
        Entry("ptrace", x86_64: 101, aarch64: 117, "reads and writes another process's memory and registers"),
        Entry("process_vm_readv", x86_64: 310, aarch64: 270, "reads another process's memory"),
        Entry("process_vm_writev", x86_64: 311, aarch64: 271, "writes another process's memory"),
        Entry("kcmp", x86_64: 312, aarch64: 272, "compares kernel objects of two processes, a leak of kernel layout"),
        Entry("pidfd_getfd", x86_64: 438, aarch64: 438, "takes a copy of another process's file descriptor"),

        // The file system view bwrap built (read-only system, hidden folders, one workspace).
        Entry("mount", x86_64: 165, aarch64: 40, "changes the mounts the box is made of"),
        Entry("umount2", x86_64: 166, aarch64: 39, "uncovers what a hidden folder's mount covers"),
        Entry("pivot_root", x86_64: 155, aarch64: 41, "replaces the box's root"),
        Entry("chroot", x86_64: 161, aarch64: 51, "replaces the root folder; with a folder kept open, a way out of it"),
        Entry("open_tree", x86_64: 428, aarch64: 428, "new mount API: copies a mount tree"),
        Entry("move_mount", x86_64: 429, aarch64: 429, "new mount API: attaches a mount"),
        Entry("fsopen", x86_64: 430, aarch64: 430, "new mount API: creates a file system"),
        Entry("fsconfig", x86_64: 431, aarch64: 431, "new mount API: configures a file system"),
        Entry("fsmount", x86_64: 432, aarch64: 432, "new mount API: makes a mount"),
        Entry("fspick", x86_64: 433, aarch64: 433, "new mount API: reconfigures a mounted file system"),
        Entry("mount_setattr", x86_64: 442, aarch64: 442, "changes mount flags (read-only) of a tree"),
        Entry("open_by_handle_at", x86_64: 304, aarch64: 265, "opens a file by handle, past the box's paths and hidden folders"),
        Entry("name_to_handle_at", x86_64: 303, aarch64: 264, "makes the handles open_by_handle_at uses"),
        Entry("fanotify_init", x86_64: 300, aarch64: 262, "watches file access on whole file systems, beyond the box"),
        Entry("quotactl", x86_64: 179, aarch64: 60, "manages the host's disk quotas"),
        Entry("quotactl_fd", x86_64: 443, aarch64: 443, "manages the host's disk quotas"),

        // Namespaces: the box's are bwrap's to make.
        Entry("setns", x86_64: 308, aarch64: 268, "enters another namespace"),
        Entry("unshare", x86_64: 272, aarch64: 97, "makes new namespaces, reshaping the box and reopening privileged kernel paths"),

        // The machine and its kernel.
        Entry("swapon", x86_64: 167, aarch64: 224, "changes the host's swap"),
        Entry("swapoff", x86_64: 168, aarch64: 225, "changes the host's swap"),
        Entry("reboot", x86_64: 169, aarch64: 142, "restarts or halts the machine"),
        Entry("kexec_load", x86_64: 246, aarch64: 104, "loads a new kernel to boot into"),
        Entry("kexec_file_load", x86_64: 320, aarch64: 294, "loads a new kernel to boot into"),
        Entry("init_module", x86_64: 175, aarch64: 105, "loads code into the kernel"),
        Entry("finit_module", x86_64: 313, aarch64: 273, "loads code into the kernel"),
        Entry("delete_module", x86_64: 176, aarch64: 106, "unloads kernel code"),
        Entry("acct", x86_64: 163, aarch64: 89, "switches the host's process accounting"),
        Entry("syslog", x86_64: 103, aarch64: 116, "reads the kernel log (kernel addresses, other programs' messages)"),
        Entry("settimeofday", x86_64: 164, aarch64: 170, "sets the host's clock, which is not namespaced"),
        Entry("clock_settime", x86_64: 227, aarch64: 112, "sets the host's clock"),
        Entry("clock_adjtime", x86_64: 305, aarch64: 266, "adjusts the host's clock"),
        Entry("adjtimex", x86_64: 159, aarch64: 171, "adjusts the host's clock"),
        Entry("vhangup", x86_64: 153, aarch64: 58, "hangs up the terminal"),
        Entry("iopl", x86_64: 172, aarch64: nil, "raw access to every I/O port"),
        Entry("ioperm", x86_64: 173, aarch64: nil, "raw access to I/O ports"),
        Entry("modify_ldt", x86_64: 154, aarch64: nil, "installs segment descriptors for 16-bit code, a path with a history of kernel bugs"),

        // Large kernel interfaces generated code has no use for: each is attack surface.
        Entry("bpf", x86_64: 321, aarch64: 280, "loads programs into the kernel"),
        Entry("perf_event_open", x86_64: 298, aarch64: 241, "performance counters: kernel surface and side channels on other programs"),
        Entry("userfaultfd", x86_64: 323, aarch64: 282, "holds page faults at will, which widens kernel race windows"),
        Entry("io_uring_setup", x86_64: 425, aarch64: 425, "io_uring does I/O this filter never sees, and is large kernel surface"),
        Entry("io_uring_enter", x86_64: 426, aarch64: 426, "io_uring does I/O this filter never sees, and is large kernel surface"),
        Entry("io_uring_register", x86_64: 427, aarch64: 427, "io_uring does I/O this filter never sees, and is large kernel surface"),
        Entry("keyctl", x86_64: 250, aarch64: 219, "the kernel keyrings are not namespaced: keys are shared across boxes"),
        Entry("add_key", x86_64: 248, aarch64: 217, "the kernel keyrings are not namespaced: keys are shared across boxes"),
        Entry("request_key", x86_64: 249, aarch64: 218, "the kernel keyrings are not namespaced: keys are shared across boxes"),

        // Obsolete calls nothing current makes.
        Entry("lookup_dcookie", x86_64: 212, aarch64: 18, "obsolete kernel-profiling path lookup"),
        Entry("uselib", x86_64: 134, aarch64: nil, "obsolete a.out library loading"),
        Entry("ustat", x86_64: 136, aarch64: nil, "obsolete file system statistics"),
        Entry("sysfs", x86_64: 139, aarch64: nil, "obsolete file system type listing"),
        Entry("nfsservctl", x86_64: 180, aarch64: 42, "removed NFS server control"),
    ]
}

extension SeccompFilter.Instruction {
    // Opcodes from linux/bpf_common.h: BPF_LD|BPF_W|BPF_ABS, BPF_JMP|BPF_JEQ|BPF_K,
    // BPF_JMP|BPF_JGE|BPF_K, BPF_RET|BPF_K.
    static let loadWordAbsolute: UInt16 = 0x20
    static let jumpEqualConstant: UInt16 = 0x15
    static let jumpGreaterOrEqualConstant: UInt16 = 0x35
    static let returnConstant: UInt16 = 0x06

    /// Loads the 32-bit word at `offset` of `struct seccomp_data` into the accumulator.
    static func load(_ offset: UInt32) -> Self { Self(code: loadWordAbsolute, jt: 0, jf: 0, k: offset) }

    static func jumpIfEqual(_ value: UInt32, jt: UInt8, jf: UInt8) -> Self {
        Self(code: jumpEqualConstant, jt: jt, jf: jf, k: value)
    }

    static func jumpIfGreaterOrEqual(_ value: UInt32, jt: UInt8, jf: UInt8) -> Self {
        Self(code: jumpGreaterOrEqualConstant, jt: jt, jf: jf, k: value)
    }

    static func ret(_ value: UInt32) -> Self { Self(code: returnConstant, jt: 0, jf: 0, k: value) }
}
