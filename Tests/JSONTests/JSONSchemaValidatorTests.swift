import JSON
import Testing

@Suite struct JSONSchemaValidatorTests {
    /// The violations' descriptions, for compact expectations.
    private func problems(_ value: JSONValue, _ schema: JSONValue, limit: Int = 20) throws -> [String] {
        try JSONSchemaValidator.violations(of: value, against: schema, limit: limit).map(\.description)
    }

    // MARK: type

    @Test(arguments: [
        ("null", JSONValue.null, true), ("boolean", .bool(false), true), ("integer", .int(3), true),
        ("integer", .double(3.0), false), ("integer", .double(2.5), false), ("number", .int(3), true),
        ("number", .double(2.5), true), ("string", .string(""), true), ("array", .array([]), true),
        ("object", .object([:]), true), ("string", .null, false), ("object", .array([]), false),
        ("null", .bool(false), false), ("boolean", .int(0), false),
    ] as [(String, JSONValue, Bool)])
    func typeNames(type: String, value: JSONValue, conforms: Bool) throws {
        let found = try problems(value, ["type": .string(type)])
        #expect(found.isEmpty == conforms, "\(type) vs \(value): \(found)")
    }

    @Test func typeListAndItsMessage() throws {
        let schema: JSONValue = ["type": ["string", "null"]]
        #expect(try problems("x", schema).isEmpty)
        #expect(try problems(nil, schema).isEmpty)
        #expect(try problems(7, schema) == ["(root): expected a string or null, found the integer 7"])
        #expect(try problems(1.0, ["type": "integer"]) == ["(root): expected an integer, found the number 1.0"])
        #expect(try problems(["a": 1], ["type": ["string", "integer", "null"]])
            == ["(root): expected a string, an integer or null, found an object"])
    }

    // MARK: objects

    @Test func requiredAndAdditionalPropertiesNameTheMember() throws {
        let schema: JSONValue = [
            "type": "object", "properties": ["name": ["type": "string"], "size": ["type": "integer"]],
            "required": ["name", "size"], "additionalProperties": false,
        ]
        #expect(try problems(["name": "a", "size": 1], schema).isEmpty)
        #expect(try problems(["name": "a", "colour": "red"], schema) == [
            "/size: is required but missing",
            "/colour: is not allowed; the allowed members are: name, size",
        ])
        #expect(try problems(["name": 5, "size": "big"], schema) == [
            "/name: expected a string, found the integer 5",
            "/size: expected an integer, found the string \"big\"",
        ])
    }

    @Test func additionalPropertiesAsASchemaAndAbsent() throws {
        let typed: JSONValue = ["type": "object", "additionalProperties": ["type": "integer"]]
        #expect(try problems(["a": 1, "b": 2], typed).isEmpty)
        #expect(try problems(["a": 1, "b": "two"], typed) == ["/b: expected an integer, found the string \"two\""])
        let open: JSONValue = ["type": "object", "properties": ["a": ["type": "integer"]]]
        #expect(try problems(["a": 1, "anything": [1, 2]], open).isEmpty)
    }

    @Test func pathsAreJSONPointersWithEscapes() throws {
        let schema: JSONValue = ["type": "object", "additionalProperties": ["type": "array", "items": ["type": "integer"]]]
        let found = try JSONSchemaValidator.violations(of: ["a/b": [1, "x"], "c~d": ["y"]], against: schema)
        #expect(found.map(\.path) == ["/a~1b/1", "/c~0d/0"])
        #expect(found.map(\.message) == ["expected an integer, found the string \"x\"", "expected an integer, found the string \"y\""])
    }

    // MARK: arrays

    @Test func itemBoundsUseTheWordingSentToTheModel() throws {
        let schema: JSONValue = [
            "type": "object", "properties": ["tasks": ["type": "array", "items": ["type": "integer"], "minItems": 1, "maxItems": 60]],
        ]
        let many = JSONValue.array((1...61).map { JSONValue(Int64($0)) })
        #expect(try problems(["tasks": many], schema) == ["/tasks: 61 items, at most 60 allowed"])
        #expect(try problems(["tasks": []], schema) == ["/tasks: 0 items, at least 1 required"])
        #expect(try problems(["tasks": [1]], schema).isEmpty)
        #expect(try problems(["tasks": .array((1...60).map { JSONValue(Int64($0)) })], schema).isEmpty)
    }

    // MARK: enum and const

    @Test func enumAndConst() throws {
        let severity: JSONValue = ["type": "string", "enum": ["high", "medium", "low"]]
        #expect(try problems("low", severity).isEmpty)
        #expect(try problems("urgent", severity)
            == ["(root): the string \"urgent\" is not one of the allowed values: \"high\", \"medium\", \"low\""])
        #expect(try problems(2, ["const": 2]).isEmpty)
        #expect(try problems("2", ["const": 2]) == ["(root): must be 2, found the string \"2\""])
    }

    // MARK: strings

    @Test func lengthsCountUnicodeCodePoints() throws {
        let schema: JSONValue = ["type": "string", "minLength": 2, "maxLength": 3]
        // Three emoji: 12 UTF-8 bytes, 6 UTF-16 units, 3 code points.
        #expect(try problems("😀😀😀", schema).isEmpty)
        #expect(try problems("😀😀😀😀", schema) == ["(root): 4 characters, at most 3 allowed"])
        // One grapheme of two code points (e + combining acute) counts 2.
        #expect(try problems("e\u{301}", schema).isEmpty)
        #expect(try problems("é", schema) == ["(root): 1 character, at least 2 required"])
        #expect(try problems("", ["type": "string", "minLength": 1]) == ["(root): 0 characters, at least 1 required"])
        #expect(try problems("abcd", schema) == ["(root): 4 characters, at most 3 allowed"])
    }

    @Test func longStringsAreQuotedShortly() throws {
        let long = String(repeating: "a", count: 500)
        let found = try problems(.string(long), ["type": "integer"])
        #expect(found == ["(root): expected an integer, found the string \"\(String(repeating: "a", count: 40))…\""])
    }

    // MARK: numbers

    @Test func minimumAndMaximum() throws {
        let schema: JSONValue = ["type": "number", "minimum": 1, "maximum": 2.5]
        #expect(try problems(1, schema).isEmpty)
        #expect(try problems(2.5, schema).isEmpty)
        #expect(try problems(0, schema) == ["(root): 0 is less than the minimum of 1"])
        #expect(try problems(2.75, schema) == ["(root): 2.75 is more than the maximum of 2.5"])
        let exact: JSONValue = ["type": "integer", "maximum": .int(Int64.max - 1)]
        #expect(try problems(.int(Int64.max), exact) == ["(root): \(Int64.max) is more than the maximum of \(Int64.max - 1)"])
    }

    // MARK: anyOf, booleans, annotations

    @Test func anyOfNeedsOneMatchingBranch() throws {
        let schema: JSONValue = ["anyOf": [["type": "string", "maxLength": 2], ["type": "integer", "minimum": 0]]]
        #expect(try problems("ab", schema).isEmpty)
        #expect(try problems(5, schema).isEmpty)
        #expect(try problems(-1, schema) == [
            "(root): matches none of the 2 allowed forms ((root): expected a string, found the integer -1; or (root): -1 is less than the minimum of 0)",
        ])
    }

    @Test func booleanSchemasAndIgnoredAnnotations() throws {
        #expect(try problems(["x": 1], true).isEmpty)
        #expect(try problems(1, false) == ["(root): no value is allowed here"])
        let annotated: JSONValue = ["type": "string", "title": "Name", "description": "what it is called"]
        #expect(try problems("n", annotated).isEmpty)
        #expect(try problems(["a": 1], ["type": "object", "properties": ["a": false]]) == ["/a: no value is allowed here"])
    }

    // MARK: the cap and hostile values

    @Test func violationsStopAtTheLimit() throws {
        let schema: JSONValue = ["type": "array", "items": ["type": "string"]]
        let bad = JSONValue.array((0..<1_000).map { JSONValue(Int64($0)) })
        #expect(try problems(bad, schema).count == 20)
        let five = try JSONSchemaValidator.violations(of: bad, against: schema, limit: 5)
        #expect(five.map(\.path) == ["/0", "/1", "/2", "/3", "/4"])
        #expect(try JSONSchemaValidator.violations(of: bad, against: schema, limit: 0).isEmpty)
    }

    @Test func aMillionItemsCostOnlyTheCap() throws {
        let schema: JSONValue = ["type": "array", "maxItems": 60, "items": ["type": "string", "maxLength": 10]]
        let huge = JSONValue.array(Array(repeating: .int(1), count: 1_000_000))
        let found = try problems(huge, schema, limit: 3)
        #expect(found == ["(root): 1000000 items, at most 60 allowed", "/0: expected a string, found the integer 1",
                          "/1: expected a string, found the integer 1"])
    }

    @Test func deepValuesAreNotDescendedBeyondTheSchema() throws {
        var deep: JSONValue = "leaf"
        for _ in 0..<5_000 { deep = .array([deep]) }
        let shallow: JSONValue = ["type": "array", "items": ["type": "array", "items": ["type": "string"]]]
        #expect(try problems(deep, shallow) == ["/0/0: expected a string, found an array of 1 item"])
        #expect(try problems(deep, ["type": "array"]).isEmpty)
        // The parser refuses such nesting before a validator ever sees it.
        let text = String(repeating: "[", count: 5_000) + String(repeating: "]", count: 5_000)
        #expect(throws: JSONError.self) { try JSONValue.parse(text) }
    }

    @Test func deepSchemasAreRefused() {
        var schema: JSONValue = ["type": "string"]
        for _ in 0..<(JSONSchemaValidator.maxSchemaDepth + 1) { schema = ["type": "array", "items": schema] }
        #expect(throws: JSONSchemaError.self) { try JSONSchemaValidator(schema: schema) }
    }

    // MARK: mistakes in the schema itself

    @Test(arguments: [
        (["type": "object", "properties": ["a": ["type": "array", "maxItem": 3]]] as JSONValue,
         "/properties/a/maxItem", "unsupported keyword \"maxItem\""),
        (["type": "string", "pattern": "^a"], "/pattern", "unsupported keyword \"pattern\""),
        (["$ref": "#/$defs/a"], "/$ref", "unsupported keyword \"$ref\""),
        (["type": "array", "items": [["type": "string"]]], "/items", "items must be one schema for every element"),
        (["type": "array", "maxLength": 3], "/maxLength", "maxLength has no effect on an array"),
        (["type": ["string", "null"], "maxItems": 3], "/maxItems", "maxItems has no effect on a string or null"),
        (["type": "strng"], "/type", "unknown type; use null, boolean, integer, number, string, array, object"),
        (["type": "array", "minItems": -1], "/minItems", "minItems must be a non-negative integer"),
        (["type": "string", "maxLength": 2.5], "/maxLength", "maxLength must be a non-negative integer"),
        (["type": "string", "minLength": 3, "maxLength": 2], "/minLength", "minLength 3 is more than maxLength 2"),
        (["type": "string", "enum": ["a", 1]], "/enum", "the value 1 is not a string, so it can never match"),
        (["type": "object", "properties": ["a": true], "required": ["a", "b"], "additionalProperties": false],
         "/required", "\"b\" is required but not among the properties, and no other member is allowed"),
        (["anyOf": [["type": "string"], ["type": "integer", "maximun": 3]]], "/anyOf/1/maximun", "unsupported keyword \"maximun\""),
        (["type": "object", "additionalProperties": ["minLenght": 1]], "/additionalProperties/minLenght",
         "unsupported keyword \"minLenght\""),
        ("string", "", "a schema is an object or a boolean, not string"),
    ] as [(JSONValue, String, String)])
    func schemaMistakesAreErrorsNotSilence(schema: JSONValue, at path: String, message: String) {
        // Even for a value that never reaches the bad keyword.
        let error = #expect(throws: JSONSchemaError.self) { try JSONSchemaValidator.violations(of: nil, against: schema) }
        #expect(error?.schemaPath == path)
        #expect(error?.message.hasPrefix(message) == true, "\(error?.message ?? "")")
    }
}
