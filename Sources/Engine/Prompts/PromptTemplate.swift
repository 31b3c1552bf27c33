import Foundation
import JSON
import LLM
import PlanCore
import Synchronization

/// A prompt, one per kind of call, kept as a plain-text resource (`Resources/prompts/NAME.txt`) with
/// a system part and a user part, paired with the JSON schema of the answer it asks for.
///
/// Template syntax: `{{name}}` is replaced by a value; `{{#name}}…{{/name}}` is kept only when the
/// value is not empty (for optional parts such as reviewer feedback). Every `{{name}}` needs a value
/// and every value a `{{name}}`, so a renamed field cannot silently drop out of a prompt. The system
/// parts have no variables: they are identical from call to call. An optional `=== context ===` part
/// between them holds what many calls share word for word (a plan's summary for each of its atoms):
/// it becomes the request's `sharedContext`, the prompt-cache breakpoint.
public struct PromptTemplate: Sendable {
    public enum Kind: String, Sendable, CaseIterable {
        case discovery
        case masterplan
        case planRepair = "plan_repair"
        case acceptanceTests = "acceptance_tests"
        case atom
        case atomRepair = "atom_repair"
        case gateRepair = "gate_repair"
        case reviewSuggestions = "review_suggestions"
        case chat

        /// The `llm_calls.purpose` of calls made with this prompt (an atom's retries are atom calls).
        public var purpose: LLMRequest.Purpose {
            switch self {
            case .discovery: .discovery
            case .masterplan: .masterplan
            case .planRepair: .planRepair
            case .acceptanceTests: .acceptanceTests
            case .atom, .atomRepair: .atom
            case .gateRepair: .gateRepair
            case .reviewSuggestions: .reviewSuggestions
            case .chat: .chat
            }
        }

        /// The schema of the answer.
        public var answerSchema: JSONValue {
            switch self {
            case .discovery: PlanJSONSchema.discovery
            case .masterplan, .planRepair: PlanJSONSchema.plan
            case .acceptanceTests: PlanJSONSchema.acceptanceTests
            case .atom, .atomRepair, .gateRepair: AnswerSchemas.atomFile
            case .reviewSuggestions: AnswerSchemas.reviewSuggestions
            case .chat: AnswerSchemas.chatReply
            }
        }
    }

    public let kind: Kind
    /// The system part, verbatim.
    public let system: String
    /// The shared-context part, with placeholders; empty when the template has none.
    public let context: String
    /// The user part, with placeholders.
    public let user: String

    /// The placeholders of the context and user parts, in order of first appearance.
    public var placeholders: [String] {
        var names = Self.placeholderNames(in: context)
        for name in Self.placeholderNames(in: user) where !names.contains(name) { names.append(name) }
        return names
    }

    /// The schema of the answer.
    public var answerSchema: JSONValue { kind.answerSchema }

    /// Templates already read, by kind: each resource is read and parsed once per process.
    private static let loaded = Mutex<[Kind: PromptTemplate]>([:])

    /// The template from the module's resources, read and parsed on first use.
    public static func load(_ kind: Kind) throws(PromptTemplateError) -> PromptTemplate {
        // The lock is held while reading, so two first calls cannot both read the file; a failure is
        // not remembered (a missing resource is a packaging error, and every call reports it).
        try loaded.withLock { templates throws(PromptTemplateError) in
            if let template = templates[kind] { return template }
            let template = try read(kind)
            templates[kind] = template
            return template
        }
    }

    /// True once `load` has read the kind's template.
    static func isLoaded(_ kind: Kind) -> Bool {
        loaded.withLock { $0[kind] != nil }
    }

    private static func read(_ kind: Kind) throws(PromptTemplateError) -> PromptTemplate {
        guard let url = Bundle.module.url(forResource: kind.rawValue, withExtension: "txt", subdirectory: "Resources/prompts")
            ?? Bundle.module.url(forResource: kind.rawValue, withExtension: "txt", subdirectory: "prompts"),
            let data = FileManager.default.contents(atPath: url.path) else {
            throw PromptTemplateError(kind: kind, message: "the prompt template prompts/\(kind.rawValue).txt is missing from the Engine module's resources")
        }
        return try parse(String(decoding: data, as: UTF8.self), kind: kind)
    }

    /// Splits a template text into its `=== system ===`, optional `=== context ===` and `=== user ===` parts.
    public static func parse(_ text: String, kind: Kind) throws(PromptTemplateError) -> PromptTemplate {
        let systemMarker = "=== system ===\n"
        let contextMarker = "\n=== context ===\n"
        let userMarker = "\n=== user ===\n"
        guard text.hasPrefix(systemMarker), let split = text.range(of: userMarker) else {
            throw PromptTemplateError(kind: kind, message: "a template starts with \"=== system ===\" and has a \"=== user ===\" line")
        }
        let head = text[text.index(text.startIndex, offsetBy: systemMarker.count)..<split.lowerBound]
        var system = String(head)
        var context = ""
        if let contextSplit = head.range(of: contextMarker) {
            system = String(head[..<contextSplit.lowerBound])
            context = String(head[contextSplit.upperBound...]).trimmingCharacters(in: .newlines)
        }
        if text[split.upperBound...].contains("=== context ===") {
            throw PromptTemplateError(kind: kind, message: "the \"=== context ===\" part comes before \"=== user ===\"")
        }
        var user = String(text[split.upperBound...])
        while user.hasSuffix("\n") { user.removeLast() }
        if !placeholderNames(in: system).isEmpty {
            throw PromptTemplateError(kind: kind, message: "the system part must not have placeholders (it is cached between calls)")
        }
        return PromptTemplate(kind: kind, system: system.trimmingCharacters(in: .whitespacesAndNewlines), context: context, user: user)
    }

    /// The user part with every placeholder filled.
    public func renderUser(_ values: [String: String]) throws(PromptTemplateError) -> String {
        try checkValues(values)
        return Self.render(user, values)
    }

    /// The context part with every placeholder filled ("" when the template has none).
    public func renderContext(_ values: [String: String]) throws(PromptTemplateError) -> String {
        try checkValues(values)
        return Self.render(context, values)
    }

    /// Every placeholder of the context and user parts has a value, and every value a placeholder.
    private func checkValues(_ values: [String: String]) throws(PromptTemplateError) {
        let names = placeholders
        if let missing = names.first(where: { values[$0] == nil }) {
            throw PromptTemplateError(kind: kind, message: "no value for {{\(missing)}} (the template needs: \(names.joined(separator: ", ")))")
        }
        if let extra = values.keys.sorted().first(where: { !names.contains($0) }) {
            throw PromptTemplateError(kind: kind, message: "the template has no {{\(extra)}} (it takes: \(names.joined(separator: ", ")))")
        }
    }

    private static func render(_ part: String, _ values: [String: String]) -> String {
        let names = placeholderNames(in: part)
        var text = part
        // Optional sections first, then plain placeholders.
        for name in names {
            let open = "{{#\(name)}}", close = "{{/\(name)}}"
            while let start = text.range(of: open), let end = text.range(of: close, range: start.upperBound..<text.endIndex) {
                let inner = String(text[start.upperBound..<end.lowerBound])
                text.replaceSubrange(start.lowerBound..<end.upperBound, with: (values[name] ?? "").isEmpty ? "" : inner)
            }
        }
        var result = ""
        var rest = text[...]
        while let start = rest.range(of: "{{") {
            result += rest[..<start.lowerBound]
            guard let end = rest.range(of: "}}", range: start.upperBound..<rest.endIndex) else {
                result += rest[start.lowerBound...]
                rest = ""
                break
            }
            let name = String(rest[start.upperBound..<end.lowerBound])
            result += values[name] ?? ""
            rest = rest[end.upperBound...]
        }
        result += rest
        return result
    }

    /// A request for this prompt: the system part, the rendered context part (shared by the calls that
    /// fill it with the same values), earlier turns (a chat's history), then the rendered user part;
    /// the answer schema attached.
    public func request(_ values: [String: String], key: String, history: [LLMRequest.Message] = [],
                        temperature: Double = 0.7, maxTokens: Int = 8192) throws(PromptTemplateError) -> LLMRequest {
        LLMRequest(purpose: kind.purpose, system: system, sharedContext: try renderContext(values),
                   messages: history + [LLMRequest.Message(role: .user, content: try renderUser(values))],
                   temperature: temperature, maxTokens: maxTokens, jsonSchema: answerSchema, key: key)
    }

    /// Names inside `{{…}}`, without the `#`/`/` of section markers, in order of first appearance.
    static func placeholderNames(in text: String) -> [String] {
        var names: [String] = []
        var rest = text[...]
        while let start = rest.range(of: "{{"), let end = rest.range(of: "}}", range: start.upperBound..<rest.endIndex) {
            var name = String(rest[start.upperBound..<end.lowerBound])
            if name.hasPrefix("#") || name.hasPrefix("/") { name.removeFirst() }
            if !name.isEmpty, !names.contains(name) { names.append(name) }
            rest = rest[end.upperBound...]
        }
        return names
    }
}

/// A template that is missing, malformed, or rendered with the wrong values.
public struct PromptTemplateError: Error, Sendable, CustomStringConvertible {
    public var kind: PromptTemplate.Kind
    public var message: String
    public var description: String { "prompt \(kind.rawValue): \(message)" }
}
