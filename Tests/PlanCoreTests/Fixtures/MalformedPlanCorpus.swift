import JSON
import Testing
@testable import PlanCore

/// One problem a malformed answer must produce: its kind, its exact path, and words its message must contain.
struct ExpectedProblem: Sendable {
    let kind: PlanProblem.Kind
    let path: String
    let message: String

    init(_ kind: PlanProblem.Kind, _ path: String, _ message: String) {
        self.kind = kind
        self.path = path
        self.message = message
    }
}

/// A malformed LLM answer and every problem it must produce, in order.
struct MalformedPlan: Sendable, CustomTestStringConvertible {
    let name: String
    let answer: String
    let expected: [ExpectedProblem]

    init(_ name: String, _ answer: String, _ expected: ExpectedProblem...) {
        self.name = name
        self.answer = answer
        self.expected = expected
    }

    var testDescription: String { name }
}

/// The corpus of malformed plans: truncation, syntax, wrong types, missing and unknown members, unknown
/// words, dependencies and cycles, hostile paths, duplicates, bounds, nesting.
enum MalformedPlanCorpus {
    // Paths of the sample plan's tasks.
    static let t1 = "phases[0].milestones[0].tasks[0]"
    static let t2 = "phases[0].milestones[0].tasks[1]"
    static let t3 = "phases[1].milestones[0].tasks[0]"
    static let t4 = "phases[1].milestones[0].tasks[1]"
    static let t5 = "phases[1].milestones[0].tasks[2]"
    static let t6 = "phases[1].milestones[0].tasks[3]"
    static let t7 = "phases[2].milestones[0].tasks[0]"

    static func path(_ text: String) -> JSONPath { JSONPath(parsing: text) }

    static func change(_ pathText: String, _ value: JSONValue?) -> String {
        SamplePlan.changing(path(pathText), to: value)
    }

    static func file(of task: String, _ value: String) -> String { change("\(task).files[0]", .string(value)) }

    static let all: [MalformedPlan] = syntax + schema + semantics + paths + bounds

    static let syntax: [MalformedPlan] = [
        MalformedPlan("truncated in the middle", String(SamplePlan.text.prefix(SamplePlan.text.count / 2)),
                      ExpectedProblem(.invalidJSON, "(root)", "looks cut off")),
        MalformedPlan("truncated inside the first string", "```json\n{\"project_name\": \"Todo A",
                      ExpectedProblem(.invalidJSON, "(root)", "the closing '\"' of a string was expected at line 2, column 25")),
        MalformedPlan("empty answer", "", ExpectedProblem(.noJSON, "(root)", "contains no JSON object")),
        MalformedPlan("prose without JSON", "I cannot produce a plan for this request.",
                      ExpectedProblem(.noJSON, "(root)", "contains no JSON object")),
        MalformedPlan("trailing comma", "{\"project_name\": \"x\",}",
                      ExpectedProblem(.invalidJSON, "(root)", "expected a member name in double quotes at line 1, column 22")),
        MalformedPlan("single quotes", "{'project_name': 'x'}",
                      ExpectedProblem(.invalidJSON, "(root)", "expected a member name in double quotes at line 1, column 2")),
        MalformedPlan("comment inside the object", "{\"project_name\": \"x\" // the name\n}",
                      ExpectedProblem(.invalidJSON, "(root)", "expected ',' or '}' after an object member at line 1, column 22")),
        MalformedPlan("duplicate member", SamplePlan.text.replacingFirst("\"summary\":", with: "\"summary\": \"again\", \"summary\":"),
                      ExpectedProblem(.invalidJSON, "(root)", "duplicate member \"summary\" in one object at line 3")),
        MalformedPlan("NUL escape in a name", change("\(t1).name", "Project\u{0}layout"),
                      ExpectedProblem(.invalidJSON, "(root)", "\\u0000 is not allowed in strings")),
        MalformedPlan("leading zero in a number", "{\"project_name\": 007}",
                      ExpectedProblem(.invalidJSON, "(root)", "numbers must not start with 0 at line 1, column 18")),
        MalformedPlan("integer beyond 64 bits", "{\"project_name\": 99999999999999999999}",
                      ExpectedProblem(.invalidJSON, "(root)", "the integer 99999999999999999999 does not fit in 64 bits")),
        MalformedPlan("deep nesting", "{\"project_name\": " + String(repeating: "[", count: 100) + String(repeating: "]", count: 100) + "}",
                      ExpectedProblem(.invalidJSON, "(root)", "nesting deeper than 32 levels at line 1, column 49")),
    ]

    static let schema: [MalformedPlan] = [
        MalformedPlan("empty object", "{}",
                      ExpectedProblem(.missingField, "project_name", "missing; expected a string"),
                      ExpectedProblem(.missingField, "summary", "missing; expected a string"),
                      ExpectedProblem(.missingField, "tech_stack", "missing; expected a tech_stack object"),
                      ExpectedProblem(.missingField, "phases", "missing; expected an array of phase objects")),
        MalformedPlan("project name is a number", change("project_name", 42),
                      ExpectedProblem(.wrongType, "project_name", "expected a string, found the integer 42")),
        MalformedPlan("summary missing", change("summary", nil),
                      ExpectedProblem(.missingField, "summary", "missing; expected a string")),
        MalformedPlan("tech stack is a string", change("tech_stack", "python"),
                      ExpectedProblem(.wrongType, "tech_stack", "expected a tech_stack object, found the string \"python\"")),
        MalformedPlan("framework is a number", change("tech_stack.framework", 3),
                      ExpectedProblem(.wrongType, "tech_stack.framework", "expected a string or null, found the integer 3")),
        MalformedPlan("phases missing", change("phases", nil),
                      ExpectedProblem(.missingField, "phases", "missing; expected an array of phase objects")),
        MalformedPlan("phases is an object", change("phases", ["number": 1]),
                      ExpectedProblem(.wrongType, "phases", "expected an array of phase objects, found an object")),
        MalformedPlan("unknown phase kind", change("phases[0].kind", "build"),
                      ExpectedProblem(.unknownEnumValue, "phases[0].kind", "unknown value \"build\"; expected one of setup, core, polish")),
        MalformedPlan("unknown complexity", change("\(t4).complexity", "extreme"),
                      ExpectedProblem(.unknownEnumValue, "\(t4).complexity", "expected one of low, medium, high, critical")),
        MalformedPlan("priority in capitals", change("\(t2).acceptance[0].priority", "MUST"),
                      ExpectedProblem(.unknownEnumValue, "\(t2).acceptance[0].priority", "unknown value \"MUST\"; expected one of must, should")),
        MalformedPlan("task number is a string", change("\(t3).number", "3"),
                      ExpectedProblem(.wrongType, "\(t3).number", "expected an integer, found the string \"3\"")),
        MalformedPlan("task number has a fraction", change("\(t7).number", 2.5),
                      ExpectedProblem(.wrongType, "\(t7).number", "expected an integer, found the number 2.5")),
        MalformedPlan("dependency is a string", change("\(t5).depends_on[0]", "3"),
                      ExpectedProblem(.wrongType, "\(t5).depends_on[0]", "expected an integer, found the string \"3\"")),
        MalformedPlan("misspelt member", change("\(t2).dependencies", [1]),
                      ExpectedProblem(.unknownField, "\(t2).dependencies",
                                      "unknown field; a task object has exactly these fields: number, name, description, complexity, depends_on, files, subtasks, acceptance")),
        MalformedPlan("files is a string", change("\(t7).files", "README.md"),
                      ExpectedProblem(.wrongType, "\(t7).files", "expected an array of relative file paths, found the string \"README.md\"")),
        MalformedPlan("acceptance is null", change("\(t6).acceptance", JSONValue.null),
                      ExpectedProblem(.wrongType, "\(t6).acceptance", "expected an array of acceptance criterion objects, found null")),
        MalformedPlan("a name of the wrong type is reported once", change("\(t3).name", 5),
                      ExpectedProblem(.wrongType, "\(t3).name", "expected a string, found the integer 5")),
    ]

    static let semantics: [MalformedPlan] = [
        MalformedPlan("dependency on a missing task", change("\(t6).depends_on[0]", 41),
                      ExpectedProblem(.unknownReference, "phases[1].milestones[0].tasks[3].depends_on[0]", "task 41 does not exist")),
        MalformedPlan("task depends on itself", change("\(t4).depends_on", [3, 4]),
                      ExpectedProblem(.dependencyCycle, "\(t4).depends_on[1]", "task 4 depends on itself")),
        MalformedPlan("two tasks depend on each other", change("\(t3).depends_on", [2, 5]),
                      ExpectedProblem(.dependencyCycle, "\(t3).depends_on[1]",
                                      "dependency cycle 3 → 5 → 3: each task depends on the next, so none of them can ever start; remove one of these dependencies (task 4 is caught in the same tangle)")),
        MalformedPlan("three-task cycle named in order",
                      TestPlans.plan([TestPlans.task(12, dependsOn: [15]), TestPlans.task(13, dependsOn: [12]),
                                      TestPlans.task(15, dependsOn: [13])]).jsonValue.jsonText,
                      ExpectedProblem(.dependencyCycle, "\(TestPlans.taskPath(0)).depends_on[0]", "dependency cycle 12 → 15 → 13 → 12")),
        MalformedPlan("duplicate task number", change("\(t7).number", 1),
                      ExpectedProblem(.duplicate, "\(t7).number", "task number 1 is already used by phases[0].milestones[0].tasks[0]")),
        MalformedPlan("duplicate number reported with what it breaks", change("\(t4).number", 3),
                      ExpectedProblem(.duplicate, "\(t4).number", "task number 3 is already used by phases[1].milestones[0].tasks[0]"),
                      ExpectedProblem(.dependencyCycle, "\(t4).depends_on[0]", "task 3 depends on itself"),
                      ExpectedProblem(.unknownReference, "\(t5).depends_on[1]", "task 4 does not exist")),
        MalformedPlan("dependency listed twice", change("\(t5).depends_on", [3, 4, 3]),
                      ExpectedProblem(.duplicate, "\(t5).depends_on[2]", "task 3 is already listed as depends_on[0]")),
        MalformedPlan("task with no files", change("\(t7).files", []),
                      ExpectedProblem(.empty, "\(t7).files", "a task must name at least one file it creates or changes")),
        MalformedPlan("file listed twice", change("\(t4).files", ["app/auth.py", "app/auth.py"]),
                      ExpectedProblem(.duplicate, "\(t4).files[1]", "\"app/auth.py\" is already listed as files[0]")),
        MalformedPlan("no MUST criterion",
                      [t2, t3, t4, t5].reduce(SamplePlan.json) { json, task in
                          json.setting(path("\(task).acceptance[0].priority").components[...], to: "should")
                      }.jsonText,
                      ExpectedProblem(.missingCriterion, "(root)", "the plan has no acceptance criterion with priority \"must\"")),
        MalformedPlan("negative task number", change("\(t7).number", -1),
                      ExpectedProblem(.invalidValue, "\(t7).number", "task numbers are positive integers, found -1")),
        MalformedPlan("empty task name", change("\(t3).name", ""),
                      ExpectedProblem(.invalidValue, "\(t3).name", "must not be empty")),
        MalformedPlan("blank task name", change("\(t3).name", "   "),
                      ExpectedProblem(.invalidValue, "\(t3).name", "must not be empty")),
        MalformedPlan("milestone without tasks",
                      change("phases[2].milestones", [SamplePlan.json["phases"]![2]!["milestones"]![0]!,
                                                      ["number": 2, "name": "Later", "description": "", "tasks": []]]),
                      ExpectedProblem(.empty, "phases[2].milestones[1].tasks", "a milestone needs at least one task")),
        MalformedPlan("duplicate phase number", change("phases[1].number", 1),
                      ExpectedProblem(.duplicate, "phases[1].number", "phase number 1 is already used by phases[0]")),
        MalformedPlan("duplicate subtask number", change("\(t4).subtasks[1].number", 1),
                      ExpectedProblem(.duplicate, "\(t4).subtasks[1].number", "subtask number 1 is already used by subtasks[0] of this task")),
        MalformedPlan("schema and semantic problems together",
                      SamplePlan.json.setting(path("project_name").components[...], to: 42)
                          .setting(path("\(t6).depends_on[0]").components[...], to: 41).jsonText,
                      ExpectedProblem(.wrongType, "project_name", "expected a string, found the integer 42"),
                      ExpectedProblem(.unknownReference, "\(t6).depends_on[0]", "task 41 does not exist")),
    ]

    static let paths: [MalformedPlan] = [
        MalformedPlan("parent references", file(of: t2, "../../etc/passwd"),
                      ExpectedProblem(.unsafePath, "\(t2).files[0]", "\"../../etc/passwd\" uses \"..\" to leave its folder")),
        MalformedPlan("absolute path", file(of: t2, "/etc/x"),
                      ExpectedProblem(.unsafePath, "\(t2).files[0]", "\"/etc/x\" is an absolute path")),
        MalformedPlan("git configuration", file(of: t2, ".git/config"),
                      ExpectedProblem(.unsafePath, "\(t2).files[0]", "\".git/config\" is inside .git/, which belongs to version control")),
        MalformedPlan("git hooks in other case", file(of: t2, "src/.GIT/hooks/pre-commit"),
                      ExpectedProblem(.unsafePath, "\(t2).files[0]", "is inside .GIT/, which belongs to version control")),
        MalformedPlan("bell character", file(of: t2, "app/set\u{07}tings.py"),
                      ExpectedProblem(.unsafePath, "\(t2).files[0]", "contains the control or invisible character U+7")),
        MalformedPlan("right-to-left override", file(of: t2, "app/\u{202E}yp.txt"),
                      ExpectedProblem(.unsafePath, "\(t2).files[0]", "contains the control or invisible character U+202E")),
        MalformedPlan("newline in a path", file(of: t2, "app/a\nb.py"),
                      ExpectedProblem(.unsafePath, "\(t2).files[0]", "contains the control or invisible character U+A")),
        MalformedPlan("backslashes", file(of: t2, "app\\settings.py"),
                      ExpectedProblem(.unsafePath, "\(t2).files[0]", "contains a backslash; separate folders with /")),
        MalformedPlan("not normalised", file(of: t2, "./app//settings.py"),
                      ExpectedProblem(.unsafePath, "\(t2).files[0]", "is not normalised; write \"app/settings.py\"")),
        MalformedPlan("drive letter", file(of: t2, "C:/app/settings.py"),
                      ExpectedProblem(.unsafePath, "\(t2).files[0]", "refers to a home folder or drive")),
        MalformedPlan("home folder", file(of: t2, "~/.bashrc"),
                      ExpectedProblem(.unsafePath, "\(t2).files[0]", "refers to a home folder or drive")),
        MalformedPlan("device name", file(of: t2, "app/con.py"),
                      ExpectedProblem(.unsafePath, "\(t2).files[0]", "uses the reserved device name \"con.py\"")),
        MalformedPlan("path too long", file(of: t2, "app/" + String(repeating: "a", count: 293) + ".py"),
                      ExpectedProblem(.unsafePath, "\(t2).files[0]", "is 300 characters long, more than the limit of 240")),
    ]

    static let bounds: [MalformedPlan] = [
        MalformedPlan("10,000 tasks", TestPlans.plan((1...10_000).map { TestPlans.task($0) }).jsonValue.jsonText,
                      ExpectedProblem(.outOfBounds, "phases[0].milestones[0].tasks", "the milestone has 10000 tasks, more than the limit of 250"),
                      ExpectedProblem(.outOfBounds, "phases", "the plan has 10000 tasks, more than the limit of 2000; plan fewer, larger tasks")),
        MalformedPlan("name longer than the text limit", change("\(t1).description", .string(String(repeating: "x", count: 20_001))),
                      ExpectedProblem(.outOfBounds, "\(t1).description", "is 20001 characters long, more than the limit of 20000")),
    ]
}

extension JSONPath {
    /// Parses the text form (`phases[1].tasks[0]`) back into a path; test input only, so no error handling.
    init(parsing text: String) {
        var components: [Component] = []
        for part in text.split(separator: ".") {
            var rest = Substring(part)
            if let bracket = rest.firstIndex(of: "[") {
                if bracket > rest.startIndex { components.append(.key(String(rest[..<bracket]))) }
                rest = rest[bracket...]
                while let open = rest.firstIndex(of: "["), let close = rest.firstIndex(of: "]") {
                    components.append(.index(Int(rest[rest.index(after: open)..<close])!))
                    rest = rest[rest.index(after: close)...]
                }
            } else {
                components.append(.key(String(rest)))
            }
        }
        self.init(components)
    }
}
