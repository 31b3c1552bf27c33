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

    /// The part of the atom, atom-repair and gate-repair prompts that every atom of a plan shares,
    /// word for word: the project, its tech stack, the plan's summary, every task with the files it
    /// writes and the tasks it depends on, and which tasks use each file. It fills the templates'
    /// `=== context ===` part, which becomes the request's `sharedContext` (the prompt-cache prefix,
    /// see `LLMRequest.sharedContext`), so it holds nothing of one atom and nothing that changes
    /// during a run: it is built once per `PlanRun` from the plan as approved, in document order.
    struct PlanContext: Sendable, Equatable {
        /// The template values `project_name`, `tech_stack`, `plan_summary`, `plan_tasks` and `plan_files`.
        let values: [String: String]

        /// Characters of a task's description in the task list; longer ones are cut (and the list says so),
        /// so the context of a 120-task plan stays near 10,000 tokens.
        static let descriptionCharacters = 160
        /// Characters of the plan's own summary.
        static let summaryCharacters = 1_000

        init(projectName: String, techStackJSON: String, plan: ValidatedPlan) {
            values = [
                "project_name": projectName,
                "tech_stack": techStackJSON,
                "plan_summary": Self.clip(plan.plan.summary, to: Self.summaryCharacters),
                "plan_tasks": Self.taskList(plan.tasks),
                "plan_files": Self.fileList(plan.tasks),
            ]
        }

        /// One entry per task: number, name, files, dependencies, and the description (cut).
        static func taskList(_ tasks: [PlanTask]) -> String {
            var lines = ["Tasks (\(tasks.count); descriptions longer than \(descriptionCharacters) characters are cut, marked …):"]
            for task in tasks {
                var head = "\(task.number). \(oneLine(task.name)) [writes \(task.files.joined(separator: ", "))"
                if !task.dependsOn.isEmpty { head += "; after \(task.dependsOn.sorted().map(String.init).joined(separator: ", "))" }
                lines.append(head + "]")
                let description = clip(task.description, to: descriptionCharacters)
                if !description.isEmpty { lines.append("   " + description) }
            }
            return lines.joined(separator: "\n")
        }

        /// One line per file: the task that writes it and the tasks that depend on that task (the
        /// files' readers), so a file's interface is clear from both sides.
        static func fileList(_ tasks: [PlanTask]) -> String {
            var dependents: [Int: [Int]] = [:]
            for task in tasks {
                for dependency in Set(task.dependsOn) { dependents[dependency, default: []].append(task.number) }
            }
            var lines = ["Files (path: the task that writes it; the tasks that depend on that task and may use the file):"]
            for task in tasks {
                let users = (dependents[task.number] ?? []).sorted()
                let use = users.isEmpty ? "" : "; used by \(users.count == 1 ? "task" : "tasks") \(users.map(String.init).joined(separator: ", "))"
                for file in task.files { lines.append("\(file): task \(task.number)\(use)") }
            }
            return lines.joined(separator: "\n")
        }

        /// `text` on one line (runs of white space as one space), cut to `limit` characters with `…`.
        static func clip(_ text: String, to limit: Int) -> String {
            let line = oneLine(text)
            guard line.count > limit else { return line }
            return String(line.prefix(limit - 1)) + "…"
        }

        static func oneLine(_ text: String) -> String {
            text.split(whereSeparator: \.isWhitespace).joined(separator: " ")
        }
    }

    struct Context: Sendable {
        /// What every atom of the plan shares.
        var plan: PlanContext
        var task: PlanTask
        var path: String
        /// Current content of files its dependencies produced, path → text.
        var dependencyFiles: [(path: String, content: String)]
        var fileCharacters: Int
    }

    static func common(_ context: Context) -> [String: String] {
        context.plan.values.merging([
            "task_number": String(context.task.number),
            "task_name": context.task.name,
            "task_description": context.task.description,
            "acceptance": acceptance(context.task),
            "file": context.path,
            "dependency_files": dependencyFiles(context),
        ]) { shared, _ in shared }
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
