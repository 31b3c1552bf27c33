import CLibPQ

/// The rows of one statement, owning the libpq `PGresult` (freed with `PQclear` in deinit).
///
/// Values arrive in PostgreSQL's text format and are decoded on access by `Row.decode`.
public final class QueryResult: @unchecked Sendable {
    // The PGresult is never mutated after creation and libpq's accessors only read it, so sharing
    // it across threads is safe; it is freed once, in deinit.
    let handle: OpaquePointer
    private let names: [String]

    init(_ handle: OpaquePointer) {
        self.handle = handle
        names = (0..<PQnfields(handle)).map { String(cString: PQfname(handle, $0)) }
    }

    deinit { PQclear(handle) }

    /// Number of rows. Calls `PQntuples`.
    public var count: Int { Int(PQntuples(handle)) }
    public var isEmpty: Bool { count == 0 }

    /// Column names in order. From `PQfname`.
    public var columns: [String] { names }

    /// Rows changed by INSERT/UPDATE/DELETE (0 for other statements). Calls `PQcmdTuples`.
    public var affectedRows: Int { Int(String(cString: PQcmdTuples(handle))) ?? 0 }

    /// The rows, in order.
    public var rows: [Row] { (0..<count).map { Row(result: self, index: Int32($0)) } }

    /// The first row, if any.
    public var first: Row? { isEmpty ? nil : Row(result: self, index: 0) }

    func columnIndex(_ name: String) -> Int? { names.firstIndex(of: name) }
}

/// One row of a `QueryResult`.
public struct Row: Sendable {
    let result: QueryResult
    let index: Int32

    /// Decodes the value in column `column` (0-based). Calls `PQgetvalue`, `PQgetisnull`, `PQgetlength`.
    public func decode<T: PostgresDecodable>(_ type: T.Type, _ column: Int) throws(PostgresError) -> T {
        guard column >= 0, column < result.columns.count else {
            throw PostgresError(kind: .decoding, message: "column \(column) is out of range (the row has \(result.columns.count))")
        }
        let c = Int32(column)
        if PQgetisnull(result.handle, index, c) != 0 {
            return try T.decodePostgres(nil, column: result.columns[column])
        }
        let length = Int(PQgetlength(result.handle, index, c))
        let value = PQgetvalue(result.handle, index, c)!
        let text = value.withMemoryRebound(to: UInt8.self, capacity: length) {
            String(decoding: UnsafeBufferPointer(start: $0, count: length), as: UTF8.self)
        }
        return try T.decodePostgres(text, column: result.columns[column])
    }

    /// Decodes the value in the column named `name`.
    public func decode<T: PostgresDecodable>(_ type: T.Type, _ name: String) throws(PostgresError) -> T {
        guard let column = result.columnIndex(name) else {
            throw PostgresError(kind: .decoding, message: "the result has no column named \(name)")
        }
        return try decode(type, column)
    }

    /// Whether the value in column `column` is NULL.
    public func isNull(_ column: Int) -> Bool { PQgetisnull(result.handle, index, Int32(column)) != 0 }
}
