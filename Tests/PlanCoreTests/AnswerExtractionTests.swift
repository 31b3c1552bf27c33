import JSON
import Testing
@testable import PlanCore

@Suite("Finding the JSON object in an LLM answer")
struct AnswerExtractionTests {
    struct Wrapping: Sendable, CustomTestStringConvertible {
        let name: String
        let answer: String
        var testDescription: String { name }
    }

    static let object = #"{"name": "x", "note": "braces } and { in a string, and a fence ``` too"}"#

    static let wrappings: [Wrapping] = [
        Wrapping(name: "bare", answer: object),
        Wrapping(name: "bare with surrounding whitespace", answer: "\n\n  \(object)  \n"),
        Wrapping(name: "json code fence", answer: "```json\n\(object)\n```"),
        Wrapping(name: "code fence without language", answer: "```\n\(object)\n```"),
        Wrapping(name: "fence with prose around", answer: "Here is the plan:\n\n```json\n\(object)\n```\n\nLet me know if you need changes."),
        Wrapping(name: "prose before and after, no fence", answer: "Sure! \(object) Hope this helps."),
        Wrapping(name: "prose with its own braces first", answer: "Fields use {snake_case}. The plan: \(object)"),
        Wrapping(name: "a fence with other code first", answer: "```bash\nls\n```\nand then\n```json\n\(object)\n```"),
        Wrapping(name: "Windows line endings", answer: "```json\r\n\(object)\r\n```\r\n"),
        Wrapping(name: "byte-order mark in front", answer: "\u{FEFF}\(object)"),
        Wrapping(name: "bare object followed by prose", answer: "\(object)\nThat is all."),
        Wrapping(name: "many brace pairs in prose before a fence",
                 answer: "Template fields: " + String(repeating: "{x} ", count: 100) + "\n```json\n\(object)\n```"),
    ]

    @Test("the object is found however it is wrapped", arguments: wrappings)
    func extraction(_ wrapping: Wrapping) throws {
        let value = try PlanParser().jsonObject(in: wrapping.answer)
        #expect(value == (try JSONValue.parse(Self.object)))
    }

    @Test("a syntax error is located by line and column in the whole answer, not the extracted part")
    func positionsCountFromTheAnswer() throws {
        let answer = "Here you go.\n\n```json\n{\n  \"a\": 1,\n  \"b\": tru\n}\n```"
        let error = try #require(throws: PlanProblems.self) { try PlanParser().jsonObject(in: answer) }
        #expect(error.problems.map(\.message) == ["the answer is not valid JSON: unexpected character 't'; expected a value at line 6, column 8"])
    }

    @Test("an object cut off in prose is reported as cut off")
    func truncatedInProse() throws {
        let error = try #require(throws: PlanProblems.self) {
            try PlanParser().jsonObject(in: "The plan is: {\"project_name\": \"x\", \"phases\": [")
        }
        #expect(error.problems.count == 1)
        #expect(error.problems[0].message.hasSuffix("the answer looks cut off, so answer again with the complete object"))
    }

    @Test("the longest balanced object in prose wins")
    func longestCandidate() throws {
        let value = try PlanParser().jsonObject(in: "Either {\"a\": 1} or, better, {\"a\": 1, \"b\": [1, 2, 3]} will do.")
        #expect(value == ["a": 1, "b": [1, 2, 3]])
    }
}

@Suite("The answer JSON reader agrees with the JSON module")
struct AnswerJSONReaderTests {
    static let valid: [String] = [
        #"{}"#,
        #"{"a": [], "b": {}, "c": [[]], "d": [{}]}"#,
        #"{"n": 0, "m": -0, "big": 9223372036854775807, "small": -9223372036854775808}"#,
        #"{"d": 1.5, "e": -2.25e3, "f": 1E-2, "g": 0.0, "h": 1e300}"#,
        #"{"t": true, "f": false, "z": null}"#,
        #"{"s": "\"\\\/\b\f\n\r\t", "u": "\u00e9\u4e2d\ud83d\ude00", "raw": "é中😀"}"#,
        #"  {"spaced" : [ 1 , 2 ] }  "#,
        #"{"empty": "", "key with spaces": 1, "ключ": "значение"}"#,
    ]

    @Test("valid documents read the same as jansson reads them", arguments: valid)
    func sameValue(_ text: String) throws {
        #expect(try PlanParser().jsonObject(in: text) == (try JSONValue.parse(text)))
    }

    static let invalid: [(text: String, message: String)] = [
        (#"{"a": 01}"#, "numbers must not start with 0"),
        (#"{"a": -}"#, "a number needs a digit after '-'"),
        (#"{"a": 1.}"#, "a number needs a digit after '.'"),
        (#"{"a": 1e}"#, "a number needs a digit in its exponent"),
        (#"{"a": tru}"#, "unexpected character 't'; expected a value"),
        (#"{"a": "\x"}"#, "invalid escape \\x in a string"),
        (#"{"a": "\u12"}"#, "invalid hexadecimal digit"),
        (#"{"a": "\ud800"}"#, "a high surrogate \\ud800 without its low surrogate"),
        (#"{"a": "\udc00"}"#, "a lone low surrogate \\udc00"),
        (#"{"a": "\u0000"}"#, "\\u0000 is not allowed in strings"),
        (#"{"a": 1 "b": 2}"#, "expected ',' or '}' after an object member"),
        (#"{"a": [1 2]}"#, "expected ',' or ']' after an array element"),
        (#"{"a" 1}"#, "expected ':' after a member name"),
        (#"{"a": 1, "a": 2}"#, "duplicate member \"a\" in one object"),
        (#"{"a": 1e999}"#, "the number 1e999 is out of range"),
        (#"{"a": 18446744073709551616}"#, "does not fit in 64 bits"),
    ]

    @Test("duplicate members are found in large objects too", arguments: [3, 16, 17, 40])
    func duplicatesInLargeObjects(_ size: Int) throws {
        let members = (0..<size).map { "\"k\($0)\": \($0)" }
        let unique = "{" + members.joined(separator: ", ") + "}"
        #expect(try PlanParser().jsonObject(in: unique) == (try JSONValue.parse(unique)))
        let repeated = "{" + (members + ["\"k\(size / 2)\": 0"]).joined(separator: ", ") + "}"
        let error = try #require(throws: PlanProblems.self) { try PlanParser().jsonObject(in: repeated) }
        #expect(error.problems.first?.message.contains("duplicate member \"k\(size / 2)\" in one object") == true)
    }

    @Test("invalid documents are refused by both readers, with a message that names the fault", arguments: invalid)
    func refused(_ sample: (text: String, message: String)) throws {
        let error = try #require(throws: PlanProblems.self) { try PlanParser().jsonObject(in: sample.text) }
        #expect(error.problems.first?.message.contains(sample.message) == true, "\(error)")
        #expect(throws: JSONError.self) { try JSONValue.parse(sample.text) }
    }
}
