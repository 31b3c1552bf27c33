import JSON
@testable import LLM
import Testing
import TestSupport

/// The per-dialect schema forms of `WireSchema`.
@Suite(.dedicatedThreads) struct WireSchemaTests {
    static let bounded: JSONValue = [
        "type": "object",
        "description": "A plan.",
        "properties": [
            "name": ["type": "string", "minLength": 1, "maxLength": 80, "pattern": "^[a-z-]+$"],
            "when": ["type": "string", "format": "date-time"],
            "kind": ["type": "string", "format": "slug"],
            "count": ["type": "integer", "minimum": 1, "maximum": 50],
            "tasks": ["type": "array", "minItems": 1, "maxItems": 120, "uniqueItems": true,
                      "items": ["type": "object", "properties": ["id": ["type": "integer", "minimum": 1]], "required": ["id"]]],
            "note": ["type": ["string", "null"], "maxLength": 300, "description": "Optional."],
        ],
        "required": ["name", "when", "kind", "count", "tasks", "note"],
        "additionalProperties": false,
    ]

    @Test func openAIStrictKeepsWhatItEnforcesAndDescribesTheRest() throws {
        let schema = WireSchema.reduced(Self.bounded, for: .openAIStrict)
        let properties = try #require(schema["properties"])
        #expect(properties["name"] == ["type": "string", "pattern": "^[a-z-]+$", "description": "(limits: minLength: 1, maxLength: 80)"])
        #expect(properties["when"] == ["type": "string", "format": "date-time"])
        #expect(properties["kind"] == ["type": "string", "description": "(limits: format: \"slug\")"])
        #expect(properties["count"] == ["type": "integer", "minimum": 1, "maximum": 50])
        #expect(properties["tasks"]?["maxItems"] == 120)
        #expect(properties["tasks"]?["minItems"] == 1)
        #expect(properties["tasks"]?["uniqueItems"] == nil)
        #expect(properties["tasks"]?["items"]?["additionalProperties"] == false)
        #expect(properties["note"] == ["type": ["string", "null"], "description": "Optional.\n\n(limits: maxLength: 300)"])
        #expect(schema["required"] == Self.bounded["required"])
        #expect(WireSchema.droppedKeywords(schema, for: .openAIStrict).isEmpty)
        #expect(WireSchema.droppedKeywords(Self.bounded, for: .openAIStrict) == ["minLength", "maxLength", "format", "uniqueItems"])
    }

    @Test func anthropicStrictKeepsNoBoundsAndSplitsNullableTypes() throws {
        let schema = WireSchema.reduced(Self.bounded, for: .anthropicStrict)
        let properties = try #require(schema["properties"])
        #expect(properties["name"]?["maxLength"] == nil)
        #expect(properties["name"]?["pattern"] == nil)
        #expect(properties["name"]?["description"]?.stringValue?.contains("pattern: \"^[a-z-]+$\"") == true)
        #expect(properties["when"] == ["type": "string", "format": "date-time"])
        #expect(properties["count"] == ["type": "integer", "description": "(limits: minimum: 1, maximum: 50)"])
        #expect(properties["tasks"]?["minItems"] == 1) // 0 and 1 are accepted
        #expect(properties["tasks"]?["maxItems"] == nil)
        #expect(properties["tasks"]?["items"]?["properties"]?["id"] == ["type": "integer", "description": "(limits: minimum: 1)"])
        #expect(properties["note"] == ["description": "Optional.",
                                       "anyOf": [["type": "string", "description": "(limits: maxLength: 300)"], ["type": "null"]]])
        #expect(WireSchema.droppedKeywords(schema, for: .anthropicStrict).isEmpty)
    }

    @Test func aSchemaWithinTheSubsetIsUnchanged() {
        let plain: JSONValue = [
            "type": "object",
            "properties": ["file": ["type": "string"], "kind": ["type": "string", "enum": ["code", "test"]],
                           "lines": ["type": "array", "items": ["type": "integer"]]],
            "required": ["file", "kind", "lines"],
            "additionalProperties": false,
        ]
        #expect(WireSchema.reduced(plain, for: .openAIStrict) == plain)
        #expect(WireSchema.reduced(plain, for: .anthropicStrict) == plain)
    }

    @Test(arguments: [
        ("claude-sonnet-4-5-20250929", true, 1_024), ("claude-sonnet-4-5", true, 1_024), ("claude-opus-4-6", true, 4_096),
        ("claude-haiku-4-5", true, 4_096), ("claude-sonnet-4-6", true, 2_048), ("claude-opus-4-1", false, 1_024),
        ("claude-sonnet-4-0", false, 1_024), ("claude-3-5-haiku-latest", false, 2_048), ("claude-3-7-sonnet-20250219", false, 1_024),
        ("us.anthropic.claude-sonnet-4-5-20250929-v1:0", true, 1_024), ("anthropic/claude-opus-4-5", true, 4_096),
        ("claude-opus-5", true, 4_096), ("my-gateway-alias", false, 4_096), ("gpt-4.1", false, 4_096),
    ])
    func whatAClaudeModelSupports(model: String, native: Bool, minimumCacheable: Int) {
        #expect(AnthropicWire.supportsNativeStructuredOutputs(model) == native)
        #expect(AnthropicWire.minimumCacheableTokens(model) == minimumCacheable)
    }

    @Test func wordsAreMatchedWhole() {
        let failure = ProviderFailure(status: 400, message: "This organization is restricted; tools.0.strict: Extra inputs are not permitted")
        #expect(failure.names(anyOf: ["strict"]))
        #expect(!ProviderFailure(status: 400, message: "This organization is restricted").names(anyOf: ["strict"]))
        #expect(!ProviderFailure(status: 500, message: "ecosystem failure").names(anyOf: ["system"]))
    }
}
