import JSON
import PlanCore

/// JSON schemas of the answers that PlanCore does not define (atoms, review suggestions, chat), in
/// the subset that OpenAI's strict mode, Anthropic's tool input schemas and llama.cpp's grammars all
/// accept: every member required, no others, nullable members as `["string", "null"]`.
public enum AnswerSchemas {
    /// One generated file: `{"file", "content", "notes"}`.
    public static var atomFile: JSONValue {
        object(["file": string, "content": string, "notes": string], order: ["file", "content", "notes"])
    }

    /// Suggestions for a review.
    public static var reviewSuggestions: JSONValue {
        let suggestion = object(["title": string, "detail": string, "severity": ["type": "string", "enum": ["high", "medium", "low"]]],
                                order: ["title", "detail", "severity"])
        return object([
            "summary": string,
            "recommended_action": ["type": "string", "enum": ["approve", "edit", "regenerate", "reject"]],
            "suggestions": ["type": "array", "items": suggestion],
            "proposed_content": ["type": ["string", "null"]],
        ], order: ["summary", "recommended_action", "suggestions", "proposed_content"])
    }

    /// A chat reply: `{"reply", "plan_request"}`.
    public static var chatReply: JSONValue {
        object(["reply": string, "plan_request": ["type": ["string", "null"]]], order: ["reply", "plan_request"])
    }

    private static let string: JSONValue = ["type": "string"]

    private static func object(_ properties: [String: JSONValue], order: [String]) -> JSONValue {
        var members = JSONObject()
        for name in order { members[name] = properties[name] }
        return ["type": "object", "properties": .object(members), "required": JSONValue(order), "additionalProperties": false]
    }
}

/// An atom's answer: the file it wrote.
public struct AtomFileAnswer: Sendable, Hashable {
    public var file: String
    public var content: String
    public var notes: String
}

/// A review's AI suggestions.
public struct ReviewSuggestionsAnswer: Sendable, Hashable {
    public struct Suggestion: Sendable, Hashable {
        public var title: String
        public var detail: String
        public var severity: String
    }
    public var summary: String
    public var recommendedAction: String
    public var suggestions: [Suggestion]
    public var proposedContent: String?
    /// The answer as JSON, for `reviews.ai_suggestions`.
    public var json: JSONValue
}

/// A chat reply.
public struct ChatReplyAnswer: Sendable, Hashable {
    public var reply: String
    public var planRequest: String?
}

/// An answer that does not follow its schema; the message is fit to send back to the model.
public struct AnswerParseError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public var description: String { message }
}

/// Reads the answers of `AnswerSchemas` (the JSON may be fenced or surrounded by prose, as with
/// PlanCore's parser).
public enum AnswerParser {
    public static func atomFile(_ answer: String) throws(AnswerParseError) -> AtomFileAnswer {
        let json = try document(answer)
        return AtomFileAnswer(file: try text(json, "file"), content: try text(json, "content"), notes: (try? text(json, "notes")) ?? "")
    }

    public static func reviewSuggestions(_ answer: String) throws(AnswerParseError) -> ReviewSuggestionsAnswer {
        let json = try document(answer)
        let action = try text(json, "recommended_action")
        guard ["approve", "edit", "regenerate", "reject"].contains(action) else {
            throw AnswerParseError(message: "recommended_action must be approve, edit, regenerate or reject, not \"\(action)\"")
        }
        guard let list = json["suggestions"]?.arrayValue else { throw AnswerParseError(message: "suggestions must be an array") }
        var suggestions: [ReviewSuggestionsAnswer.Suggestion] = []
        for (i, item) in list.enumerated() {
            guard let title = item["title"]?.stringValue, let detail = item["detail"]?.stringValue,
                  let severity = item["severity"]?.stringValue, ["high", "medium", "low"].contains(severity) else {
                throw AnswerParseError(message: "suggestions[\(i)] needs a title, a detail and a severity of high, medium or low")
            }
            suggestions.append(.init(title: title, detail: detail, severity: severity))
        }
        return ReviewSuggestionsAnswer(summary: try text(json, "summary"), recommendedAction: action, suggestions: suggestions,
                                       proposedContent: json["proposed_content"]?.stringValue, json: json)
    }

    public static func chatReply(_ answer: String) throws(AnswerParseError) -> ChatReplyAnswer {
        let json = try document(answer)
        let request = json["plan_request"]?.stringValue
        return ChatReplyAnswer(reply: try text(json, "reply"), planRequest: (request?.isEmpty ?? true) ? nil : request)
    }

    private static func document(_ answer: String) throws(AnswerParseError) -> JSONValue {
        do {
            var options = PlanParseOptions.default
            options.allowControlCharactersInStrings = true
            return try PlanParser(options: options).jsonObject(in: answer)
        } catch {
            throw AnswerParseError(message: error.repairInstructions(maxListed: 5))
        }
    }

    private static func text(_ json: JSONValue, _ name: String) throws(AnswerParseError) -> String {
        guard let value = json[name]?.stringValue else {
            throw AnswerParseError(message: "the answer needs a string member \"\(name)\"")
        }
        return value
    }
}
