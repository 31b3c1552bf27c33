/// An error from PostgreSQL or from talking to it.
///
/// `description` is one line built from the server's primary message and the SQLSTATE. It never
/// contains parameter values; the server's `detail` (which may quote row values) is kept in its own
/// field for logs that are allowed to carry it.
public struct PostgresError: Error, Sendable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        /// The server answered a statement with an error; `sqlState` says which.
        case server
        /// The connection could not be made, or was lost.
        case connection
        /// A value in a result could not be decoded to the requested Swift type.
        case decoding
        /// A parameter could not be sent (for example a string with a NUL character).
        case parameter
        /// A waiting call was interrupted on purpose.
        case interrupted
    }

    public var kind: Kind
    public var sqlState: SQLState?
    public var message: String
    public var detail: String?
    public var hint: String?
    /// 1-based character offset of the error in `sql`, when the server reports one.
    public var position: Int?
    public var constraint: String?
    /// The statement that failed, without its parameter values.
    public var sql: String?

    public init(kind: Kind, sqlState: SQLState? = nil, message: String, detail: String? = nil, hint: String? = nil,
                position: Int? = nil, constraint: String? = nil, sql: String? = nil) {
        self.kind = kind
        self.sqlState = sqlState
        self.message = message
        self.detail = detail
        self.hint = hint
        self.position = position
        self.constraint = constraint
        self.sql = sql
    }

    public var description: String {
        switch kind {
        case .server: return "\(message) (SQLSTATE \(sqlState?.rawValue ?? "?"))"
        default: return message
        }
    }

    /// True for errors after which the connection is gone and must be re-established.
    public var isConnectionLost: Bool {
        kind == .connection || sqlState?.errorClass == "08" || sqlState == .adminShutdown || sqlState == .crashShutdown
    }

    /// Folds libpq's multi-line messages ("…failed: Connection refused\n\tIs the server running…")
    /// into one line.
    static func oneLine(_ text: String) -> String {
        text.split(whereSeparator: \.isNewline)
            .map { $0.trimmingCharacters(in: " \t") }
            .filter { !$0.isEmpty }
            .joined(separator: " ")
    }
}

extension Substring {
    fileprivate func trimmingCharacters(in set: String) -> String {
        var s = self[...]
        while let f = s.first, set.contains(f) { s = s.dropFirst() }
        while let l = s.last, set.contains(l) { s = s.dropLast() }
        return String(s)
    }
}
