import JSON
import PropertyBased
import Testing
@testable import PlanCore

@Suite("JSON paths")
struct JSONPathTests {
    @Test("paths read like the issue's example; odd keys are quoted; the root is named")
    func descriptions() {
        let path = JSONPath.root.appending("phases").appending(1).appending("milestones").appending(0).appending("tasks").appending(3)
            .appending("depends_on").appending(0)
        #expect(path.description == "phases[1].milestones[0].tasks[3].depends_on[0]")
        #expect(JSONPath.root.description == "(root)")
        #expect(JSONPath.root.appending("a b").appending("x").description == "[\"a b\"].x")
        #expect(JSONPath.root.appending("q\"").description == "[\"q\\\"\"]")
        #expect(JSONPath.root.appending("9lives").description == "[\"9lives\"]")
        #expect(PlanProblem(.noJSON, at: .root, "nothing").description == "(root): nothing")
    }

    @Test("equality, hashing and prefixes follow the components, however the path was built")
    func equality() {
        let built = JSONPath.root.appending("tasks").appending(2).appending("files")
        let literal: JSONPath = [.key("tasks"), .index(2), .key("files")]
        #expect(built == literal)
        #expect(built.hashValue == literal.hashValue)
        #expect(built.components == [.key("tasks"), .index(2), .key("files")])
        #expect(built.count == 3)
        #expect(JSONPath.root.appending("tasks").isPrefix(of: built))
        #expect(built.isPrefix(of: built))
        #expect(JSONPath.root.isPrefix(of: built))
        #expect(!built.isPrefix(of: JSONPath.root.appending("tasks")))
        #expect(!JSONPath.root.appending("task").isPrefix(of: built))
        #expect(built != JSONPath.root.appending("tasks").appending(3).appending("files"))
    }
}

@Suite("The answer JSON reader on random documents")
struct AnswerJSONReaderPropertyTests {
    /// A random JSON document from a seed: objects, arrays, strings with escapes and non-ASCII text, numbers.
    static func document(seed: UInt64, depth: Int = 0) -> JSONValue {
        var random = SplitMix64(seed: seed)
        return value(&random, depth: depth, forceObject: true)
    }

    static func value(_ random: inout SplitMix64, depth: Int, forceObject: Bool = false) -> JSONValue {
        let pieces = ["a", "é", "中", "😀", "\"", "\\", "\n", "\t", "\u{1}", "/", " ", "{", "}", "```"]
        func text(_ random: inout SplitMix64) -> String {
            (0..<Int.random(in: 0...6, using: &random)).map { _ in pieces[Int.random(in: 0..<pieces.count, using: &random)] }.joined()
        }
        let kind = forceObject ? 0 : Int.random(in: depth > 4 ? 2...7 : 0...7, using: &random)
        switch kind {
        case 0:
            var object = JSONObject()
            for i in 0..<Int.random(in: 0...5, using: &random) { object[text(&random) + "\(i)"] = value(&random, depth: depth + 1) }
            return .object(object)
        case 1:
            return .array((0..<Int.random(in: 0...5, using: &random)).map { _ in value(&random, depth: depth + 1) })
        case 2, 3: return .string(text(&random))
        case 4: return .int(Int64.random(in: .min ... .max, using: &random))
        case 5: return .double(Double(Int.random(in: -1_000_000...1_000_000, using: &random)) / 64)
        case 6: return .bool(Bool.random(using: &random))
        default: return .null
        }
    }

    @Test("any document the JSON module writes reads back the same, compact or indented")
    func roundTrip() async throws {
        await propertyCheck(count: 500, input: Gen.uint64(in: 0...UInt64.max)) { seed throws in
            let document = Self.document(seed: seed)
            for format in [JSONFormat.compact, .pretty] {
                let text = try document.serialized(format)
                #expect(try PlanParser().jsonObject(in: text) == document)
                #expect(try PlanParser().jsonObject(in: text) == (try JSONValue.parse(text)))
            }
        }
    }
}
