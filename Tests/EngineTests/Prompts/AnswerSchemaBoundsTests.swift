import JSON
@testable import Engine
import LLM
import PlanCore
import Testing
import TestSupport

/// Every answer schema bounds its arrays and strings (a small model under a grammar would otherwise loop
/// until its context is full), is one `JSONSchemaValidator` applies faithfully, and agrees with the
/// parsers on where the bounds are.
@Suite(.dedicatedThreads) struct AnswerSchemaBoundsTests {
    /// Every array without `maxItems` and every string without `maxLength` (or a fixed set of words), by
    /// schema path.
    static func unbounded(in schema: JSONValue, at path: String = "") -> [String] {
        guard case .object(let node) = schema else { return [] }
        var found: [String] = []
        let types: [String] = node["type"].map { $0.stringValue.map { [$0] } ?? ($0.arrayValue ?? []).compactMap(\.stringValue) } ?? []
        if types.contains("array") && node["maxItems"] == nil { found.append(path + ": an array without maxItems") }
        if types.contains("string") && node["maxLength"] == nil && node["enum"] == nil && node["const"] == nil {
            found.append(path + ": a string without maxLength")
        }
        if types.isEmpty && node["enum"] == nil && node["const"] == nil && node["anyOf"] == nil {
            found.append(path + ": a value of any type")
        }
        if case .object(let properties)? = node["properties"] {
            for (name, child) in properties { found += unbounded(in: child, at: path + "/properties/" + name) }
        }
        if let items = node["items"] { found += unbounded(in: items, at: path + "/items") }
        if case .object = node["additionalProperties"] { found += unbounded(in: node["additionalProperties"]!, at: path + "/additionalProperties") }
        for (i, branch) in (node["anyOf"]?.arrayValue ?? []).enumerated() { found += unbounded(in: branch, at: path + "/anyOf/\(i)") }
        return found
    }

    @Test(arguments: PromptTemplate.Kind.allCases)
    func everyArrayAndStringIsBounded(_ kind: PromptTemplate.Kind) throws {
        #expect(Self.unbounded(in: kind.answerSchema) == [])
        // The validator accepts the schema: no unsupported, misspelt or ineffective keyword.
        _ = try JSONSchemaValidator(schema: kind.answerSchema)
    }

    @Test func theWalkerFindsWhatIsUnbounded() {
        let schema: JSONValue = [
            "type": "object",
            "properties": ["a": ["type": "array", "items": ["type": "string"]], "b": ["type": ["string", "null"]],
                           "c": ["type": "string", "enum": ["x"]], "d": [:]],
        ]
        #expect(Self.unbounded(in: schema) == [
            "/properties/a: an array without maxItems", "/properties/a/items: a string without maxLength",
            "/properties/b: a string without maxLength", "/properties/d: a value of any type",
        ])
    }

    /// The demo cassette's answer to every structured call is the full, schema-valid document.
    @Test func theDemoCassettesAnswersConformToTheirSchemas() throws {
        let cassette = try Cassette.load(path: DemoCassette.path)
        var checked = 0
        for entry in cassette.entries {
            let kind = try #require(PromptTemplate.Kind(rawValue: entry.purpose), "line \(entry.line): purpose \(entry.purpose)")
            let document = try JSONValue.parse(entry.response)
            let violations = try JSONSchemaValidator.violations(of: document, against: kind.answerSchema)
            #expect(violations.isEmpty, "line \(entry.line) (\(entry.purpose) \(entry.key)): \(violations)")
            checked += 1
        }
        #expect(checked >= 20)
        #expect(Set(cassette.entries.map(\.purpose)) == ["chat", "discovery", "masterplan", "acceptance_tests", "atom",
                                                         "gate_repair", "review_suggestions"])
    }

    static func suggestions(_ count: Int, summary: String = "Fine.") -> JSONValue {
        let one: JSONValue = ["title": "Rename", "detail": "Use a clearer name.", "severity": "low"]
        return ["summary": .string(summary), "recommended_action": "approve", "suggestions": .array(Array(repeating: one, count: count)),
                "proposed_content": nil]
    }

    @Test func reviewSuggestionsOverTheirBoundAreRefusedByBoth() throws {
        let limit = AnswerLimits.maxReviewSuggestions
        let atLimit = Self.suggestions(limit)
        #expect(try JSONSchemaValidator.violations(of: atLimit, against: AnswerSchemas.reviewSuggestions).isEmpty)
        #expect(try AnswerParser.reviewSuggestions(atLimit.serialized()).suggestions.count == limit)

        let over = Self.suggestions(limit + 1)
        #expect(try JSONSchemaValidator.violations(of: over, against: AnswerSchemas.reviewSuggestions).map(\.description)
            == ["/suggestions: \(limit + 1) items, at most \(limit) allowed"])
        let error = #expect(throws: AnswerParseError.self) { try AnswerParser.reviewSuggestions(over.serialized()) }
        #expect(error?.message == "suggestions has \(limit + 1) entries, more than the limit of \(limit)")
    }

    /// Lengths are code points on both sides: a limit's worth of emoji (4 bytes each) passes, one more does not.
    @Test func textsAreCountedInCodePointsByBoth() throws {
        let limit = AnswerLimits.plan.maxTextLength
        func reply(_ length: Int) -> JSONValue { ["reply": .string(String(repeating: "😀", count: length)), "plan_request": nil] }
        #expect(try JSONSchemaValidator.violations(of: reply(limit), against: AnswerSchemas.chatReply).isEmpty)
        #expect(try AnswerParser.chatReply(reply(limit).serialized()).reply.unicodeScalars.count == limit)
        #expect(try JSONSchemaValidator.violations(of: reply(limit + 1), against: AnswerSchemas.chatReply).map(\.description)
            == ["/reply: \(limit + 1) characters, at most \(limit) allowed"])
        let error = #expect(throws: AnswerParseError.self) { try AnswerParser.chatReply(reply(limit + 1).serialized()) }
        #expect(error?.message == "reply is \(limit + 1) characters long, more than the limit of \(limit)")

        let notes: JSONValue = ["file": "app.py", "content": "x = 1\n", "notes": .string(String(repeating: "n", count: limit + 1))]
        #expect(try JSONSchemaValidator.violations(of: notes, against: AnswerSchemas.atomFile).map(\.path) == ["/notes"])
        #expect(throws: AnswerParseError.self) { try AnswerParser.atomFile(notes.serialized()) }
    }

    /// A file's content is the engine's to measure in bytes; the schema states the same number in code
    /// points, so it never refuses a file the engine would accept.
    @Test func theContentBoundIsTheFileLimit() {
        let content = AnswerSchemas.atomFile["properties"]?["content"]
        #expect(content?["maxLength"] == JSONValue(AnswerLimits.plan.maxFileBytes))
        #expect(AnswerSchemas.reviewSuggestions["properties"]?["proposed_content"]?["maxLength"] == JSONValue(AnswerLimits.plan.maxFileBytes))
        #expect(AnswerSchemas.atomFile["properties"]?["file"]?["maxLength"] == JSONValue(AnswerLimits.plan.maxPathLength))
    }
}
