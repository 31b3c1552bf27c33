import Foundation

/// An event as the LISTEN thread hands it to the fan-out: who may see it, and its SSE bytes,
/// framed once and shared by every stream that gets it.
struct FramedEvent: Sendable {
    var id: Int64
    var ownerID: UUID
    var planID: UUID?
    var bytes: [UInt8]
}
