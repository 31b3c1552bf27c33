extension ContainmentProbe {
    /// Shared by every probe: the arguments (one JSON object in `argv[1]`), a self-imposed time limit
    /// (the install step's box allows ten minutes), and the report channel: JSON lines on descriptor 4,
    /// `{"progress": …}` while it works (what is left when the box kills it) and `{"result": …}` at the end.
    static let preamble = #"""
        import errno, json, os, signal, sys
        ARGS = json.loads(sys.argv[1])
        signal.alarm(ARGS.get("alarm", 20))
        def report(key, value):
            os.write(4, (json.dumps({key: value}, sort_keys=True) + "\n").encode())
        def why(error):
            code = getattr(error, "errno", None)
            if isinstance(code, int) and code > 0:
                return errno.errorcode.get(code, str(code))
            return type(error).__name__

        """#

    var body: String {
        switch self {
        case .readDataFolder, .readSecret, .readOtherWorkspace, .readShadow, .readHome, .readCheckout:
            Self.readBody
        case .connectDatabase, .connectStackSockets, .connectHostUnixSockets, .connectLoopbackTCP:
            Self.connectBody
        case .reachNetwork:
            Self.networkBody
        case .writeOutside:
            Self.writeBody
        case .escapeThroughLinks:
            Self.linksBody
        case .exhaustDisk, .exhaustTmp:
            Self.diskBody
        case .exhaustProcesses:
            Self.processesBody
        case .exhaustMemory:
            Self.memoryBody
        case .systemCalls:
            Self.systemCallsBody
        case .boxUser:
            Self.userBody
        }
    }

    /// Reads files (their SHA-256 and size, never their content) and lists folders.
    static let readBody = #"""
        import hashlib
        files, folders = {}, {}
        for path in ARGS.get("files", []):
            try:
                with open(path, "rb") as handle:
                    data = handle.read(1 << 20)
                files[path] = {"sha256": hashlib.sha256(data).hexdigest(), "size": len(data)}
            except OSError as error:
                files[path] = {"error": why(error)}
        for path in ARGS.get("folders", []):
            try:
                folders[path] = {"entries": sorted(os.listdir(path))[:200]}
            except OSError as error:
                folders[path] = {"error": why(error)}
        report("result", {"files": files, "folders": folders})
        """#

    /// Connects to unix sockets (by path or abstract name) and TCP ports.
    static let connectBody = #"""
        import socket
        reached, refused = [], {}
        for endpoint in ARGS["endpoints"]:
            label = endpoint["label"]
            try:
                if endpoint["kind"] == "tcp":
                    family = socket.AF_INET6 if ":" in endpoint["host"] else socket.AF_INET
                    client = socket.socket(family, socket.SOCK_STREAM)
                    address = (endpoint["host"], endpoint["port"])
                else:
                    client = socket.socket(socket.AF_UNIX, endpoint.get("type", socket.SOCK_STREAM))
                    address = endpoint["path"] if endpoint["kind"] == "unix" else "\0" + endpoint["path"]
                client.settimeout(2)
                try:
                    client.connect(address)
                finally:
                    client.close()
                reached.append(label)
            except OSError as error:
                refused[label] = why(error)
        report("result", {"reached": reached, "refused": refused})
        """#

    /// Connects to public addresses and resolves public names.
    static let networkBody = #"""
        import socket
        reached, refused = [], {}
        for host, port in ARGS["addresses"]:
            label = "%s:%d" % (host, port)
            try:
                socket.create_connection((host, port), timeout=3).close()
                reached.append(label)
            except OSError as error:
                refused[label] = why(error)
        for name in ARGS["names"]:
            label = "dns " + name
            try:
                socket.getaddrinfo(name, 443, proto=socket.IPPROTO_TCP)
                reached.append(label)
            except OSError as error:
                refused[label] = why(error) if isinstance(error.errno, int) and error.errno > 0 else "no answer"
        report("result", {"reached": reached, "refused": refused})
        """#

    /// Creates new files at the given paths.
    static let writeBody = #"""
        wrote, refused = [], {}
        for path in ARGS["paths"]:
            try:
                with open(path, "x") as handle:
                    handle.write("masterplan containment check\n")
                wrote.append(path)
            except OSError as error:
                refused[path] = why(error)
        report("result", {"wrote": wrote, "refused": refused})
        """#

    /// Writes through the links it finds (given by path), then makes links of its own to host folders
    /// (in the first of `folders` where it may) and writes through them.
    static let linksBody = #"""
        marker = ARGS["marker"]
        wrote, refused = [], {}
        def attempt(label, path):
            try:
                with open(path, "x") as handle:
                    handle.write("masterplan containment check\n")
                wrote.append(label)
            except OSError as error:
                refused[label] = why(error)
        for link in ARGS["links"]:
            attempt(link, os.path.join(link, marker))
        for index, target in enumerate(ARGS["targets"]):
            label = "own link to " + target
            made = None
            for folder in ARGS["folders"]:
                candidate = os.path.join(folder, "%s-link-%d" % (marker, index))
                try:
                    os.symlink(target, candidate)
                    made = candidate
                    break
                except OSError:
                    continue
            if made is None:
                refused[label] = "no link could be made"
            else:
                attempt(label, os.path.join(made, marker))
        report("result", {"wrote": wrote, "refused": refused})
        """#

    /// Grows files in a folder, 16 MiB at a time, until an error other than "file too large" (which
    /// only starts the next file) or the cap. `posix_fallocate` takes real blocks at once, as a hostile
    /// program would; plain writes where the file system cannot.
    static let diskBody = #"""
        cap, step = ARGS["cap"], 16 << 20
        written, index, stopped, method = 0, 0, None, "fallocate"
        zeros = b"\0" * (1 << 20)
        def grow(handle, size):
            global method
            if method == "fallocate":
                try:
                    os.posix_fallocate(handle, size, step)
                    return
                except OSError as error:
                    if error.errno not in (errno.EOPNOTSUPP, errno.ENOSYS, errno.EINVAL):
                        raise
                    method = "write"
            os.lseek(handle, size, os.SEEK_SET)
            for _ in range(step >> 20):
                os.write(handle, zeros)
        while stopped is None:
            path = os.path.join(ARGS["folder"], "%s-fill-%d" % (ARGS["marker"], index))
            index += 1
            try:
                handle = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
            except OSError as error:
                stopped = why(error)
                break
            size = 0
            try:
                while True:
                    if written >= cap:
                        stopped = "cap"
                        break
                    grow(handle, size)
                    size += step
                    written += step
                    report("progress", {"written": written})
            except OSError as error:
                if error.errno != errno.EFBIG:
                    stopped = why(error)
            finally:
                os.close(handle)
        report("result", {"written": written, "stopped": stopped, "files": index, "method": method})
        """#

    /// Forks children that exec `sleep MARKER` until fork fails or the cap; the box's end must take
    /// them all (the check looks for survivors on the host).
    static let processesBody = #"""
        started, stopped = 0, None
        while stopped is None:
            if started >= ARGS["cap"]:
                stopped = "cap"
                break
            try:
                pid = os.fork()
            except OSError as error:
                stopped = why(error)
                break
            if pid == 0:
                try:
                    null = os.open("/dev/null", os.O_RDWR)
                    for target in (0, 1, 2):
                        os.dup2(null, target)
                    os.closerange(3, 1024)
                    os.execv("/usr/bin/sleep", ["sleep", ARGS["sleep"]])
                finally:
                    os._exit(127)
            started += 1
        report("result", {"started": started, "stopped": stopped})
        """#

    /// Allocates memory 32 MiB at a time, each piece faulted in at once (`MAP_POPULATE`, else filled),
    /// until the allocation fails or the cap.
    static let memoryBody = #"""
        import mmap
        cap, step = ARGS["cap"], 32 << 20
        populate = getattr(mmap, "MAP_POPULATE", 0)
        held, allocated, stopped = [], 0, None
        while stopped is None:
            if allocated >= cap:
                stopped = "cap"
                break
            try:
                if populate:
                    held.append(mmap.mmap(-1, step, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS | populate))
                else:
                    held.append(b"\1" * step)
                allocated += step
                report("progress", {"allocated": allocated})
            except MemoryError:
                stopped = "MemoryError"
            except OSError as error:
                stopped = why(error)
        del held
        report("result", {"allocated": allocated, "stopped": stopped})
        """#

    /// Calls each system call through libc's `syscall()` with arguments that work for an ordinary
    /// unprivileged process where nothing forbids the call; "succeeded" or the errno's name.
    static let systemCallsBody = #"""
        import ctypes, platform
        numbers = {
            "x86_64": {"ptrace": 101, "mount": 165, "bpf": 321, "keyctl": 250, "perf_event_open": 298,
                       "userfaultfd": 323, "unshare": 272},
            "aarch64": {"ptrace": 117, "mount": 40, "bpf": 280, "keyctl": 219, "perf_event_open": 241,
                        "userfaultfd": 282, "unshare": 97},
        }
        table = numbers.get(platform.machine())
        if table is None:
            report("result", {"unknown_architecture": platform.machine()})
            sys.exit(0)
        libc = ctypes.CDLL(None, use_errno=True)
        libc.syscall.restype = ctypes.c_long
        L = ctypes.c_long
        results = {}
        def call(name, *arguments, returns_fd=False):
            ctypes.set_errno(0)
            value = libc.syscall(L(table[name]), *arguments)
            if value < 0:
                code = ctypes.get_errno()
                return errno.errorcode.get(code, str(code))
            if returns_fd:
                os.close(value)
            return "succeeded"
        # PTRACE_TRACEME
        results["ptrace"] = call("ptrace", L(0), L(0), L(0), L(0))
        # A tmpfs over the box's own /tmp: harmless if it works, which it must not.
        results["mount"] = call("mount", ctypes.c_char_p(b"none"), ctypes.c_char_p(b"/tmp"), ctypes.c_char_p(b"tmpfs"), L(0), ctypes.c_void_p(0))
        # BPF_MAP_CREATE of a one-entry array map.
        attributes = (ctypes.c_uint32 * 32)(2, 4, 4, 1)
        results["bpf"] = call("bpf", L(0), ctypes.byref(attributes), L(128), returns_fd=True)
        # KEYCTL_JOIN_SESSION_KEYRING with a new anonymous keyring.
        results["keyctl"] = call("keyctl", L(1), ctypes.c_void_p(0))
        # A user-space-only software counter on itself (what perf_event_paranoid 2 still allows).
        attributes = (ctypes.c_uint64 * 16)()
        attributes[0] = 1 | (64 << 32)
        attributes[6] = 1 | (1 << 5) | (1 << 6)
        results["perf_event_open"] = call("perf_event_open", ctypes.byref(attributes), L(0), L(-1), L(-1), L(0), returns_fd=True)
        # Plain, then UFFD_USER_MODE_ONLY (which unprivileged_userfaultfd 0 still allows).
        first = call("userfaultfd", L(os.O_CLOEXEC | os.O_NONBLOCK), returns_fd=True)
        results["userfaultfd"] = first if first == "succeeded" else call("userfaultfd", L(os.O_CLOEXEC | os.O_NONBLOCK | 1), returns_fd=True)
        # CLONE_NEWUSER
        results["unshare"] = call("unshare", L(0x10000000))
        report("result", {"results": results})
        """#

    /// Reports the box's ids and capabilities as it sees them, tries a root-only file, then stays a
    /// moment so that the check can read its ids from the host's side.
    static let userBody = #"""
        import hashlib, time
        status = {}
        with open("/proc/self/status") as handle:
            for line in handle:
                key, _, value = line.partition(":")
                if key in ("Uid", "Gid", "CapEff", "CapPrm", "CapBnd", "NoNewPrivs", "Seccomp"):
                    status[key] = value.split()
        secret = None
        if ARGS.get("root_only"):
            try:
                with open(ARGS["root_only"], "rb") as handle:
                    data = handle.read()
                secret = {"sha256": hashlib.sha256(data).hexdigest(), "size": len(data)}
            except OSError as error:
                secret = {"error": why(error)}
        report("progress", {"status": status})
        time.sleep(ARGS.get("linger", 0.5))
        report("result", {"status": status, "root_only": secret})
        """#
}
