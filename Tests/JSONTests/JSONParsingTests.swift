import JSON
import Testing

@Suite struct JSONParsingTests {
    @Test func parsesEveryKindOfValue() throws {
        let value = try JSONValue.parse(#"{"a": [1, -2.5, true, false, null, "x\u00e9\n"], "b": {}}"#)
        #expect(value["a"]?[0] == .int(1))
        #expect(value["a"]?[1] == .double(-2.5))
        #expect(value["a"]?[2] == .bool(true))
        #expect(value["a"]?[3] == .bool(false))
        #expect(value["a"]?[4] == .null)
        #expect(value["a"]?[5] == .string("xé\n"))
        #expect(value["b"] == .object(JSONObject()))
        #expect(value["missing"] == nil)
    }

    @Test func scalarsAtTopLevel() throws {
        #expect(try JSONValue.parse("42") == .int(42))
        #expect(try JSONValue.parse("\"s\"") == .string("s"))
        #expect(try JSONValue.parse("null") == .null)
    }

    @Test(arguments: [Int64.max, Int64.min, 0, 9_007_199_254_740_993])
    func integersAreExactTo64Bits(n: Int64) throws {
        let value = try JSONValue.parse(String(n))
        #expect(value == .int(n))
        #expect(try value.serialized() == String(n))
    }

    @Test func integerBeyond64BitsIsAnError() {
        #expect(throws: JSONError.self) { try JSONValue.parse("18446744073709551616") }
        do {
            _ = try JSONValue.parse("[1, 99999999999999999999999]")
        } catch {
            #expect(error.kind == .numberOutOfRange)
        }
    }

    @Test func objectsKeepKeyOrder() throws {
        let value = try JSONValue.parse(#"{"z": 1, "a": 2, "m": 3}"#)
        #expect(value.objectValue?.keys == ["z", "a", "m"])
        #expect(try value.serialized() == #"{"z":1,"a":2,"m":3}"#)
    }

    @Test func duplicateKeysAreRejected() {
        do {
            _ = try JSONValue.parse(#"{"a": 1, "a": 2}"#)
            Issue.record("duplicate key accepted")
        } catch {
            #expect(error.kind == .duplicateKey)
        }
    }

    struct Malformed: Sendable, CustomStringConvertible {
        let text: String
        let line: Int
        let column: Int
        var description: String { text }
    }

    @Test(arguments: [
        Malformed(text: "{\"a\": }", line: 1, column: 7),
        Malformed(text: "{\n  \"a\": 1,\n  \"b\" 2\n}", line: 3, column: 7),
        Malformed(text: "[1, 2,]", line: 1, column: 7),
        Malformed(text: "{'a': 1}", line: 1, column: 2),
    ])
    func malformedJSONReportsLineAndColumn(_ m: Malformed) {
        do {
            _ = try JSONValue.parse(m.text)
            Issue.record("accepted malformed JSON")
        } catch {
            #expect(error.kind == .syntax)
            #expect(error.line == m.line)
            #expect(error.column == m.column)
            #expect(error.description.contains("line \(m.line)"))
        }
    }

    @Test func truncatedDocumentIsEndOfInput() {
        do {
            _ = try JSONValue.parse(#"{"a": [1, 2"#)
            Issue.record("accepted truncated JSON")
        } catch {
            #expect(error.kind == .endOfInput)
        }
    }

    @Test func emptyInputIsAnError() {
        #expect(throws: JSONError.self) { try JSONValue.parse("") }
        #expect(throws: JSONError.self) { try JSONValue.parse([UInt8]()) }
    }

    @Test func invalidUTF8IsRejected() {
        let bytes: [UInt8] = Array("[\"ab".utf8) + [0xC3, 0x28] + Array("\"]".utf8)
        do {
            _ = try JSONValue.parse(bytes)
            Issue.record("accepted invalid UTF-8")
        } catch {
            #expect(error.kind == .invalidUTF8)
            #expect(error.position >= 3)
        }
    }

    @Test func nestingOneHundredThousandLevelsIsAnErrorNotACrash() {
        let deep = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
        do {
            _ = try JSONValue.parse(deep)
            Issue.record("accepted 100,000 levels")
        } catch {
            #expect(error.kind == .tooDeep)
            #expect(error.position == 512)
        }
    }

    @Test func depthLimitIsConfigurable() throws {
        let three = "[[[1]]]"
        #expect(try JSONValue.parse(three, options: .init(maxDepth: 3)) == [[[1]]])
        #expect(throws: JSONError.self) { try JSONValue.parse(three, options: .init(maxDepth: 2)) }
        // Brackets inside strings do not count.
        #expect(try JSONValue.parse(#"["[[[["]"#, options: .init(maxDepth: 1)) == ["[[[["])
    }

    @Test func sizeLimit() {
        do {
            _ = try JSONValue.parse("[1,2,3]", options: .init(maxBytes: 4))
            Issue.record("accepted oversized document")
        } catch {
            #expect(error.kind == .tooLarge)
        }
    }

    @Test func rawControlCharactersInStrings() throws {
        let text = "{\"code\": \"line1\nline2\tend\"}"
        #expect(throws: JSONError.self) { try JSONValue.parse(text) }
        let lenient = try JSONValue.parse(text, options: .init(allowControlCharactersInStrings: true))
        #expect(lenient["code"] == .string("line1\nline2\tend"))
    }

    @Test func nullEscapeIsRejected() {
        do {
            _ = try JSONValue.parse(#"["a\u0000b"]"#)
            Issue.record("accepted NUL")
        } catch {
            #expect(error.kind == .nullCharacter)
        }
    }
}
