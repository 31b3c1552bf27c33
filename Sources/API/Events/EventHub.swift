import Foundation
import Synchronization

/// The open streams, by owner: the LISTEN thread hands each new event to the streams allowed to see
/// it (its owner's, and of those the per-user streams and the streams of the event's plan).
public final class EventHub: Sendable {
    private let streams = Mutex<[UUID: [EventStream]]>([:])

    public init() {}

    func add(_ stream: EventStream) {
        streams.withLock { $0[stream.ownerID, default: []].append(stream) }
    }

    func remove(_ stream: EventStream) {
        streams.withLock { all in
            all[stream.ownerID]?.removeAll { $0 === stream }
            if all[stream.ownerID]?.isEmpty == true { all[stream.ownerID] = nil }
        }
    }

    /// Queues `bytes` (the event framed once) on every stream that may see the event; returns how many.
    @discardableResult
    func deliver(id: Int64, ownerID: UUID, planID: UUID?, bytes: [UInt8]) -> Int {
        let targets = streams.withLock { all in all[ownerID]?.filter { $0.accepts(ownerID: ownerID, planID: planID) } ?? [] }
        for stream in targets { stream.enqueue(id: id, bytes: bytes) }
        return targets.count
    }

    /// Asks every open stream to end.
    func closeAll() {
        for stream in streams.withLock({ $0.values.flatMap { $0 } }) { stream.close() }
    }

    public var count: Int { streams.withLock { $0.values.reduce(0) { $0 + $1.count } } }
}
