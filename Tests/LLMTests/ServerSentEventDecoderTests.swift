@testable import LLM
import Testing
import TestSupport

@Suite(.dedicatedThreads) struct ServerSentEventDecoderTests {
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

    /// Three chunks, at every pair of boundaries, with every line ending: a line may start in one
    /// chunk, continue through a second and end in a third, and a CR may end one chunk and its LF
    /// start the next.
    @Test(arguments: ["\n", "\r\n", "\r"])
    func chunksMaySplitAnyLineTwice(_ ending: String) throws {
        let bytes = Array(Self.stream.replacingOccurrences(of: "\n", with: ending).utf8)
        for first in stride(from: 0, through: bytes.count, by: 1) {
            for second in stride(from: first, through: bytes.count, by: 3) {
                var decoder = ServerSentEventDecoder()
                let events = try decoder.feed(bytes[..<first]) + decoder.feed(bytes[first..<second]) + decoder.feed(bytes[second...])
                #expect(events == Self.expected, "splits at \(first) and \(second)")
                #expect(!decoder.hasPartialEvent)
            }
        }
    }

    @Test func aMultiByteCharacterSplitAcrossChunksArrivesWhole() throws {
        // "🚀" is F0 9F 9A 80: every split inside it leaves an incomplete sequence at a chunk's end.
        let bytes = Array("data: 🚀é\r\n\r\n".utf8)
        for split in 6...11 {
            var decoder = ServerSentEventDecoder()
            let events = try decoder.feed(bytes[..<split]) + decoder.feed(bytes[split...])
            #expect(events.map(\.data) == ["🚀é"], "split at \(split)")
        }
    }

    @Test func dataIsKeptAsBytesAndInvalidUTF8IsRepairedOnlyAsText() throws {
        var decoder = ServerSentEventDecoder()
        let events = try decoder.feed([UInt8]("data: a".utf8) + [0xFF, 0xC3] + Array("\ndata: b\n\n".utf8))
        #expect(events.map(\.dataBytes) == [[UInt8(ascii: "a"), 0xFF, 0xC3, 0x0A, UInt8(ascii: "b")]])
        #expect(events.map(\.data) == ["a\u{FFFD}\u{FFFD}\nb"])
    }

    @Test func fieldsFollowTheSpecification() throws {
        let text = """
            : a comment, then a data line without a colon (an empty line of data)
            data
            data:
            data:  two spaces keep one

            event: only a name, no data: nothing to dispatch

            event:ping
            data:{"type":"ping"}
            unknown: ignored
            id

            data: [DONE]


            """
        var decoder = ServerSentEventDecoder()
        let events = try decoder.feed(Array(text.utf8))
        #expect(events == [ServerSentEvent(event: nil, data: "\n\n two spaces keep one"),
                           ServerSentEvent(event: "ping", data: #"{"type":"ping"}"#),
                           ServerSentEvent(event: nil, data: "[DONE]")])
        #expect(!decoder.hasPartialEvent)
    }

    @Test func mixedLineEndingsInOneStream() throws {
        var decoder = ServerSentEventDecoder()
        let events = try decoder.feed(Array("data: a\rdata: b\r\ndata: c\n\r\ndata: d\r\r".utf8))
        #expect(events.map(\.data) == ["a\nb\nc", "d"])
    }

    @Test func aByteOrderMarkIsSkippedOnlyAtTheStart() throws {
        let bom: [UInt8] = [0xEF, 0xBB, 0xBF]
        let bytes = bom + Array("data: x\n\n".utf8) + bom + Array("data: y\n\n".utf8)
        for split in 0...bytes.count {
            var decoder = ServerSentEventDecoder()
            let events = try decoder.feed(bytes[..<split]) + decoder.feed(bytes[split...])
            // A later BOM starts a line whose field is "\u{FEFF}data": not a data line.
            #expect(events.map(\.data) == ["x"], "split at \(split)")
        }
    }

    @Test func anUnfinishedEventIsNotDispatched() throws {
        var decoder = ServerSentEventDecoder()
        #expect(try decoder.feed(Array("data: {\"partial\":".utf8)).isEmpty)
        #expect(decoder.hasPartialEvent)
        #expect(try decoder.feed(Array("true}\n".utf8)).isEmpty)
        #expect(decoder.hasPartialEvent)
    }

    @Test func aLineLongerThanTheLimitIsRefused() throws {
        var decoder = ServerSentEventDecoder(maxLineBytes: 16)
        #expect(throws: ServerSentEventDecoder.LineTooLong.self) {
            try decoder.feed(Array("data: 0123456789abcdef\n\n".utf8))
        }
        var split = ServerSentEventDecoder(maxLineBytes: 16)
        #expect(throws: ServerSentEventDecoder.LineTooLong.self) {
            _ = try split.feed(Array("data: 01234".utf8))
            _ = try split.feed(Array("56789abcdef\n\n".utf8))
        }
        var fits = ServerSentEventDecoder(maxLineBytes: 16)
        #expect(try fits.feed(Array("data: 0123456789\n\n".utf8)).map(\.data) == ["0123456789"])
    }

    /// Random streams, cut into random chunks, against a plain reading of the whole text.
    @Test func randomStreamsInRandomChunksMatchAReadingOfTheWhole() throws {
        var random = SplitMix64(seed: 7)
        let lines = ["data: {\"k\":\"v\"}", "data:x", "data", "data: é漢🚀", ": comment", "event: e", "id: 1", "retry: 5",
                     "", "", "data: [DONE]", "other: field", "data:  spaced"]
        let endings = ["\n", "\r\n", "\r"]
        for _ in 0..<400 {
            var text = ""
            for _ in 0..<random.next(below: 24) {
                text += lines[random.next(below: lines.count)] + endings[random.next(below: endings.count)]
            }
            let bytes = Array(text.utf8)
            var decoder = ServerSentEventDecoder()
            var events: [ServerSentEvent] = []
            var start = 0
            while start < bytes.count {
                let end = min(bytes.count, start + 1 + random.next(below: 12))
                events += try decoder.feed(bytes[start..<end])
                start = end
            }
            #expect(events == Self.reference(text), "stream \(text.debugDescription)")
        }
    }

    /// The events of a whole stream, split into lines first (the specification's reading, without
    /// any of the decoder's incremental machinery).
    static func reference(_ text: String) -> [ServerSentEvent] {
        var lines: [String] = []
        var rest = text.unicodeScalars[...]
        var line = ""
        while let scalar = rest.first {
            rest = rest.dropFirst()
            if scalar == "\r" || scalar == "\n" {
                if scalar == "\r", rest.first == "\n" { rest = rest.dropFirst() }
                lines.append(line)
                line = ""
            } else {
                line.unicodeScalars.append(scalar)
            }
        }
        var events: [ServerSentEvent] = []
        var name: String?
        var data: [String] = []
        for line in lines {
            if line.isEmpty {
                if !data.isEmpty { events.append(ServerSentEvent(event: name, data: data.joined(separator: "\n"))) }
                name = nil
                data = []
                continue
            }
            if line.hasPrefix(":") { continue }
            let field = line.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
            var value = field.count > 1 ? field[1] : ""
            if value.hasPrefix(" ") { value = value.dropFirst() }
            switch field[0] {
            case "data": data.append(String(value))
            case "event": name = String(value)
            default: break
            }
        }
        return events
    }
}

/// A small deterministic generator, so a failing random case can be replayed.
struct SplitMix64 {
    var state: UInt64
    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    mutating func next(below bound: Int) -> Int {
        Int(next() % UInt64(bound))
    }
}
