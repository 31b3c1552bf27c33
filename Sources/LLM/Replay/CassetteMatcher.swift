/// Chooses the cassette entry that answers a request, by purpose and key.
///
/// Entries with the request's exact purpose and key answer first, in file order, one per request
/// (so a retried call can be scripted: a 429 entry, then the answer); when they are used up the last
/// one keeps answering. Without an exact key, entries with key `*` for the purpose answer the same
/// way. Anything else is a miss that names what was asked and what the cassette holds.
struct CassetteMatcher: Sendable {
    private let entries: [CassetteEntry]
    /// Entry indices by purpose and key, in file order.
    private var queues: [QueueKey: [Int]] = [:]
    private var used: [QueueKey: Int] = [:]

    private struct QueueKey: Hashable, Sendable {
        var purpose: String
        var key: String
    }

    init(_ cassette: Cassette) {
        entries = cassette.entries
        for (index, entry) in cassette.entries.enumerated() {
            queues[QueueKey(purpose: entry.purpose, key: entry.key), default: []].append(index)
        }
    }

    enum Match: Sendable {
        case entry(CassetteEntry)
        case miss(String)
    }

    mutating func next(purpose: String, key: String) -> Match {
        for queueKey in [QueueKey(purpose: purpose, key: key), QueueKey(purpose: purpose, key: "*")] {
            guard let queue = queues[queueKey], !queue.isEmpty else { continue }
            let position = used[queueKey, default: 0]
            used[queueKey] = position + 1
            return .entry(entries[queue[min(position, queue.count - 1)]])
        }
        let keys = queues.keys.filter { $0.purpose == purpose }.map(\.key).sorted()
        var message = "replay-llm: the cassette has no entry for purpose \"\(purpose)\" and key \"\(key)\""
        if keys.isEmpty {
            let purposes = Set(queues.keys.map(\.purpose)).sorted()
            message += purposes.isEmpty ? " (the cassette is empty)"
                : "; it has no entry for that purpose at all (purposes: \(purposes.joined(separator: ", ")))"
        } else {
            let shown = keys.prefix(12).map { "\"\($0)\"" }.joined(separator: ", ")
            message += "; its keys for \"\(purpose)\" are \(shown)\(keys.count > 12 ? ", …" : "")"
        }
        return .miss(message)
    }

    /// The distinct models the cassette names, in file order.
    var models: [String] {
        var seen: Set<String> = []
        return entries.compactMap(\.model).filter { seen.insert($0).inserted }
    }
}
