import Foundation

/// A private nginx for end-to-end tests: its own prefix (config, logs, temp folders) in a folder of
/// the test, a loopback port the kernel picked, run in the foreground and stopped by its PID.
///
/// The caller gives the `http` block's content (upstreams, zones, `server`s); `{{PORT}}` in it is
/// replaced by the port. A missing nginx fails the test with the reason; it never skips.
public final class NginxProcess: Sendable {
    public static let candidates = ["/usr/sbin/nginx", "/usr/bin/nginx", "/usr/local/sbin/nginx"]

    public let prefix: String
    public let port: UInt16
    public let process: BackgroundProcess

    public static var executable: String? {
        candidates.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// Starts nginx with `http` as the body of its `http {}` block and waits until it accepts
    /// connections. `prefix` must be searchable by `nobody` (nginx's workers).
    public init(prefix: String, http: String, workerConnections: Int = 1024, workerProcesses: Int = 1) throws {
        guard let executable = Self.executable else {
            throw TestFailure("nginx is not installed (apt-get install nginx); the end-to-end tests need it")
        }
        self.prefix = prefix
        port = try LoopbackPort.free()
        let config = """
            daemon off;
            master_process on;
            worker_processes \(workerProcesses);
            worker_rlimit_nofile \(workerConnections * 2 + 64);
            user nobody nogroup;
            pid \(prefix)/nginx.pid;
            error_log \(prefix)/error.log warn;
            events { worker_connections \(workerConnections); }
            http {
                access_log off;
                default_type application/octet-stream;
                client_body_temp_path \(prefix)/tmp/body;
                fastcgi_temp_path \(prefix)/tmp/fastcgi;
                proxy_temp_path \(prefix)/tmp/proxy;
                scgi_temp_path \(prefix)/tmp/scgi;
                uwsgi_temp_path \(prefix)/tmp/uwsgi;
            \(http.replacingOccurrences(of: "{{PORT}}", with: String(port)))
            }
            """
        try FileManager.default.createDirectory(atPath: prefix + "/tmp", withIntermediateDirectories: true)
        try config.write(toFile: prefix + "/nginx.conf", atomically: false, encoding: .utf8)
        process = try BackgroundProcess(executable, ["-p", prefix + "/", "-c", prefix + "/nginx.conf", "-e", prefix + "/error.log"],
                                        environment: [:], outputPath: prefix + "/stderr.log")
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline {
            if let status = process.poll() {
                throw TestFailure("nginx exited at start (status \(status)): \(log)")
            }
            if LoopbackPort.accepts(port) { return }
            usleep(20_000)
        }
        stop()
        throw TestFailure("nginx did not accept connections on port \(port) within 10 s: \(log)")
    }

    /// The error log and anything nginx printed, for failure messages.
    public var log: String {
        let errorLog = (try? String(contentsOfFile: prefix + "/error.log", encoding: .utf8)) ?? ""
        return String((process.output + errorLog).suffix(4000))
    }

    /// SIGTERM to nginx's master (by PID), SIGKILL after 10 s.
    public func stop() {
        process.stop(SIGTERM, seconds: 10)
    }
}

/// Loopback TCP ports for test servers.
public enum LoopbackPort {
    /// A port that was free a moment ago (the kernel picks it; the socket is closed again).
    public static func free() throws -> UInt16 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let ok = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        guard ok else { throw TestFailure("could not find a free port: \(String(cString: strerror(errno)))") }
        return UInt16(bigEndian: address.sin_port)
    }

    /// True when something accepts TCP connections on 127.0.0.1:`port`.
    public static func accepts(_ port: UInt16) -> Bool {
        guard let connection = try? HTTPConnection(port: port, timeoutSeconds: 1) else { return false }
        connection.close()
        return true
    }
}
