import Foundation
import Postgres

/// A statement PostgreSQL parses and plans once per connection (`PREPARE`) and then runs with
/// `EXECUTE`, for the queries every API request makes (the account behind a token, the stamp of a
/// cached plan tree): parsing and planning was most of their cost.
///
/// The parameters are UUIDs only, written into the `EXECUTE` as quoted literals — a UUID's text is
/// hex digits and dashes, so no value can change the statement. A connection that has not prepared
/// the statement yet (a new one, or one that reconnected) answers SQLSTATE 26000, and it is prepared
/// then. Inside a transaction, where that failed attempt would abort the transaction, the plain
/// parameterised statement runs instead.
public struct PreparedQuery: Sendable {
    public let name: String
    public let parameterTypes: [String]
    public let sql: String

    public init(name: String, parameterTypes: [String], sql: String) {
        self.name = name
        self.parameterTypes = parameterTypes
        self.sql = sql
    }

    static let undefinedPreparedStatement = SQLState("26000")

    public func run(on connection: Connection, _ parameters: [UUID]) throws -> QueryResult {
        precondition(parameters.count == parameterTypes.count, "\(name) takes \(parameterTypes.count) parameters")
        if connection.inTransaction { return try connection.query(sql, parameters) }
        let execute = "EXECUTE \(name)(" + parameters.map { "'\($0.uuidString.lowercased())'" }.joined(separator: ", ") + ")"
        // A Result rather than `catch … where`, which crashes the Swift 6.3.1 compiler.
        let first = Result { () throws(PostgresError) -> QueryResult in try connection.simpleQuery(execute) }
        if case .failure(let error) = first, error.sqlState == Self.undefinedPreparedStatement {
            try connection.simpleQuery("PREPARE \(name)(\(parameterTypes.joined(separator: ", "))) AS \(sql)")
            return try connection.simpleQuery(execute)
        }
        return try first.get()
    }
}
