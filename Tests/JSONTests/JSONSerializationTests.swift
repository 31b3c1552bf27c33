import JSON
import Testing

@Suite struct JSONSerializationTests {
    @Test func compactAndPretty() throws {
        let value: JSONValue = ["name": "plan", "tasks": [1, 2], "empty": [], "nested": ["ok": true]]
        #expect(try value.serialized() == #"{"name":"plan","tasks":[1,2],"empty":[],"nested":{"ok":true}}"#)
        #expect(try value.serialized(.pretty) == """
        {
          "name": "plan",
          "tasks": [
            1,
            2
          ],
          "empty": [],
          "nested": {
            "ok": true
          }
        }
        """)
    }

    @Test func stringsAreEscaped() throws {
        let value = JSONValue.string("q\"b\\s/\n\t\u{01}é😀")
        let text = try value.serialized()
        #expect(text == #""q\"b\\s/\n\t\u0001é😀""#)
        #expect(try JSONValue.parse(text) == value)
    }

    @Test(arguments: [0.1, 0.7, -2.5, 1e300, Double.leastNonzeroMagnitude, 3.0, 123456789.125])
    func doublesRoundTripInShortestForm(d: Double) throws {
        let text = try JSONValue.double(d).serialized()
        #expect(try JSONValue.parse(text) == .double(d))
        #expect(!text.contains("0000000000"))
    }

    @Test func nonFiniteNumbersThrow() {
        #expect(throws: JSONError.self) { try JSONValue.double(.nan).serialized() }
        #expect(throws: JSONError.self) { try JSONValue.array([.double(.infinity)]).serialized() }
    }

    @Test func roundTripOfAParsedDocument() throws {
        let text = #"{"a":[1,2.5,"x",null,true,{"b":[]}],"c":-9223372036854775808}"#
        #expect(try JSONValue.parse(text).serialized() == text)
    }

    @Test func objectEditingKeepsOrderAndRemoves() {
        var object: JSONObject = ["a": 1, "b": 2, "c": 3]
        object["b"] = nil
        object["a"] = 10
        object["d"] = 4
        #expect(object.keys == ["a", "c", "d"])
        #expect(object["c"] == 3)
        #expect(object == ["d": 4, "c": 3, "a": 10])
    }

    @Test func typedAccess() {
        let value: JSONValue = ["n": 3, "d": 2.0, "s": "x", "b": false, "a": [1]]
        #expect(value["n"]?.intValue == 3)
        #expect(value["d"]?.intValue == 2)
        #expect(value["n"]?.doubleValue == 3.0)
        #expect(value["s"]?.stringValue == "x")
        #expect(value["s"]?.intValue == nil)
        #expect(value["b"]?.boolValue == false)
        #expect(value["a"]?.arrayValue?.count == 1)
        #expect(value["a"]?[5] == nil)
        #expect(value["s"]?.typeName == "string")
    }
}
