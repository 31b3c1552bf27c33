import Base
import Engine
import Foundation
import Testing
import TestSupport

/// The seccomp program, run through a small classic-BPF interpreter and then installed by the real bwrap.
@Suite(.dedicatedThreads) struct SeccompFilterTests {
    typealias Architecture = SeccompFilter.Architecture

    // Return values and audit arches written out from linux/seccomp.h and linux/audit.h, so a wrong
    // constant in the filter cannot agree with itself here.
    static let refused: UInt32 = 0x0005_0001  // SECCOMP_RET_ERRNO | EPERM
    static let allowed: UInt32 = 0x7FFF_0000  // SECCOMP_RET_ALLOW
    static let killed: UInt32 = 0x8000_0000   // SECCOMP_RET_KILL_PROCESS
    static let auditArchX86_64: UInt32 = 0xC000_003E
    static let auditArchAArch64: UInt32 = 0xC000_00B7
    static let auditArchI386: UInt32 = 0x4000_0003
    static let auditArchARM: UInt32 = 0x4000_0028
    static let auditArchRISCV64: UInt32 = 0xC000_00F3

    /// The calls the box must refuse, with the architectures that have them.
    static let mustRefuse = [
        "ptrace", "process_vm_readv", "process_vm_writev", "mount", "umount2", "pivot_root", "chroot", "move_mount",
        "open_tree", "fsopen", "fsconfig", "fsmount", "fspick", "mount_setattr", "swapon", "swapoff", "reboot",
        "kexec_load", "kexec_file_load", "init_module", "finit_module", "delete_module", "bpf", "keyctl", "add_key",
        "request_key", "perf_event_open", "userfaultfd", "acct", "quotactl", "quotactl_fd", "setns", "unshare",
        "open_by_handle_at", "name_to_handle_at", "lookup_dcookie", "syslog", "settimeofday", "clock_settime",
        "clock_adjtime", "adjtimex", "fanotify_init", "pidfd_getfd", "io_uring_setup", "io_uring_enter",
        "io_uring_register", "kcmp", "vhangup", "nfsservctl",
    ]
    static let mustRefuseOnX86_64Only = ["iopl", "ioperm", "uselib", "ustat", "sysfs"]

    /// Calls a Python program running pytest makes, with their numbers (x86_64, aarch64) from the
    /// kernel's tables; `numbersMatchTheKernelHeaders` checks them too.
    static let everyday: [(name: String, x86_64: UInt32, aarch64: UInt32)] = [
        ("read", 0, 63), ("write", 1, 64), ("openat", 257, 56), ("close", 3, 57), ("mmap", 9, 222),
        ("mprotect", 10, 226), ("munmap", 11, 215), ("brk", 12, 214), ("clone", 56, 220), ("clone3", 435, 435),
        ("execve", 59, 221), ("wait4", 61, 260), ("futex", 202, 98), ("socket", 41, 198), ("connect", 42, 203),
        ("getrandom", 318, 278), ("personality", 135, 92), ("prlimit64", 302, 261), ("rt_sigaction", 13, 134),
        ("rt_sigprocmask", 14, 135), ("ioctl", 16, 29), ("fcntl", 72, 25), ("newfstatat", 262, 79),
        ("getdents64", 217, 61), ("pipe2", 293, 59), ("dup3", 292, 24), ("getpid", 39, 172), ("kill", 62, 129),
        ("exit", 60, 93), ("exit_group", 231, 94), ("seccomp", 317, 277), ("prctl", 157, 167),
        ("set_robust_list", 273, 99), ("rseq", 334, 293), ("memfd_create", 319, 279), ("statx", 332, 291),
    ]

    // MARK: The program, interpreted

    @Test(arguments: Architecture.allCases)
    func everyRefusedCallGivesEPERM(_ architecture: Architecture) throws {
        let filter = SeccompFilter(architecture: architecture)
        #expect(filter.refusedCalls.count >= Self.mustRefuse.count)
        for call in filter.refusedCalls {
            let result = try BPF.run(filter.instructions(), arch: architecture.auditArch, nr: call.number)
            #expect(result == Self.refused, "\(call.name) (\(call.number)) on \(architecture)")
        }
    }

    @Test(arguments: Architecture.allCases)
    func theListedCallsAreRefusedAndPersonalityIsNot(_ architecture: Architecture) {
        let names = Set(SeccompFilter(architecture: architecture).refusedCalls.map(\.name))
        for name in Self.mustRefuse { #expect(names.contains(name), "\(name) on \(architecture)") }
        for name in Self.mustRefuseOnX86_64Only {
            #expect(names.contains(name) == (architecture == .x86_64), "\(name) on \(architecture)")
        }
        #expect(!names.contains("personality"))
        #expect(SeccompFilter(architecture: architecture).refusedCalls.allSatisfy { !$0.reason.isEmpty })
    }

    @Test(arguments: Architecture.allCases)
    func everydayCallsAreAllowed(_ architecture: Architecture) throws {
        let filter = SeccompFilter(architecture: architecture)
        for call in Self.everyday {
            let number = architecture == .x86_64 ? call.x86_64 : call.aarch64
            let result = try BPF.run(filter.instructions(), arch: architecture.auditArch, nr: number)
            #expect(result == Self.allowed, "\(call.name) (\(number)) on \(architecture)")
        }
    }

    /// x32 numbers (read, write, getpid, ptrace, mount, bpf, x32's own 512 and 547, the largest) and any
    /// number above them, such as -1.
    @Test(arguments: [0, 1, 39, 101, 165, 321, 512, 547, 0x3FFF_FFFF, 0xFFFF_FFFF] as [UInt32])
    func x32CallsAreRefused(_ number: UInt32) throws {
        let program = SeccompFilter(architecture: .x86_64).instructions()
        let x32 = number | 0x4000_0000  // __X32_SYSCALL_BIT
        #expect(try BPF.run(program, arch: Self.auditArchX86_64, nr: x32) == Self.refused)
    }

    @Test(arguments: Architecture.allCases)
    func aForeignArchitectureKillsTheProcess(_ architecture: Architecture) throws {
        let program = SeccompFilter(architecture: architecture).instructions()
        #expect(architecture.auditArch == (architecture == .x86_64 ? Self.auditArchX86_64 : Self.auditArchAArch64))
        let foreign = [Self.auditArchX86_64, Self.auditArchAArch64, Self.auditArchI386, Self.auditArchARM,
                       Self.auditArchRISCV64, 0].filter { $0 != architecture.auditArch }
        for arch in foreign {
            // Numbers that are allowed, refused and x32 natively: none of them matters on another ABI.
            for number: UInt32 in [0, 1, 20, 39, 101, 117, 0x4000_0027] {
                #expect(try BPF.run(program, arch: arch, nr: number) == Self.killed,
                        "arch \(String(arch, radix: 16)) nr \(number)")
            }
        }
    }

    @Test(arguments: Architecture.allCases)
    func numbersMatchTheKernelHeaders(_ architecture: Architecture) throws {
        let header = try #require(KernelHeader.numbers(for: architecture),
                                  "the kernel headers are missing: \(KernelHeader.path(for: architecture)) (linux-libc-dev)")
        let filter = SeccompFilter(architecture: architecture)
        for call in filter.refusedCalls {
            #expect(header[call.name] == call.number, "\(call.name) on \(architecture): \(call.number), header \(header[call.name].map(String.init) ?? "none")")
        }
        // A call the table leaves out on this architecture must really be absent from it.
        for name in Self.mustRefuseOnX86_64Only where !filter.refusedCalls.contains(where: { $0.name == name }) {
            #expect(header[name] == nil, "\(name) exists on \(architecture)")
        }
        for call in Self.everyday {
            #expect(header[call.name] == (architecture == .x86_64 ? call.x86_64 : call.aarch64), "\(call.name) on \(architecture)")
        }
    }

    @Test(arguments: Architecture.allCases)
    func theProgramIsOneTheKernelAccepts(_ architecture: Architecture) {
        let program = SeccompFilter(architecture: architecture).instructions()
        #expect(program.count < 4096)  // BPF_MAXINSNS
        #expect(program.last?.code == BPF.ret)
        for (index, instruction) in program.enumerated() {
            switch instruction.code {
            case BPF.loadWord:
                // seccomp_check_filter: aligned loads inside struct seccomp_data (64 bytes).
                #expect(instruction.k % 4 == 0 && instruction.k < 64, "load at \(index)")
            case BPF.jumpEqual, BPF.jumpGreaterOrEqual:
                #expect(index + 1 + Int(instruction.jt) < program.count, "jt at \(index) jumps past the end")
                #expect(index + 1 + Int(instruction.jf) < program.count, "jf at \(index) jumps past the end")
            case BPF.jumpAlways:
                #expect(index + 1 + Int(instruction.k) < program.count, "ja at \(index) jumps past the end")
            case BPF.ret:
                break
            default:
                Issue.record("unexpected opcode \(instruction.code) at \(index)")
            }
        }
        // The architecture is checked before anything else is read.
        #expect(program.first == SeccompFilter.Instruction(code: BPF.loadWord, jt: 0, jf: 0, k: 4))
    }

    @Test(arguments: Architecture.allCases)
    func theBytesAreEightPerInstructionInHostOrder(_ architecture: Architecture) {
        let filter = SeccompFilter(architecture: architecture)
        let instructions = filter.instructions()
        let bytes = filter.bytes()
        #expect(bytes.count == instructions.count * 8)
        let decoded = bytes.withUnsafeBytes { raw in
            (0..<instructions.count).map { index in
                SeccompFilter.Instruction(code: raw.loadUnaligned(fromByteOffset: index * 8, as: UInt16.self),
                                          jt: raw[index * 8 + 2], jf: raw[index * 8 + 3],
                                          k: raw.loadUnaligned(fromByteOffset: index * 8 + 4, as: UInt32.self))
            }
        }
        #expect(decoded == instructions)
        #if _endian(little)
        // BPF_LD|BPF_W|BPF_ABS of offset 4 (the arch), then JEQ arch with jt 1.
        let arch = architecture.auditArch
        #expect(Array(bytes.prefix(16)) == [0x20, 0x00, 0, 0, 4, 0, 0, 0,
                                            0x15, 0x00, 1, 0, UInt8(arch & 0xFF), UInt8(arch >> 8 & 0xFF), 0x00, 0xC0])
        #endif
    }

    @Test func theNativeFilterIsTheOneForThisMachine() throws {
        #if arch(x86_64) || arch(arm64)
        let filter = try SeccompFilter()
        #expect(filter.architecture == Architecture.native)
        #expect(filter.bytes() == SeccompFilter(architecture: filter.architecture).bytes())
        #else
        #expect(throws: SandboxError.self) { try SeccompFilter() }
        #endif
    }

    // MARK: The program under the real bwrap

    /// Probes whose result the kernel would not make `EPERM` without the filter (run as root without a
    /// user namespace, so with real capabilities), and which are harmless when the kernel does run them:
    /// they name nothing that exists, create nothing lasting and change nothing outside the process.
    static let probeScript = """
        import ctypes, json, os, socket, subprocess, sys, threading
        numbers = json.loads(sys.argv[1])
        libc = ctypes.CDLL(None, use_errno=True)
        libc.syscall.restype = ctypes.c_long
        L = ctypes.c_long
        calls = {}
        def probe(name, *args, number=None):
            ctypes.set_errno(0)
            result = libc.syscall(L(numbers[name] if number is None else number), *args)
            calls[name] = ctypes.get_errno() if result == -1 else 0
        probe("ptrace", L(2), L(os.getppid()), None, None)          # PTRACE_PEEKDATA of an untraced process
        probe("keyctl", L(0), L(-3), L(0))                           # the session keyring's id, not creating it
        probe("bpf", L(5), None, L(0))                               # BPF_PROG_LOAD without attributes
        probe("userfaultfd", L(0))
        probe("perf_event_open", None, L(0), L(-1), L(-1), L(0))     # no attributes
        probe("mount", None, b"/nonexistent-seccomp-probe", b"tmpfs", L(0), None)
        probe("unshare", L(0))                                       # no namespace asked for
        probe("setns", L(-1), L(0))
        probe("io_uring_setup", L(1), None)
        probe("delete_module", b"nonexistent_seccomp_probe", L(0))
        if "x32_getpid" in numbers:
            probe("x32_getpid")
        work = {}
        with open("/etc/os-release") as file:
            work["read"] = 0 if file.read() else 1
        work["true"] = subprocess.run(["/usr/bin/true"]).returncode
        left, right = socket.socketpair()
        left.sendall(b"x")
        work["socket"] = 0 if right.recv(1) == b"x" else 1
        thread = threading.Thread(target=lambda: None)
        thread.start()
        thread.join()
        work["thread"] = 0
        ctypes.set_errno(0)
        work["personality"] = 0 if libc.personality(L(0xFFFFFFFF)) != -1 else ctypes.get_errno()
        if "x32_getpid" in numbers:
            # i386 getpid through int 0x80 in a child: another ABI, so the filter kills it (SIGSYS).
            int80 = (
                "import ctypes, mmap\\n"
                "m = mmap.mmap(-1, 4096, prot=mmap.PROT_READ | mmap.PROT_WRITE | mmap.PROT_EXEC)\\n"
                "m.write(bytes([0xB8, 20, 0, 0, 0, 0xCD, 0x80, 0xC3]))\\n"  # mov eax, 20; int 0x80; ret
                "ctypes.CFUNCTYPE(ctypes.c_int)(ctypes.addressof(ctypes.c_char.from_buffer(m)))()\\n")
            work["int80"] = subprocess.run([sys.executable, "-c", int80]).returncode
        print(json.dumps({"calls": calls, "work": work}))
        """

    static let probedCalls = ["ptrace", "keyctl", "bpf", "userfaultfd", "perf_event_open", "mount", "unshare", "setns",
                              "io_uring_setup", "delete_module"]

    /// What the probe script printed.
    struct ProbeReport: Decodable {
        var calls: [String: Int32]
        var work: [String: Int32]
    }

    /// The namespaces bwrap makes.
    enum Isolation: String, CaseIterable {
        /// `--unshare-all`, as the box does (with a user namespace, so without host capabilities).
        case all
        /// Every namespace but the user one: root keeps its capabilities, so the kernel itself allows
        /// every probe and only the filter can refuse it.
        case allButUser

        var arguments: [String] {
            switch self {
            case .all: ["--unshare-all"]
            case .allButUser: ["--unshare-ipc", "--unshare-pid", "--unshare-net", "--unshare-uts", "--unshare-cgroup-try"]
            }
        }
    }

    /// Runs the probe script in bwrap, with the filter on descriptor 5 when `filter` is given.
    func probe(_ isolation: Isolation, filter: SeccompFilter?) throws -> ProbeReport {
        let native = try #require(Architecture.native)
        let header = try #require(KernelHeader.numbers(for: native))
        var numbers: [String: UInt32] = [:]
        for name in Self.probedCalls {
            let number = try #require(header[name], "\(name) is not in the kernel headers")
            numbers[name] = number
        }
        if native == .x86_64 { numbers["x32_getpid"] = 0x4000_0000 | 39 }
        let numbersJSON = String(decoding: try JSONEncoder().encode(numbers), as: UTF8.self)

        let folder = try TemporaryFolder("seccomp")
        defer { folder.remove() }
        let programFile = folder.sub("filter.bpf")
        try Data(filter?.bytes() ?? []).write(to: URL(fileURLWithPath: programFile))
        var bwrap = ["/usr/bin/bwrap"] + isolation.arguments + ["--die-with-parent", "--ro-bind", "/", "/"]
        if filter != nil { bwrap += ["--seccomp", "5"] }
        bwrap += ["--", "/usr/bin/python3", "-c", Self.probeScript, numbersJSON]

        // bash opens the program on descriptor 5 and becomes bwrap, which reads it from there.
        let outcome = try ChildProcess.run("/usr/bin/bash", ["-c", "exec 5<\"$1\"; shift; exec \"$@\"", "_", programFile] + bwrap,
                                           outputPath: folder.sub("probe.out"))
        let text = outcome.output
        try #require(outcome.status == 0, "bwrap or the probe failed: \(text)")
        let line = try #require(text.split(separator: "\n").last, "no output")
        return try JSONDecoder().decode(ProbeReport.self, from: Data(line.utf8))
    }

    /// The box's own command line (`--unshare-all`) with the filter: every probe is refused, work goes on.
    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/bwrap")))
    func bwrapInstallsTheFilterAndTheProbesGetEPERM() throws {
        let report = try probe(.all, filter: try SeccompFilter())
        for name in Self.probedCalls { #expect(report.calls[name] == EPERM, "\(name): errno \(report.calls[name] ?? -1)") }
        if Architecture.native == .x86_64 {
            #expect(report.calls["x32_getpid"] == EPERM)
            #expect(report.work["int80"] != 0, "an i386 call ran under the filter")
        }
        for name in ["read", "true", "socket", "thread", "personality"] {
            #expect(report.work[name] == 0, "\(name) failed: \(report.work[name] ?? -1)")
        }
    }

    /// As root without a user namespace the kernel lets every probe through (none gets EPERM); with the
    /// filter the same probes all get EPERM, and an i386 call kills the process.
    @Test(.enabled(if: getuid() == 0 && FileManager.default.isExecutableFile(atPath: "/usr/bin/bwrap")))
    func theRefusalsComeFromTheFilter() throws {
        let without = try probe(.allButUser, filter: nil)
        let with = try probe(.allButUser, filter: try SeccompFilter())
        for name in Self.probedCalls {
            #expect(without.calls[name] != nil && without.calls[name] != EPERM,
                    "\(name) gets EPERM even without the filter, so the probe proves nothing")
            #expect(with.calls[name] == EPERM, "\(name): errno \(with.calls[name] ?? -1)")
        }
        for name in ["read", "true", "socket", "thread", "personality"] {
            #expect(without.work[name] == 0 && with.work[name] == 0, "\(name): \(without.work) / \(with.work)")
        }
        if Architecture.native == .x86_64 {
            #expect(without.calls["x32_getpid"] != EPERM)
            #expect(with.calls["x32_getpid"] == EPERM)
            // Kernels without i386 emulation fail the call themselves; where it runs, the filter kills it.
            if without.work["int80"] == 0 {
                #expect(with.work["int80"] == -SIGSYS, "int 0x80: \(with.work["int80"] ?? 0)")
            }
        }
    }
}

/// A classic-BPF interpreter for the opcodes the filter uses, over a `struct seccomp_data` with only
/// `nr` (offset 0) and `arch` (offset 4) set.
fileprivate enum BPF {
    // linux/bpf_common.h
    static let loadWord: UInt16 = 0x20            // BPF_LD | BPF_W | BPF_ABS
    static let jumpAlways: UInt16 = 0x05          // BPF_JMP | BPF_JA
    static let jumpEqual: UInt16 = 0x15           // BPF_JMP | BPF_JEQ | BPF_K
    static let jumpGreaterOrEqual: UInt16 = 0x35  // BPF_JMP | BPF_JGE | BPF_K
    static let ret: UInt16 = 0x06                 // BPF_RET | BPF_K

    struct Fault: Error, CustomStringConvertible {
        var description: String
    }

    /// The value the program returns for a call `nr` made through the ABI `arch`.
    static func run(_ program: [SeccompFilter.Instruction], arch: UInt32, nr: UInt32) throws -> UInt32 {
        var accumulator: UInt32 = 0
        var pc = 0
        // Classic BPF jumps only forward, so every run ends; the guard catches a jump past the end.
        while true {
            guard pc < program.count else { throw Fault(description: "ran past the end (instruction \(pc))") }
            let instruction = program[pc]
            switch instruction.code {
            case loadWord:
                switch instruction.k {
                case 0: accumulator = nr
                case 4: accumulator = arch
                default: throw Fault(description: "load of offset \(instruction.k) at \(pc)")
                }
            case jumpAlways:
                pc += Int(instruction.k)
            case jumpEqual:
                pc += Int(accumulator == instruction.k ? instruction.jt : instruction.jf)
            case jumpGreaterOrEqual:
                pc += Int(accumulator >= instruction.k ? instruction.jt : instruction.jf)
            case ret:
                return instruction.k
            default:
                throw Fault(description: "opcode \(instruction.code) at \(pc)")
            }
            pc += 1
        }
    }
}

/// System call numbers read from the kernel headers installed on this machine (linux-libc-dev).
fileprivate enum KernelHeader {
    static func path(for architecture: SeccompFilter.Architecture) -> String {
        switch architecture {
        case .x86_64: "/usr/include/x86_64-linux-gnu/asm/unistd_64.h"
        // arm64's asm/unistd.h is the generic table.
        case .aarch64: "/usr/include/asm-generic/unistd.h"
        }
    }

    /// Every `#define __NR_name number` by name, with the generic table's `__NR3264_name` and its
    /// aliases (`#define __NR_newfstatat __NR3264_fstatat`).
    static func numbers(for architecture: SeccompFilter.Architecture) -> [String: UInt32]? {
        guard let text = try? String(contentsOfFile: path(for: architecture), encoding: .utf8) else { return nil }
        var byMacro: [Substring: UInt32] = [:]
        var aliases: [(Substring, Substring)] = []
        for line in text.split(separator: "\n") {
            let words = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            guard words.count >= 3, words[0] == "#define", words[1].hasPrefix("__NR") else { continue }
            if let number = UInt32(words[2]) {
                byMacro[words[1]] = number
            } else if words[2].hasPrefix("__NR") {
                aliases.append((words[1], words[2]))
            }
        }
        for (macro, target) in aliases { byMacro[macro] = byMacro[macro] ?? byMacro[target] }
        var numbers: [String: UInt32] = [:]
        for (macro, number) in byMacro {
            for prefix in ["__NR3264_", "__NR_"] where macro.hasPrefix(prefix) {
                numbers[String(macro.dropFirst(prefix.count))] = number
            }
        }
        return numbers
    }
}
