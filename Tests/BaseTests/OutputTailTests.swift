import Base
import Testing
import TestSupport

@Suite(.dedicatedThreads) struct OutputTailTests {
    @Test func keepsOnlyTheNewestBytes() {
        var tail = OutputTail(capacity: 10)
        for i in 0 ..< 1_000 { tail.append(Array("line \(i)\n".utf8)) }
        #expect(tail.text == "\nline 999\n")
        #expect(tail.bytes.count == 10)
        #expect(tail.totalBytes == (0 ..< 1_000).reduce(0) { $0 + "line \($1)\n".utf8.count })
        #expect(tail.droppedBytes == tail.totalBytes - 10)
    }

    @Test func aChunkLargerThanTheCapacityKeepsItsEnd() {
        var tail = OutputTail(capacity: 4)
        tail.append(Array("abcdefgh".utf8))
        #expect(tail.text == "efgh")
        tail.append(Array("ij".utf8))
        #expect(tail.text == "ghij")
    }

    @Test func aCharacterCutAtTheStartIsDropped() {
        var tail = OutputTail(capacity: 5)
        // "é" is two bytes; the cut falls inside it.
        tail.append(Array("xxxxé1234".utf8))
        #expect(tail.text == "1234")
        #expect(!tail.text.contains("\u{FFFD}"))
    }

    @Test func nothingWrittenIsEmpty() {
        let tail = OutputTail(capacity: 100)
        #expect(tail.text.isEmpty)
        #expect(tail.droppedBytes == 0)
    }
}
