import Crypto
import Foundation
import JSON
import LLM
import PlanCore

/// The values the atom, atom-repair, gate-repair and review-suggestion prompts are filled with.
///
/// Keys of the requests (what replay cassettes match on, with the purpose) are fixed per atom:
/// `task-<number>/<file>` for every call about that atom — its attempts, its gate repairs and its
/// review suggestions — so a cassette scripts an atom's successive answers in file order.
public enum AtomPrompts {
    /// The request key of every call about the atom of `taskNumber` writing `path`.
    public static func key(taskNumber: Int, path: String) -> String { "task-\(taskNumber)/\(path)" }

    struct Context: Sendable {
        var projectName: String
        var techStackJSON: String
        var task: PlanTask
        var path: String
        /// Current content of files its dependencies produced, path → text.
        var dependencyFiles: [(path: String, content: String)]
        var fileCharacters: Int
    }

    static func common(_ context: Context) -> [String: String] {
        [
            "project_name": context.projectName,
            "tech_stack": context.techStackJSON,
            "task_number": String(context.task.number),
            "task_name": context.task.name,
            "task_description": context.task.description,
            "acceptance": acceptance(context.task),
            "file": context.path,
            "dependency_files": dependencyFiles(context),
        ]
    }

    static func subtasks(_ task: PlanTask) -> String {
        task.subtasks.isEmpty ? "(none)" : task.subtasks.map { "\($0.number). \($0.name): \($0.description)" }.joined(separator: "\n")
    }

    static func acceptance(_ task: PlanTask) -> String {
        task.acceptance.isEmpty ? "(none)"
            : task.acceptance.map { "- [\($0.priority == .must ? "MUST" : "SHOULD")] \($0.text)" }.joined(separator: "\n")
    }

    static func dependencyFiles(_ context: Context) -> String {
        context.dependencyFiles.map { file in
            "----- \(file.path) -----\n\(cut(file.content, to: context.fileCharacters))\n----- end -----"
        }.joined(separator: "\n\n")
    }

    /// The first request for an atom: write the file.
    static func generate(_ context: Context, currentContent: String?, temperature: Double, maxTokens: Int) throws -> LLMRequest {
        var values = common(context)
        values["subtasks"] = subtasks(context.task)
        values["current_content"] = currentContent.map { cut($0, to: context.fileCharacters) } ?? ""
        return try PromptTemplate.load(.atom).request(values, key: key(taskNumber: context.task.number, path: context.path),
                                                       temperature: temperature, maxTokens: maxTokens)
    }

    /// A retry: the previous version and what the checks (or a reviewer) found.
    static func repair(_ context: Context, attempt: Int, previousContent: String, errors: String, temperature: Double,
                       maxTokens: Int) throws -> LLMRequest {
        var values = common(context)
        values["subtasks"] = subtasks(context.task)
        values["attempt"] = String(attempt)
        values["previous_content"] = previousContent.isEmpty ? "(empty)" : cut(previousContent, to: context.fileCharacters)
        values["errors"] = errors
        return try PromptTemplate.load(.atomRepair).request(values, key: key(taskNumber: context.task.number, path: context.path),
                                                             temperature: temperature, maxTokens: maxTokens)
    }

    /// A Gate S repair round: the failing tests and their output.
    static func gateRepair(_ context: Context, currentContent: String, failingTests: String, testOutput: String,
                           temperature: Double, maxTokens: Int) throws -> LLMRequest {
        var values = common(context)
        values["current_content"] = currentContent.isEmpty ? "(empty)" : cut(currentContent, to: context.fileCharacters)
        values["failing_tests"] = failingTests
        values["test_output"] = testOutput.isEmpty ? "(no output)" : testOutput
        return try PromptTemplate.load(.gateRepair).request(values, key: key(taskNumber: context.task.number, path: context.path),
                                                             temperature: temperature, maxTokens: maxTokens)
    }

    /// Suggestions for a review of the atom.
    static func suggestions(task: PlanTask, path: String, reason: String, confidence: Double, validation: String,
                            content: String, fileCharacters: Int) throws -> LLMRequest {
        let values: [String: String] = [
            "task_number": String(task.number), "task_name": task.name, "task_description": task.description,
            "acceptance": acceptance(task), "reason": reason, "confidence": String(format: "%.2f", confidence),
            "validation": validation.isEmpty ? "(none)" : validation, "file": path,
            "content": content.isEmpty ? "(empty)" : cut(content, to: fileCharacters),
        ]
        return try PromptTemplate.load(.reviewSuggestions).request(values, key: key(taskNumber: task.number, path: path),
                                                                    temperature: 0.3, maxTokens: 4096)
    }

    /// `text` cut to `limit` characters, saying how much was left out.
    static func cut(_ text: String, to limit: Int) -> String {
        guard text.count > limit else { return text }
        return String(text.prefix(limit)) + "\n… (\(text.count - limit) more characters not shown)"
    }

    /// Lowercase hex SHA-256 of the UTF-8 bytes of `text`.
    static func sha256(_ text: String) -> String {
        SHA256.hash(data: Array(text.utf8)).map { String(format: "%02x", $0) }.joined()
    }

    /// The digest of a request as sent (system, messages, temperature), for `atom_attempts.prompt_digest`.
    static func digest(_ request: LLMRequest) -> String {
        var text = request.system + "\u{1}" + String(request.temperature)
        for message in request.flattenedMessages { text += "\u{1}" + message.role.rawValue + "\u{2}" + message.content }
        return sha256(text)
    }
}
