import JSON
import PlanCore

/// JSON schemas of the answers that PlanCore does not define (atoms, review suggestions, chat), in
/// the subset that OpenAI's strict mode, Anthropic's tool input schemas and llama.cpp's grammars all
/// accept: every member required, no others, nullable members as `["string", "null"]`.
///
/// Every string has a `maxLength` and every array a `maxItems`, so a model under a grammar cannot loop
/// until its context is full; the numbers are the ones `AnswerParser` and the engine apply
/// (`AnswerLimits`), never a copy of them.
public enum AnswerSchemas {
    /// One generated file: `{"file", "content", "notes"}`.
    ///
    /// `file` must equal the atom's path, which plan validation already held to `maxPathLength`.
    /// `content` is held to the workspace's `maxFileBytes` bytes by the engine; a schema counts code
    /// points, so it states the same number, which never refuses a file the engine accepts.
    public static var atomFile: JSONValue {
        object(["file": string(min: 1, max: AnswerLimits.plan.maxPathLength),
                "content": string(max: AnswerLimits.plan.maxFileBytes),
                "notes": string(max: AnswerLimits.plan.maxTextLength)],
               order: ["file", "content", "notes"])
    }

    /// Suggestions for a review.
    public static var reviewSuggestions: JSONValue {
        let text = string(max: AnswerLimits.plan.maxTextLength)
        let suggestion = object(["title": text, "detail": text,
                                 "severity": ["type": "string", "enum": JSONValue(AnswerLimits.severities)]],
                                order: ["title", "detail", "severity"])
        return object([
            "summary": text,
            "recommended_action": ["type": "string", "enum": JSONValue(AnswerLimits.reviewActions)],
            "suggestions": ["type": "array", "items": suggestion, "maxItems": JSONValue(AnswerLimits.maxReviewSuggestions)],
            "proposed_content": ["type": ["string", "null"], "maxLength": JSONValue(AnswerLimits.plan.maxFileBytes)],
        ], order: ["summary", "recommended_action", "suggestions", "proposed_content"])
    }

    /// A chat reply: `{"reply", "plan_request"}`.
    public static var chatReply: JSONValue {
        object(["reply": string(max: AnswerLimits.plan.maxTextLength),
                "plan_request": ["type": ["string", "null"], "maxLength": JSONValue(AnswerLimits.plan.maxTextLength)]],
               order: ["reply", "plan_request"])
    }

    private static func string(min: Int = 0, max: Int) -> JSONValue {
        var schema: JSONObject = ["type": "string"]
        if min > 0 { schema["minLength"] = JSONValue(min) }
        schema["maxLength"] = JSONValue(max)
        return .object(schema)
    }

    private static func object(_ properties: [String: JSONValue], order: [String]) -> JSONValue {
        var members = JSONObject()
        for name in order { members[name] = properties[name] }
        return ["type": "object", "properties": .object(members), "required": JSONValue(order), "additionalProperties": false]
    }
}

/// The bounds of the answers of `AnswerSchemas`, shared by the schemas and `AnswerParser`.
public enum AnswerLimits {
    /// Texts, paths and file sizes follow the plan's own limits.
    public static let plan = PlanLimits.default
    /// Suggestions in one review's answer.
    public static let maxReviewSuggestions = 20
    /// The words of `recommended_action`.
    public static let reviewActions = ["approve", "edit", "regenerate", "reject"]
    /// The words of a suggestion's `severity`.
    public static let severities = ["high", "medium", "low"]
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
    /// The file, its content and the notes; the content's size is the engine's to check (it knows the workspace's limit).
    public static func atomFile(_ answer: String) throws(AnswerParseError) -> AtomFileAnswer {
        let json = try document(answer)
        let notes = (try? text(json, "notes")) ?? ""
        try bounded(notes, "notes")
        return AtomFileAnswer(file: try text(json, "file"), content: try text(json, "content"), notes: notes)
    }

    public static func reviewSuggestions(_ answer: String) throws(AnswerParseError) -> ReviewSuggestionsAnswer {
        let json = try document(answer)
        let action = try text(json, "recommended_action")
        guard AnswerLimits.reviewActions.contains(action) else {
            throw AnswerParseError(message: "recommended_action must be approve, edit, regenerate or reject, not \"\(action)\"")
        }
        guard let list = json["suggestions"]?.arrayValue else { throw AnswerParseError(message: "suggestions must be an array") }
        guard list.count <= AnswerLimits.maxReviewSuggestions else {
            throw AnswerParseError(message: "suggestions has \(list.count) entries, more than the limit of \(AnswerLimits.maxReviewSuggestions)")
        }
        var suggestions: [ReviewSuggestionsAnswer.Suggestion] = []
        for (i, item) in list.enumerated() {
            guard let title = item["title"]?.stringValue, let detail = item["detail"]?.stringValue,
                  let severity = item["severity"]?.stringValue, AnswerLimits.severities.contains(severity) else {
                throw AnswerParseError(message: "suggestions[\(i)] needs a title, a detail and a severity of high, medium or low")
            }
            try bounded(title, "suggestions[\(i)].title")
            try bounded(detail, "suggestions[\(i)].detail")
            suggestions.append(.init(title: title, detail: detail, severity: severity))
        }
        let summary = try text(json, "summary")
        try bounded(summary, "summary")
        let proposed = json["proposed_content"]?.stringValue
        if let proposed, proposed.utf8.count > AnswerLimits.plan.maxFileBytes {
            throw AnswerParseError(message: "proposed_content is \(proposed.utf8.count) bytes long, more than the limit of \(AnswerLimits.plan.maxFileBytes) for a file")
        }
        return ReviewSuggestionsAnswer(summary: summary, recommendedAction: action, suggestions: suggestions,
                                       proposedContent: proposed, json: json)
    }

    public static func chatReply(_ answer: String) throws(AnswerParseError) -> ChatReplyAnswer {
        let json = try document(answer)
        let request = json["plan_request"]?.stringValue
        let reply = try text(json, "reply")
        try bounded(reply, "reply")
        if let request { try bounded(request, "plan_request") }
        return ChatReplyAnswer(reply: reply, planRequest: (request?.isEmpty ?? true) ? nil : request)
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

    /// A text within `PlanLimits.maxTextLength` code points, the `maxLength` of its schema.
    private static func bounded(_ value: String, _ name: String) throws(AnswerParseError) {
        let limit = AnswerLimits.plan.maxTextLength
        guard value.utf8.count > limit else { return }
        let length = value.unicodeScalars.count
        if length > limit {
            throw AnswerParseError(message: "\(name) is \(length) characters long, more than the limit of \(limit)")
        }
    }

    private static func text(_ json: JSONValue, _ name: String) throws(AnswerParseError) -> String {
        guard let value = json[name]?.stringValue else {
            throw AnswerParseError(message: "the answer needs a string member \"\(name)\"")
        }
        return value
    }
}
