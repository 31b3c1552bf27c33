import Foundation

/// The sockets this machine listens on, as its kernel lists them in `/proc/net/unix`, `/proc/net/tcp`
/// and `/proc/net/tcp6`: what code in the box might try to talk to.
///
/// Read outside the box (the box has a network namespace of its own, whose `/proc/net` is empty).
public struct HostListeners: Sendable, Hashable {
    /// A unix socket with a name: a path, or an abstract name (shown with a leading `@` by the kernel).
    public struct UnixSocket: Sendable, Hashable {
        /// The path, or the abstract name without its `@`.
        public var name: String
        public var isAbstract: Bool
        /// `SOCK_STREAM` (1), `SOCK_DGRAM` (2) or `SOCK_SEQPACKET` (5).
        public var type: Int32

        public init(name: String, isAbstract: Bool, type: Int32) {
            self.name = name
            self.isAbstract = isAbstract
            self.type = type
        }

        /// How reports name it: the path, or `@name`.
        public var label: String { isAbstract ? "@" + name : name }
    }

    /// A TCP port listening on a loopback address or on every address.
    public struct TCPPort: Sendable, Hashable {
        /// The listening address: `127.0.0.1`, `0.0.0.0`, `::1` or `::` (another loopback address is
        /// shown as it is).
        public var address: String
        public var port: UInt16

        public init(address: String, port: UInt16) {
            self.address = address
            self.port = port
        }

        /// The address a program on this machine connects to: a loopback one for a wildcard listener.
        public var connectAddress: String {
            switch address {
            case "0.0.0.0": "127.0.0.1"
            case "::": "::1"
            default: address
            }
        }

        public var label: String { address.contains(":") ? "[\(address)]:\(port)" : "\(address):\(port)" }
    }

    public var unixSockets: [UnixSocket]
    public var tcpPorts: [TCPPort]

    public init(unixSockets: [UnixSocket], tcpPorts: [TCPPort]) {
        self.unixSockets = unixSockets
        self.tcpPorts = tcpPorts
    }

    /// What this machine's kernel lists now; a table that cannot be read counts as empty.
    public static func read() -> HostListeners {
        func text(_ path: String) -> String {
            FileManager.default.contents(atPath: path).map { String(decoding: $0, as: UTF8.self) } ?? ""
        }
        let ports = parseTCP(text("/proc/net/tcp"), ipv6: false) + parseTCP(text("/proc/net/tcp6"), ipv6: true)
        var seen = Set<TCPPort>()
        return HostListeners(unixSockets: parseUnix(text("/proc/net/unix")), tcpPorts: ports.filter { seen.insert($0).inserted })
    }

    /// The named sockets of a `/proc/net/unix` table, listening ones first, each name once.
    ///
    /// Columns: `Num RefCount Protocol Flags Type St Inode Path`; flag `0x10000` (`__SO_ACCEPTCON`)
    /// marks a listening socket.
    public static func parseUnix(_ table: String) -> [UnixSocket] {
        var listening: [UnixSocket] = []
        var others: [UnixSocket] = []
        var seen = Set<String>()
        for line in table.split(separator: "\n").dropFirst() {
            let columns = line.split(separator: " ", maxSplits: 7, omittingEmptySubsequences: true)
            guard columns.count == 8, let flags = Int(columns[3], radix: 16), let type = Int32(columns[4], radix: 16) else { continue }
            let path = String(columns[7])
            guard seen.insert(path).inserted else { continue }
            let socket = path.hasPrefix("@") ? UnixSocket(name: String(path.dropFirst()), isAbstract: true, type: type)
                                             : UnixSocket(name: path, isAbstract: false, type: type)
            if flags & 0x10000 != 0 { listening.append(socket) } else { others.append(socket) }
        }
        return listening + others
    }

    /// The listening ports (state `0A`) of a `/proc/net/tcp` or `tcp6` table on a loopback address or
    /// on every address.
    public static func parseTCP(_ table: String, ipv6: Bool) -> [TCPPort] {
        var ports: [TCPPort] = []
        for line in table.split(separator: "\n").dropFirst() {
            let columns = line.split(separator: " ", omittingEmptySubsequences: true)
            guard columns.count > 3, columns[3] == "0A" else { continue }
            let local = columns[1].split(separator: ":")
            guard local.count == 2, let port = UInt16(local[1], radix: 16),
                  let address = ipv6 ? ipv6Address(local[0]) : ipv4Address(local[0]) else { continue }
            ports.append(TCPPort(address: address, port: port))
        }
        return ports
    }

    /// A loopback or wildcard IPv4 address from the kernel's hex form (the address's bytes in host
    /// order, little-endian here: `0100007F` is 127.0.0.1); nil for any other address.
    static func ipv4Address<S: StringProtocol>(_ hex: S) -> String? {
        guard hex.count == 8, let value = UInt32(hex, radix: 16) else { return nil }
        let bytes = [value & 0xFF, (value >> 8) & 0xFF, (value >> 16) & 0xFF, value >> 24]
        guard bytes == [0, 0, 0, 0] || bytes[0] == 127 else { return nil }
        return bytes.map(String.init).joined(separator: ".")
    }

    /// `::`, `::1` or an IPv4-mapped loopback address from the kernel's hex form (four 32-bit words,
    /// each in host order); nil for any other address.
    static func ipv6Address<S: StringProtocol>(_ hex: S) -> String? {
        guard hex.count == 32 else { return nil }
        var bytes: [UInt8] = []
        var index = hex.startIndex
        for _ in 0..<4 {
            let end = hex.index(index, offsetBy: 8)
            guard let word = UInt32(hex[index..<end], radix: 16) else { return nil }
            bytes += [UInt8(word & 0xFF), UInt8((word >> 8) & 0xFF), UInt8((word >> 16) & 0xFF), UInt8(word >> 24)]
            index = end
        }
        if bytes.allSatisfy({ $0 == 0 }) { return "::" }
        if bytes.dropLast().allSatisfy({ $0 == 0 }) && bytes[15] == 1 { return "::1" }
        // ::ffff:127.x.y.z
        if bytes[0..<10].allSatisfy({ $0 == 0 }) && bytes[10] == 0xFF && bytes[11] == 0xFF && bytes[12] == 127 {
            return "::ffff:" + bytes[12..<16].map(String.init).joined(separator: ".")
        }
        return nil
    }
}
