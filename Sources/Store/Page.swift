import Foundation
import JSON
import Postgres

/// The type of one column of a list's sort key, as the list's SQL casts it back (`$n::timestamptz`,
/// `$n::uuid`, `$n::int`, `$n::bigint`, `$n::text`).
///
/// A key arrives from a client (inside an opaque cursor), so it is checked completely here — shape,
/// type and range — before any statement sees it: a value PostgreSQL would refuse to cast is a
/// client's mistake, never a failed statement.
public enum PageKeyKind: Sendable, Equatable {
    /// A `timestamptz` as a session of `Connection` prints it (`2026-11-25 09:13:54.042178+00`).
    case timestamp
    /// A `uuid`.
    case uuid
    /// An `integer` or `bigint` column: a whole number in `range`.
    case integer(ClosedRange<Int64>)
    /// A `text` column: at most `maxBytes` UTF-8 bytes, no NUL.
    case text(maxBytes: Int)

    /// An `integer` (int4) column at least `minimum`.
    public static func int32(minimum: Int64) -> PageKeyKind { .integer(minimum...Int64(Int32.max)) }

    /// A `bigint` column at least `minimum`.
    public static func int64(minimum: Int64) -> PageKeyKind { .integer(minimum...Int64.max) }

    /// The value as the statement should receive it (canonical), or why it cannot be one of these.
    public func canonical(_ value: String) -> Result<String, PageKeyError> {
        switch self {
        case .timestamp:
            guard SortKeyTimestamp.isValid(value) else {
                return .failure(PageKeyError("is not a time as this list writes it (YYYY-MM-DD HH:MM:SS[.ffffff]+00)"))
            }
            return .success(value)
        case .uuid:
            guard let id = UUID(uuidString: value) else { return .failure(PageKeyError("is not a UUID")) }
            return .success(id.uuidString.lowercased())
        case .integer(let range):
            guard let number = Int64(value) else { return .failure(PageKeyError("is not a whole number")) }
            guard range.contains(number) else {
                return .failure(PageKeyError("is outside \(range.lowerBound)…\(range.upperBound)"))
            }
            return .success(String(number))
        case .text(let maxBytes):
            guard value.utf8.count <= maxBytes else { return .failure(PageKeyError("is longer than \(maxBytes) bytes")) }
            guard !value.utf8.contains(0) else { return .failure(PageKeyError("contains a NUL character")) }
            return .success(value)
        }
    }
}

/// Why a sort key given by a client cannot be used (the API answers 400 with it).
public struct PageKeyError: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// Where a list starts and how long a page may be (keyset pagination: no OFFSET, so a page costs
/// the same wherever it is and rows inserted meanwhile neither repeat nor vanish).
public struct PageRequest: Sendable, Equatable {
    /// Items per page, at least 1.
    public var limit: Int
    /// The sort key of the last item already seen (from `Page.nextKey`), checked against `key`, or
    /// nil for the first page.
    public private(set) var after: [String]?
    /// The kinds `after` was checked against.
    public private(set) var key: [PageKeyKind]?

    /// The first page.
    public init(limit: Int) {
        precondition(limit >= 1, "a page holds at least one item")
        self.limit = limit
    }

    /// The page after the item whose sort key is `after`, which must fit `key` (the list's
    /// `…Key`, e.g. `PlanQueries.listKey`): one value per column, each of its column's kind.
    public init(limit: Int, after values: [String], key: [PageKeyKind]) throws(PageKeyError) {
        precondition(limit >= 1, "a page holds at least one item")
        guard values.count == key.count else {
            throw PageKeyError("holds \(values.count) values where this list's holds \(key.count)")
        }
        var checked: [String] = []
        for (index, (value, kind)) in zip(values, key).enumerated() {
            switch kind.canonical(value) {
            case .success(let text): checked.append(text)
            case .failure(let error): throw PageKeyError("value \(index + 1) \(error.message)")
            }
        }
        self.limit = limit
        self.after = checked
        self.key = key
    }

    /// The checked key for a list whose key is `key`; nil on the first page. A request checked
    /// against another list's key is a programming error.
    func after(for key: [PageKeyKind]) -> [String]? {
        guard let after else { return nil }
        precondition(self.key == key, "a page request was checked against another list's key")
        return after
    }
}

/// One page of a list: the items (as their API JSON) and, when more follow, the key to continue after.
public struct Page: Sendable, Equatable {
    public var items: [JSONValue]
    /// The sort key of the last item when another page follows; nil on the last page.
    public var nextKey: [String]?

    public init(items: [JSONValue], nextKey: [String]?) {
        self.items = items
        self.nextKey = nextKey
    }
}

extension Page {
    /// Builds a page from rows fetched with `LIMIT limit + 1`: column 0 is the item JSON, the
    /// following `keyColumns` columns are the sort key (as text).
    static func from(_ rows: [Row], limit: Int, keyColumns: Int) throws -> Page {
        var items: [JSONValue] = []
        var lastKey: [String]?
        for (index, row) in rows.enumerated() {
            if index == limit { return Page(items: items, nextKey: lastKey) }
            items.append(try row.decode(JSONValue.self, 0))
            lastKey = try (1...keyColumns).map { try row.decode(String.self, $0) }
        }
        return Page(items: items, nextKey: nil)
    }
}

/// The text form of a `timestamptz` sort key, as `Connection`'s sessions (UTC, `DateStyle = ISO`)
/// print it: `YYYY-MM-DD HH:MM:SS`, up to six fraction digits, and a UTC offset `±HH[:MM]`.
enum SortKeyTimestamp {
    static func isValid(_ text: String) -> Bool {
        var scan = TimestampScanner(text)
        guard let year = scan.digits(4), scan.literal("-"), let month = scan.digits(2), scan.literal("-"), let day = scan.digits(2),
              scan.literal(" "), let hour = scan.digits(2), scan.literal(":"), let minute = scan.digits(2), scan.literal(":"),
              let second = scan.digits(2)
        else { return false }
        guard (1...9999).contains(year), (1...12).contains(month), (1...TimestampScanner.days(inMonth: month, of: year)).contains(day),
              (0...23).contains(hour), (0...59).contains(minute), (0...59).contains(second) else { return false }
        if scan.literal("."), !(1...6).contains(scan.fraction().digits) { return false }
        guard scan.sign() != nil, let offsetHours = scan.digits(2), offsetHours <= 15 else { return false }
        if scan.literal(":") {
            guard let offsetMinutes = scan.digits(2), offsetMinutes <= 59 else { return false }
        }
        return scan.isAtEnd
    }
}
