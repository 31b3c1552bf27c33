/// The statements one connection has prepared in its server session, by SQL text.
///
/// A statement is prepared the second time the connection runs it (most statements an API worker
/// or the executor runs, it runs thousands of times; preparing a one-off would cost a round trip
/// for nothing), and from then on runs with `PQexecPrepared`: PostgreSQL parses, analyses and plans
/// it once per session instead of on every call, which was about a quarter of the server's CPU for
/// the executor's short statements. At most `capacity` statements are kept per session.
struct StatementCache {
    static let capacity = 256
    /// Texts run once and not prepared yet; forgotten in bulk when it grows past this.
    static let seenCapacity = 1024

    private var names: [String: String] = [:]
    private var seenOnce: Set<String> = []
    private var counter = 0

    /// The server-side name of the statement prepared for `sql`, nil when it is not prepared.
    func name(for sql: String) -> String? { names[sql] }

    /// Notes an unprepared run of `sql`: true when it should be prepared now (it ran before, and
    /// there is room).
    mutating func shouldPrepare(_ sql: String) -> Bool {
        guard names.count < Self.capacity else { return false }
        if seenOnce.remove(sql) != nil { return true }
        if seenOnce.count >= Self.seenCapacity { seenOnce.removeAll(keepingCapacity: true) }
        seenOnce.insert(sql)
        return false
    }

    /// A fresh name for the next statement to prepare (unique in the session).
    mutating func nextName() -> String {
        counter += 1
        return "masterplan_s\(counter)"
    }

    /// Records that `sql` is prepared as `name`.
    mutating func add(_ sql: String, name: String) { names[sql] = name }

    /// Forgets the statement prepared for `sql` (the session lost it, or it must be planned again).
    mutating func remove(_ sql: String) { names[sql] = nil }

    /// Forgets every statement (a new session has none).
    mutating func removeAll() {
        names.removeAll()
        seenOnce.removeAll()
    }

    var count: Int { names.count }
}
