@testable import LLM
import Testing

@Suite struct ServerSentEventDecoderTests {
    static let stream = "\u{FEFF}: keep-alive comment\nevent: message_start\ndata: {\"a\":1}\n\nid: 7\nretry: 3000\ndata: first line\ndata:second line\n\ndata: é 漢字 🚀\n\n"
    static let expected = [ServerSentEvent(event: "message_start", data: "{\"a\":1}"),
                           ServerSentEvent(event: nil, data: "first line\nsecond line"),
                           ServerSentEvent(event: nil, data: "é 漢字 🚀")]

    @Test(arguments: ["\n", "\r\n", "\r"])
    func decodesEveryLineEnding(_ ending: String) throws {
        var decoder = ServerSentEventDecoder()
        let text = Self.stream.replacingOccurrences(of: "\n", with: ending)
        #expect(try decoder.feed(Array(text.utf8)) == Self.expected)
        #expect(!decoder.hasPartialEvent)
    }

    @Test func chunksMaySplitAnywhere() throws {
        let bytes = Array(Self.stream.replacingOccurrences(of: "\n", with: "\r\n").utf8)
        for split in 0...bytes.count {
            var decoder = ServerSentEventDecoder()
            let events = try decoder.feed(bytes[..<split]) + decoder.feed(bytes[split...])
            #expect(events == Self.expected, "split at \(split)")
        }
        var decoder = ServerSentEventDecoder()
        var events: [ServerSentEvent] = []
        for byte in bytes { events += try decoder.feed([byte]) }
        #expect(events == Self.expected)
    }

    @Test func anUnfinishedEventIsNotDispatched() throws {
        var decoder = ServerSentEventDecoder()
        #expect(try decoder.feed(Array("data: {\"partial\":".utf8)).isEmpty)
        #expect(decoder.hasPartialEvent)
        #expect(try decoder.feed(Array("true}\n".utf8)).isEmpty)
        #expect(decoder.hasPartialEvent)
    }

    @Test func aLineLongerThanTheLimitIsRefused() {
        var decoder = ServerSentEventDecoder(maxLineBytes: 16)
        #expect(throws: ServerSentEventDecoder.LineTooLong.self) {
            try decoder.feed(Array("data: 0123456789abcdef\n\n".utf8))
        }
    }
}
