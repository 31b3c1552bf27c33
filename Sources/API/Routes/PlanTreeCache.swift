import Foundation

/// A worker's cache of whole-plan JSON (`GET /masterplans/{id}`), keyed by plan id and valid for
/// one `PlanQueries.treeStamp` value: a hit costs one small indexed query instead of building the
/// tree (about 10 ms of PostgreSQL time for 120 tasks). Bounded in bytes, oldest entry out first, so
/// a worker stays small.
///
/// Worker-local (one thread), hence not `Sendable`.
final class PlanTreeCache {
    struct Entry {
        var stamp: String
        var body: [UInt8]
    }

    let capacityBytes: Int
    private var entries: [UUID: Entry] = [:]
    private var order: [UUID] = []
    private var bytes = 0

    init(capacityBytes: Int) { self.capacityBytes = capacityBytes }

    /// The cached body when it was stored for `stamp`.
    func body(for plan: UUID, stamp: String) -> [UInt8]? {
        guard let entry = entries[plan], entry.stamp == stamp else { return nil }
        return entry.body
    }

    func store(_ body: [UInt8], for plan: UUID, stamp: String) {
        guard body.count <= capacityBytes / 4 else { return }
        if let old = entries.removeValue(forKey: plan) {
            bytes -= old.body.count
            order.removeAll { $0 == plan }
        }
        while bytes + body.count > capacityBytes, let oldest = order.first {
            order.removeFirst()
            bytes -= entries.removeValue(forKey: oldest)?.body.count ?? 0
        }
        entries[plan] = Entry(stamp: stamp, body: body)
        order.append(plan)
        bytes += body.count
    }

    var count: Int { entries.count }
}
