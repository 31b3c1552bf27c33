import Base
import Dispatch
import Foundation
import Glibc
import Synchronization

/// The only way the dependency fetch box reaches the network: an HTTP proxy on a unix socket, run by
/// the engine's own script in a box of its own that has the host's network and sees nothing else.
///
/// The fetch box has no network at all; pip there talks to `127.0.0.1:PORT` inside the box, which
/// the fetch script forwards to this socket. The guard opens a connection only to a host named by the
/// sysadmin's index settings (`PIP_INDEX_URL`, `PIP_EXTRA_INDEX_URL`, `/etc/pip.conf`) or to one whose
/// every address is neither loopback, link-local, unspecified, multicast nor one of this machine's own:
/// the fetch box can never reach a service on the host (the API, the database, anything on
/// 127.0.0.1), whatever it asks for. It pins the address it checked (no second lookup to rebind).
final class IndexGuard: Sendable {
    /// The folder holding the socket (shown read-only to the fetch box at `shownAt`), and the socket's
    /// path as the fetch box sees it.
    let folder: String
    static let shownAt = "/run/masterplan-guard"
    let socketPath = IndexGuard.shownAt + "/index.sock"
    private let listener: Int32
    private let done = DispatchSemaphore(value: 0)
    private let result = Mutex<SandboxResult?>(nil)

    /// Makes the socket in `folder` (new, the executor's) and starts the guard's box on a thread.
    init(sandbox: Sandbox, python: String, folder: String, empty: String, environment: [String: String]) throws(SandboxError) {
        self.folder = folder
        // A unix socket's path has at most 107 bytes and a workspace's is long: bind through the folder's
        // descriptor (`/proc/self/fd/N/index.sock`), and show the folder at a short path in the box.
        let folderFD = open(folder, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        guard folderFD >= 0 else { throw SandboxError(kind: .invalidConfiguration, message: "cannot open \(folder)") }
        defer { close(folderFD) }
        let hostPath = "/proc/self/fd/\(folderFD)/index.sock"
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw SandboxError(kind: .invalidConfiguration, message: "cannot make the index guard's socket") }
        let bound = UnixSocketAddress.bind(fd, to: hostPath)
        if !bound && errno == ENAMETOOLONG {
            close(fd)
            throw SandboxError(kind: .invalidConfiguration, message: "the index guard's socket path \(hostPath) is too long")
        }
        // Numbered 10 or above, so that a spawned child's file actions (0–6) never clobber it first.
        let high = fcntl(fd, F_DUPFD_CLOEXEC, 10)
        close(fd)
        guard bound, high >= 0, listen(high, 64) == 0 else {
            if high >= 0 { close(high) }
            throw SandboxError(kind: .invalidConfiguration, message: "cannot listen in \(folder): \(String(cString: strerror(errno)))")
        }
        // The fetch box's user must connect; the folder is the executor's, shown only to that box.
        fchmodat(folderFD, "index.sock", 0o666, 0)
        listener = high
        let arguments = ["-I", "-S", "-c", Self.script]
        let guardEnvironment = environment.filter { PythonDependencyInstall.passedVariables.contains($0.key) }
        // A thread of its own: the box blocks until the guard stops, and must not hold a pool's slot.
        Thread.detachNewThread { [self] in
            let outcome = sandbox.run(python, arguments, in: .readOnly(empty), limits: Self.limits,
                                      environment: guardEnvironment, listener: high)
            result.withLock { $0 = outcome }
            done.signal()
        }
    }

    /// The guard's box: the host's network, the fetch's time, little else.
    static let limits = SandboxLimits(timeout: PythonDependencyInstall.fetchLimits.timeout + .seconds(30), memoryBytes: 512 << 20,
                                      outputBytes: 16 << 10, network: true, processes: 64, fileBytes: 1 << 20, tmpBytes: 1 << 20)

    /// Stops the guard (its accept fails once the socket is shut down) and returns what it printed.
    func stop() -> String {
        shutdown(listener, Int32(SHUT_RDWR))
        if done.wait(timeout: .now() + 10) == .timedOut {
            return "the index guard did not stop"
        }
        close(listener)
        return result.withLock { $0?.outputWithNotice ?? "" }
    }

    /// Python copying one socket's bytes to another until the end, then ending the other's sending side
    /// (`pump(source, target)`); the guard and the fetch box's forwarder both use it.
    static let pythonPump = """

        def pump(source, target):
            try:
                while True:
                    data = source.recv(65536)
                    if not data:
                        break
                    target.sendall(data)
            except OSError:
                pass
            finally:
                try:
                    target.shutdown(socket.SHUT_WR)
                except OSError:
                    pass

        """

    /// The guard, run as `python3 -I -S -c`; it accepts on descriptor 6 until that socket is shut down.
    static let script = """
        import configparser, ipaddress, json, os, socket, struct, sys, threading, urllib.parse
        """ + pythonPump + """

        def index_hosts():
            urls = []
            for name in ("PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL"):
                urls += os.environ.get(name, "").split()
            for path in ("/etc/pip.conf", "/etc/xdg/pip/pip.conf"):
                parser = configparser.ConfigParser()
                try:
                    parser.read(path)
                except Exception:
                    continue
                for section in ("global", "download"):
                    for key in ("index-url", "extra-index-url"):
                        urls += parser.get(section, key, fallback="").split()
            hosts = set()
            for url in urls:
                parts = urllib.parse.urlsplit(url)
                if parts.hostname:
                    hosts.add((parts.hostname.lower(), parts.port or (443 if parts.scheme == "https" else 80)))
            return hosts

        def own_addresses():
            found = set()
            try:
                import fcntl
                probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                for _, name in socket.if_nameindex():
                    try:
                        packed = fcntl.ioctl(probe.fileno(), 0x8915, struct.pack("256s", name.encode()[:15]))
                        found.add(ipaddress.ip_address(packed[20:24]))
                    except OSError:
                        pass
            except Exception:
                pass
            try:
                with open("/proc/net/if_inet6") as table:
                    for line in table:
                        found.add(ipaddress.ip_address(bytes.fromhex(line.split()[0])))
            except OSError:
                pass
            return found

        INDEX = index_hosts()
        OWN = own_addresses()

        def forbidden(address):
            if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
                address = address.ipv4_mapped
            return (address.is_loopback or address.is_link_local or address.is_unspecified or address.is_multicast
                    or address in OWN)

        class Refused(Exception):
            pass

        def open_remote(host, port):
            host = host.lower().strip("[]")
            if (host, port) in INDEX:
                return socket.create_connection((host, port), timeout=30)
            if port not in (80, 443):
                raise Refused(f"port {port} of {host} is not an index's")
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
            addresses = [ipaddress.ip_address(info[4][0].split("%")[0]) for info in infos]
            if not addresses or any(forbidden(a) for a in addresses):
                raise Refused(f"{host} resolves to an address of this machine or its loopback")
            family, kind, proto, _, where = infos[0]
            remote = socket.socket(family, kind, proto)
            remote.settimeout(30)
            remote.connect(where)
            return remote

        def handle(client):
            remote = None
            try:
                data = b""
                while b"\\r\\n\\r\\n" not in data:
                    chunk = client.recv(4096)
                    if not chunk or len(data) > 65536:
                        return
                    data += chunk
                head, rest = data.split(b"\\r\\n\\r\\n", 1)
                lines = head.decode("latin-1").split("\\r\\n")
                method, target, version = lines[0].split(" ", 2)
                if method == "CONNECT":
                    host, _, port = target.rpartition(":")
                    remote = open_remote(host, int(port))
                    client.sendall(b"HTTP/1.1 200 Connection established\\r\\n\\r\\n")
                else:
                    parts = urllib.parse.urlsplit(target)
                    if parts.scheme != "http" or not parts.hostname:
                        raise Refused("only http:// URLs and CONNECT")
                    remote = open_remote(parts.hostname, parts.port or 80)
                    path = (parts.path or "/") + ("?" + parts.query if parts.query else "")
                    headers = [line for line in lines[1:] if not line.lower().startswith(("proxy-", "connection:"))]
                    request = f"{method} {path} {version}\\r\\n" + "\\r\\n".join(headers + ["Connection: close"]) + "\\r\\n\\r\\n"
                    remote.sendall(request.encode("latin-1"))
                if rest:
                    remote.sendall(rest)
                threading.Thread(target=pump, args=(remote, client), daemon=True).start()
                pump(client, remote)
            except (Refused, ValueError, OSError) as error:
                print("refused:", error, flush=True)
                try:
                    message = str(error).encode()
                    client.sendall(b"HTTP/1.1 403 Forbidden\\r\\nContent-Type: text/plain\\r\\nConnection: close\\r\\nContent-Length: "
                                   + str(len(message)).encode() + b"\\r\\n\\r\\n" + message)
                except OSError:
                    pass

        listener = socket.socket(fileno=6)
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                break
            threading.Thread(target=handle, args=(client,), daemon=True).start()
        """
}
