import JSON
import Postgres

/// Where a list starts and how long a page may be (keyset pagination: no OFFSET, so a page costs
/// the same wherever it is and rows inserted meanwhile neither repeat nor vanish).
public struct PageRequest: Sendable, Equatable {
    /// Items per page, at least 1.
    public var limit: Int
    /// The sort key of the last item already seen (from `Page.nextKey`), or nil for the first page.
    public var after: [String]?

    public init(limit: Int, after: [String]? = nil) {
        precondition(limit >= 1, "a page holds at least one item")
        self.limit = limit
        self.after = after
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
