import JSON
@testable import PlanCore

/// A small, valid plan answer in the shape the plan prompt asks the LLM for (`PlanJSONSchema.plan`): three phases, seven tasks.
///
/// Phase 2's milestone holds tasks 3–6, so `phases[1].milestones[0].tasks[3]` is task 6, the example of the issue.
enum SamplePlan {
    static let text = """
    {
      "project_name": "Todo API",
      "summary": "A FastAPI service for todo lists with JWT authentication.",
      "tech_stack": {"language": "Python 3.11", "framework": "FastAPI", "database": "PostgreSQL",
                     "test_command": "pytest -q", "other": ["SQLAlchemy", "pydantic"]},
      "phases": [
        {"number": 1, "kind": "setup", "name": "Skeleton", "description": "Project layout and configuration.",
         "milestones": [
           {"number": 1, "name": "Runnable app", "description": "The app starts.",
            "tasks": [
              {"number": 1, "name": "Project layout", "description": "Create the package.", "complexity": "low",
               "depends_on": [], "files": ["pyproject.toml", "app/__init__.py"],
               "subtasks": [{"number": 1, "name": "pyproject", "description": "Declare dependencies."}],
               "acceptance": [{"priority": "should", "criterion": "pip install . succeeds."}]},
              {"number": 2, "name": "Settings", "description": "Read configuration from the environment.", "complexity": "low",
               "depends_on": [1], "files": ["app/settings.py"], "subtasks": [],
               "acceptance": [{"priority": "must", "criterion": "A missing DATABASE_URL stops start-up with a clear message."}]}
            ]}
         ]},
        {"number": 2, "kind": "core", "name": "Features", "description": "Users, auth and todos.",
         "milestones": [
           {"number": 1, "name": "Authenticated todos", "description": "Users can log in and keep todos.",
            "tasks": [
              {"number": 3, "name": "Models", "description": "SQLAlchemy models.", "complexity": "medium",
               "depends_on": [2], "files": ["app/models.py"], "subtasks": [],
               "acceptance": [{"priority": "must", "criterion": "Tables are created on start-up."}]},
              {"number": 4, "name": "Auth", "description": "JWT login.", "complexity": "high",
               "depends_on": [3], "files": ["app/auth.py", "app/main.py"],
               "subtasks": [{"number": 1, "name": "Hashing", "description": "bcrypt passwords."},
                            {"number": 2, "name": "Tokens", "description": "Issue and check JWTs."}],
               "acceptance": [{"priority": "must", "criterion": "POST /auth/login with a wrong password answers 401."}]},
              {"number": 5, "name": "Todo routes", "description": "CRUD for todos.", "complexity": "medium",
               "depends_on": [3, 4], "files": ["app/todos.py", "app/main.py"], "subtasks": [],
               "acceptance": [{"priority": "must", "criterion": "A user sees only their own todos."},
                              {"priority": "should", "criterion": "Lists are paginated."}]},
              {"number": 6, "name": "Error handling", "description": "problem+json errors.", "complexity": "low",
               "depends_on": [5], "files": ["app/errors.py"], "subtasks": [],
               "acceptance": [{"priority": "should", "criterion": "Errors are application/problem+json."}]}
            ]}
         ]},
        {"number": 3, "kind": "polish", "name": "Polish", "description": "Docs.",
         "milestones": [
           {"number": 1, "name": "Docs", "description": "A README.",
            "tasks": [
              {"number": 7, "name": "README", "description": "How to run it.", "complexity": "low",
               "depends_on": [6], "files": ["README.md"], "subtasks": [], "acceptance": []}
            ]}
         ]}
      ]
    }
    """

    /// The sample as a JSON tree, for tests that change one member.
    static var json: JSONValue { try! JSONValue.parse(text) }

    /// The sample as a validated plan.
    static var validated: ValidatedPlan { try! PlanParser().parsePlan(text) }

    /// The sample with the value at `path` replaced (nil removes a member), as compact text.
    static func changing(_ path: JSONPath, to value: JSONValue?) -> String {
        json.setting(path.components[...], to: value).jsonText
    }
}

extension JSONValue {
    /// A copy with the value at `path` replaced; nil removes an object member or an array element.
    func setting(_ path: ArraySlice<JSONPath.Component>, to value: JSONValue?) -> JSONValue {
        guard let first = path.first else { return value ?? .null }
        let rest = path.dropFirst()
        switch (self, first) {
        case (.object(var object), .key(let key)):
            if rest.isEmpty { object[key] = value } else { object[key] = object[key]!.setting(rest, to: value) }
            return .object(object)
        case (.array(var elements), .index(let index)):
            if rest.isEmpty {
                if let value { elements[index] = value } else { elements.remove(at: index) }
            } else {
                elements[index] = elements[index].setting(rest, to: value)
            }
            return .array(elements)
        default:
            preconditionFailure("path does not fit the document")
        }
    }
}

/// Builds plans in code for tests that are about structure rather than parsing.
enum TestPlans {
    /// A task with one MUST criterion.
    static func task(_ number: Int, dependsOn: [Int] = [], files: [String]? = nil,
                     complexity: Complexity = .medium) -> PlanTask {
        PlanTask(number: number, name: "Task \(number)", description: "Does part \(number).", complexity: complexity,
                 dependsOn: dependsOn, files: files ?? ["src/task_\(number).py"], subtasks: [],
                 acceptance: [AcceptanceCriterion(priority: .must, text: "Task \(number) works.")])
    }

    /// A plan with all `tasks` in one phase and one milestone.
    static func plan(_ tasks: [PlanTask]) -> MasterPlan {
        MasterPlan(projectName: "Test", summary: "A plan built by a test.",
                   techStack: TechStack(language: "Python", testCommand: "pytest"),
                   phases: [Phase(number: 1, kind: .core, name: "Core", description: "",
                                  milestones: [Milestone(number: 1, name: "All", description: "", tasks: tasks)])])
    }

    static func validated(_ tasks: [PlanTask]) throws -> ValidatedPlan {
        try PlanValidator().validate(plan(tasks))
    }

    /// The path of the task at `index` inside `plan(_:)`.
    static func taskPath(_ index: Int) -> String { "phases[0].milestones[0].tasks[\(index)]" }
}
