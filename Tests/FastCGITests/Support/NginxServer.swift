import Foundation
import Glibc

/// A private nginx (its own prefix, config, logs and temp folders in a temporary folder, on a
/// loopback port) passing every request to one FastCGI unix socket with buffering off. Run in the
/// foreground as a child process and stopped by its PID.
final class NginxServer {
    static let candidates = ["/usr/sbin/nginx", "/usr/bin/nginx", "/usr/local/sbin/nginx"]

    let prefix: String
    let port: UInt16
    private let process: Process

    /// The nginx binary, or nil when nginx is not installed.
    static var executable: String? {
        candidates.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// Starts nginx in `prefix` (which must be searchable by `nobody`) and waits until it accepts
    /// connections; throws with the error log when it does not start.
    init(prefix: String, fastCGISocket: String) throws {
        guard let executable = Self.executable else {
            throw TestClientError("nginx is not installed (apt-get install nginx); the nginx tests need it")
        }
        self.prefix = prefix
        port = try Self.freeLoopbackPort()
        let config = """
        daemon off;
        master_process on;
        worker_processes 1;
        user nobody nogroup;
        pid \(prefix)/nginx.pid;
        error_log \(prefix)/error.log info;
        events { worker_connections 64; }
        http {
            access_log off;
            client_body_temp_path \(prefix)/tmp/body;
            fastcgi_temp_path \(prefix)/tmp/fastcgi;
            proxy_temp_path \(prefix)/tmp/proxy;
            scgi_temp_path \(prefix)/tmp/scgi;
            uwsgi_temp_path \(prefix)/tmp/uwsgi;
            client_max_body_size 1m;
            server {
                listen 127.0.0.1:\(port);
                server_name localhost;
                location / {
                    include /etc/nginx/fastcgi_params;
                    fastcgi_pass unix:\(fastCGISocket);
                    fastcgi_buffering off;
                    fastcgi_read_timeout 60s;
                }
            }
        }
        """
        try FileManager.default.createDirectory(atPath: prefix + "/tmp", withIntermediateDirectories: true)
        try config.write(toFile: prefix + "/nginx.conf", atomically: false, encoding: .utf8)

        process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = ["-p", prefix + "/", "-c", prefix + "/nginx.conf", "-e", prefix + "/error.log"]
        process.standardInput = FileHandle.nullDevice
        _ = FileManager.default.createFile(atPath: prefix + "/stderr.log", contents: nil)
        let stderrLog = try FileHandle(forWritingTo: URL(fileURLWithPath: prefix + "/stderr.log"))
        process.standardOutput = stderrLog
        process.standardError = stderrLog
        try process.run()

        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline {
            if !process.isRunning {
                throw TestClientError("nginx exited at start (status \(process.terminationStatus)): \(log)")
            }
            if let probe = try? HTTPTestClient(port: port) {
                probe.close()
                return
            }
            Thread.sleep(forTimeInterval: 0.05)
        }
        stop()
        throw TestClientError("nginx did not accept connections on port \(port) within 10 s: \(log)")
    }

    var pid: Int32 { process.processIdentifier }

    /// The error log and anything nginx printed, for failure messages.
    var log: String {
        let errorLog = (try? String(contentsOfFile: prefix + "/error.log", encoding: .utf8)) ?? ""
        let printed = (try? String(contentsOfFile: prefix + "/stderr.log", encoding: .utf8)) ?? ""
        return (printed + errorLog).suffix(4000).description
    }

    /// Sends SIGTERM to nginx's master by PID and waits for it to exit (SIGKILL after 10 s).
    func stop() {
        guard process.isRunning else { return }
        kill(process.processIdentifier, SIGTERM)
        let deadline = Date().addingTimeInterval(10)
        while process.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.02) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
    }

    /// A port that was free a moment ago (the kernel picks it; the socket is closed again).
    static func freeLoopbackPort() throws -> UInt16 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let ok = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0
            }
        }
        guard ok else { throw TestClientError("could not find a free port: \(String(cString: strerror(errno)))") }
        return UInt16(bigEndian: address.sin_port)
    }
}
