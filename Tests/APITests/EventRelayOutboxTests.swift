@testable import API
import Testing
import TestSupport

/// The relay's per-stream outbox and the fan-out's write budget: what the end-to-end tests cannot
/// see directly (a stream written a piece at a time, a credit never overspent).
@Suite(.dedicatedThreads) struct EventRelayOutboxTests {
    /// Drains `outbox` in pieces of at most `limit` bytes, as the fan-out does with little credit.
    static func drain(_ outbox: inout Outbox, limit: Int) -> [[UInt8]] {
        var pieces: [[UInt8]] = []
        while let piece = outbox.nextPiece(limit: limit) {
            pieces.append(piece)
            outbox.consume(piece.count)
        }
        return pieces
    }

    @Test(arguments: [1, 3, 5, 7, 64])
    func piecesCarryEveryByteOnceInOrder(limit: Int) {
        var outbox = Outbox()
        let frames: [[UInt8]] = [Array("id: 1\n\n".utf8), Array("id: 22\ndata: x\n\n".utf8), [], Array(": hb\n\n".utf8)]
        for frame in frames { outbox.append(frame) }
        #expect(outbox.count == frames.map(\.count).reduce(0, +))
        let pieces = Self.drain(&outbox, limit: limit)
        #expect(pieces.allSatisfy { !$0.isEmpty && $0.count <= limit })
        #expect(pieces.flatMap { $0 } == frames.flatMap { $0 })
        #expect(outbox.isEmpty && outbox.count == 0)
        #expect(outbox.nextPiece(limit: limit) == nil)
    }

    @Test func aWholeFrameThatFitsIsOnePiece() {
        var outbox = Outbox()
        outbox.append(Array("abc".utf8))
        outbox.append(Array("defg".utf8))
        #expect(outbox.nextPiece(limit: 100) == Array("abc".utf8))
        outbox.consume(3)
        #expect(outbox.nextPiece(limit: 2) == Array("de".utf8))
        outbox.consume(2)
        outbox.append(Array("h".utf8))
        #expect(Self.drain(&outbox, limit: 100) == [Array("fg".utf8), Array("h".utf8)])
        #expect(outbox.nextPiece(limit: 0) == nil)
    }

    @Test func manyFramesAppendedWhileDrainingKeepTheirOrder() {
        var outbox = Outbox()
        var expected: [UInt8] = []
        var received: [UInt8] = []
        for round in 0..<500 {
            let frame = Array("id: \(round)\n\n".utf8)
            outbox.append(frame)
            expected += frame
            if round % 3 == 0, let piece = outbox.nextPiece(limit: 5) {
                received += piece
                outbox.consume(piece.count)
            }
        }
        received += Self.drain(&outbox, limit: 1000).flatMap { $0 }
        #expect(received == expected)
    }

    @Test(arguments: [4096, 10_000, 106_496, 1 << 20])
    func aWriteWithinTheCreditNeverCostsMoreThanTheCredit(credit: Int) {
        let affordable = FanOut.bytesAffordable(with: credit)
        #expect(affordable > 0)
        #expect(FanOut.writeCost(affordable) <= credit)
        #expect(FanOut.writeCost(affordable + 2) > credit)
        #expect(FanOut.bytesAffordable(with: 0) == 0)
    }
}
