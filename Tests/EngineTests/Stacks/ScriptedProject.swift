import JSON
import LLM

/// What the stack fixtures (`NotesAPIFixture`, `CSVToJSONFixture`) share: a scripted model whose
/// generation answers and reference files they give, with cassette entries, atom answers and every atom
/// answered with its reference content built the same way.
protocol ScriptedProject {
    static var discovery: String { get }
    static var plan: String { get }
    static var acceptanceTestsJSON: JSONValue { get }
    /// Every file the plan writes with its reference content, which passes the acceptance tests.
    static var files: [(path: String, content: String)] { get }
    /// The number of the task that writes each file.
    static var tasks: [String: Int] { get }
}

extension ScriptedProject {
    static var model: String { "gpt-4.1-mini" }

    /// One cassette entry answering `purpose`/`key` with `response` and plausible token counts.
    static func entry(_ purpose: LLMRequest.Purpose, _ key: String, _ response: String) -> CassetteEntry {
        CassetteEntry(purpose: purpose.rawValue, key: key, response: response, model: model,
                      usage: LLMUsage(inputTokens: 900 + response.utf8.count / 8, outputTokens: response.utf8.count / 4,
                                      cachedInputTokens: 0))
    }

    /// The calls of a generation that goes right the first time, with `tests` as the acceptance tests.
    static func generation(tests: JSONValue = acceptanceTestsJSON) -> [CassetteEntry] {
        [entry(.discovery, "discovery", discovery), entry(.masterplan, "masterplan", plan),
         entry(.acceptanceTests, "acceptance_tests", tests.jsonText)]
    }

    static func reference(_ path: String) -> String { files.first { $0.path == path }!.content }

    /// An atom answer: the JSON document the atom schema asks for.
    static func atom(_ path: String, _ content: String, notes: String = "") -> String {
        JSONValue(["file": .string(path), "content": .string(content), "notes": .string(notes)]).jsonText
    }

    /// Every atom answered with its reference content, except `overrides`, whose answers come in order.
    static func atoms(overriding overrides: [String: [String]] = [:]) -> [CassetteEntry] {
        files.flatMap { path, content in
            (overrides[path] ?? [atom(path, content)]).map { entry(.atom, "task-\(tasks[path]!)/\(path)", $0) }
        }
    }
}
