import CLibPQ
import Foundation

/// One connection to PostgreSQL, owning its libpq `PGconn`.
///
/// Only parameterised statements take values (`query(_:_:)`); `simpleQuery(_:)` runs fixed SQL
/// text such as a migration file. Sessions run with `TimeZone = UTC`, `DateStyle = ISO` and UTF-8.
/// When an idle connection finds the server gone (a restart), the next call reconnects first and
/// re-issues its LISTENs.
///
/// Thread-safety: a connection is used by one thread at a time (libpq allows distinct connections
/// on distinct threads, not one connection on two at once). It is `@unchecked Sendable` only so it
/// can be handed to the thread or pool that owns it; callers must not share it concurrently.
public final class Connection: @unchecked Sendable {
    private var handle: OpaquePointer
    private var listenChannels: [String] = []
    private var savepointDepth = 0
    private var statements = StatementCache()

    /// How many times this connection was re-established after losing the server.
    public private(set) var reconnectCount = 0

    /// Opens a connection from a libpq conninfo string or URI. Calls `PQconnectdb`.
    ///
    /// Failure is one line naming the problem ("could not connect to PostgreSQL: connection to server
    /// at "127.0.0.1", port 1 failed: Connection refused …"); the conninfo, which may hold a
    /// password, is never part of it.
    public init(_ conninfo: String) throws(PostgresError) {
        guard let conn = PQconnectdb(conninfo) else {
            throw PostgresError(kind: .connection, message: "could not connect to PostgreSQL: out of memory")
        }
        guard PQstatus(conn) == CONNECTION_OK else {
            let message = PostgresError.oneLine(String(cString: PQerrorMessage(conn)))
            PQfinish(conn)
            throw PostgresError(kind: .connection, message: "could not connect to PostgreSQL: \(message)")
        }
        handle = conn
        // libpq prints NOTICE messages to stderr by default; they are not errors, so drop them.
        PQsetNoticeProcessor(conn, { _, _ in }, nil)
        try configureSession()
    }

    deinit { PQfinish(handle) }

    private func configureSession() throws(PostgresError) {
        try simpleQuery("SET TIME ZONE 'UTC'; SET DateStyle = 'ISO, YMD'; SET client_encoding = 'UTF8'; SET IntervalStyle = 'iso_8601'")
    }

    /// True while libpq considers the connection usable. Calls `PQstatus`.
    public var isConnected: Bool { PQstatus(handle) == CONNECTION_OK }

    /// True inside an open transaction block. Calls `PQtransactionStatus`.
    public var inTransaction: Bool {
        let status = PQtransactionStatus(handle)
        return status == PQTRANS_INTRANS || status == PQTRANS_INERROR || status == PQTRANS_ACTIVE
    }

    /// The server's version number, e.g. 150018. Calls `PQserverVersion`.
    public var serverVersion: Int { Int(PQserverVersion(handle)) }

    /// The backend process id (what `pg_notify` reports as the sender). Calls `PQbackendPID`.
    public var backendPID: Int32 { PQbackendPID(handle) }

    /// Re-establishes a lost connection, restores the session settings and LISTENs. Calls `PQreset`.
    public func reconnect() throws(PostgresError) {
        PQreset(handle)
        guard PQstatus(handle) == CONNECTION_OK else {
            let message = PostgresError.oneLine(String(cString: PQerrorMessage(handle)))
            throw PostgresError(kind: .connection, message: "could not reconnect to PostgreSQL: \(message)")
        }
        savepointDepth = 0
        statements.removeAll()
        reconnectCount += 1
        try configureSession()
        for channel in listenChannels { try simpleQuery("LISTEN \(try quoteIdentifier(channel))") }
    }

    /// Before a statement: reconnect if the connection is known to be bad, or if an idle connection
    /// has input waiting (the server sends its last words and closes when it shuts down).
    func ensureAlive() throws(PostgresError) {
        if PQstatus(handle) != CONNECTION_OK {
            try reconnect()
            return
        }
        guard PQtransactionStatus(handle) == PQTRANS_IDLE else { return }
        // A departing server sends its last message and then closes: the first read may return
        // the message and only a later one the end of file, so read while input is waiting.
        for _ in 0..<4 {
            var pfd = pollfd(fd: PQsocket(handle), events: Int16(POLLIN), revents: 0)
            guard poll(&pfd, 1, 0) > 0 else { return }
            if PQconsumeInput(handle) == 0 || PQstatus(handle) != CONNECTION_OK {
                try reconnect()
                return
            }
        }
    }

    /// Runs one parameterised statement; values travel separately from the SQL text (`$1`, `$2`, …).
    /// Calls `PQexecParams`; from a statement's second run on, `PQprepare` once and then
    /// `PQexecPrepared` (see `StatementCache`), which behave the same but for the server's work.
    @discardableResult
    public func query(_ sql: String, _ parameters: [any PostgresBindable] = []) throws(PostgresError) -> QueryResult {
        try ensureAlive()
        let texts = try Self.parameterTexts(parameters, sql: sql)
        let cStrings: [UnsafeMutablePointer<CChar>?] = texts.map { $0.map { strdup($0) } ?? nil }
        defer { cStrings.forEach { free($0) } }
        return try cStrings.withUnsafeBufferPointer { buffer throws(PostgresError) -> QueryResult in
            try buffer.withMemoryRebound(to: UnsafePointer<CChar>?.self) { values throws(PostgresError) -> QueryResult in
                try run(sql, values)
            }
        }
    }

    /// The parameters in PostgreSQL's text format; a NUL character, which text cannot hold, is refused.
    static func parameterTexts(_ parameters: [any PostgresBindable], sql: String) throws(PostgresError) -> [String?] {
        var texts: [String?] = []
        texts.reserveCapacity(parameters.count)
        for parameter in parameters {
            let text = try parameter.postgresText()
            if let text, text.utf8.contains(0) {
                throw PostgresError(kind: .parameter, message: "parameter $\(texts.count + 1) contains a NUL character, which PostgreSQL text cannot hold", sql: sql)
            }
            texts.append(text)
        }
        return texts
    }

    /// Runs `sql` prepared when it is (or should now be), else unnamed.
    private func run(_ sql: String, _ values: UnsafeBufferPointer<UnsafePointer<CChar>?>) throws(PostgresError) -> QueryResult {
        let count = Int32(values.count)
        let idle = PQtransactionStatus(handle) == PQTRANS_IDLE
        if let name = statements.name(for: sql) {
            let result = PQexecPrepared(handle, name, count, values.baseAddress, nil, nil, 0)
            do {
                return try check(result, sql: sql)
            } catch {
                // The session no longer has the statement (DEALLOCATE, DISCARD), or a table it reads
                // changed shape ("cached plan must not change result type", 0A000 — matched by
                // code alone, as the text depends on the server's language): forget it. Outside a
                // transaction nothing was aborted, so the statement runs again unprepared (an error
                // of its own comes back as it is); inside one the transaction is aborted either
                // way, and the caller sees the error.
                let planChanged = error.sqlState == Self.featureNotSupported
                guard error.sqlState == Self.undefinedPreparedStatement || planChanged else { throw error }
                statements.remove(sql)
                if planChanged && idle { _ = PQexec(handle, "DEALLOCATE \(name)").map(PQclear) }
                guard idle else { throw error }
                return try check(PQexecParams(handle, sql, count, nil, values.baseAddress, nil, nil, 0), sql: sql)
            }
        }
        // An aborted transaction refuses everything; the plain call reports it as it always did.
        if PQtransactionStatus(handle) != PQTRANS_INERROR && statements.shouldPrepare(sql) {
            let name = statements.nextName()
            // Preparing parses and analyses the statement as running it would, so a statement that
            // cannot be prepared fails here with the error it would have had.
            _ = try check(PQprepare(handle, name, sql, count, nil), sql: sql)
            statements.add(sql, name: name)
            return try check(PQexecPrepared(handle, name, count, values.baseAddress, nil, nil, 0), sql: sql)
        }
        return try check(PQexecParams(handle, sql, count, nil, values.baseAddress, nil, nil, 0), sql: sql)
    }

    static let undefinedPreparedStatement = SQLState(rawValue: "26000")
    /// Also what PostgreSQL answers, with "cached plan must not change result type", for a prepared
    /// statement whose result columns changed since it was prepared.
    static let featureNotSupported = SQLState(rawValue: "0A000")

    /// How many statements this connection has prepared (see `StatementCache`).
    public var preparedStatementCount: Int { statements.count }

    /// Runs SQL text that takes no parameters; it may hold several statements (a migration file).
    /// Calls `PQexec`.
    @discardableResult
    public func simpleQuery(_ sql: String) throws(PostgresError) -> QueryResult {
        try ensureAlive()
        return try check(PQexec(handle, sql), sql: sql)
    }

    /// Runs a statement and returns how many rows it changed.
    @discardableResult
    public func execute(_ sql: String, _ parameters: [any PostgresBindable] = []) throws(PostgresError) -> Int {
        try query(sql, parameters).affectedRows
    }

    private func check(_ result: OpaquePointer?, sql: String) throws(PostgresError) -> QueryResult {
        guard let result else {
            let message = PostgresError.oneLine(String(cString: PQerrorMessage(handle)))
            throw PostgresError(kind: .connection, message: "lost the connection to PostgreSQL: \(message)", sql: sql)
        }
        let owned = QueryResult(result)
        switch PQresultStatus(result) {
        case PGRES_COMMAND_OK, PGRES_TUPLES_OK, PGRES_EMPTY_QUERY:
            return owned
        default:
            throw error(from: result, sql: sql)
        }
    }

    func error(from result: OpaquePointer, sql: String) -> PostgresError {
        func field(_ code: Character) -> String? {
            guard let value = PQresultErrorField(result, Int32(code.asciiValue!)) else { return nil }
            return String(cString: value)
        }
        let state = field("C").map(SQLState.init(rawValue:))
        let connectionGone = PQstatus(handle) != CONNECTION_OK
        var message = field("M") ?? PostgresError.oneLine(String(cString: PQresultErrorMessage(result)))
        if message.isEmpty { message = PostgresError.oneLine(String(cString: PQerrorMessage(handle))) }
        return PostgresError(kind: connectionGone && state == nil ? .connection : .server,
                             sqlState: state, message: message, detail: field("D"), hint: field("H"),
                             position: field("P").flatMap { Int($0) }, constraint: field("n"), sql: sql)
    }

    /// Quotes an identifier (a channel or table name) for SQL text. Calls `PQescapeIdentifier`.
    public func quoteIdentifier(_ name: String) throws(PostgresError) -> String {
        guard let escaped = PQescapeIdentifier(handle, name, name.utf8.count) else {
            throw PostgresError(kind: .parameter, message: "cannot quote identifier: \(PostgresError.oneLine(String(cString: PQerrorMessage(handle))))")
        }
        defer { PQfreemem(escaped) }
        return String(cString: escaped)
    }

    // MARK: - Used by the extensions in this module

    var rawHandle: OpaquePointer { handle }
    var channels: [String] {
        get { listenChannels }
        set { listenChannels = newValue }
    }
    /// A connection-level failure with libpq's own message.
    func connectionError(_ what: String, sql: String) -> PostgresError {
        PostgresError(kind: .connection, message: "\(what): \(PostgresError.oneLine(String(cString: PQerrorMessage(handle))))", sql: sql)
    }
    func preparedName(for sql: String) -> String? { statements.name(for: sql) }
    func shouldPrepare(_ sql: String) -> Bool { statements.shouldPrepare(sql) }
    func nextStatementName() -> String { statements.nextName() }
    func rememberPrepared(_ sql: String, name: String) { statements.add(sql, name: name) }
    func forgetPrepared(_ sql: String) { statements.remove(sql) }
    var nestedDepth: Int {
        get { savepointDepth }
        set { savepointDepth = newValue }
    }
}
