import Foundation
import JSON
import PlanCore
import Postgres

/// Reads a plan's tree back from its rows (the plan row's name, summary and tech stack; phases →
/// milestones → tasks with files, dependencies, subtasks and criteria) into PlanCore's `MasterPlan`,
/// the counterpart of `PlanTreeWriter`. One statement per level, every one ordered as the plan's
/// document is (by number; criteria by position), so the result equals the plan that was written.
///
/// The statements do not share a snapshot: the tree of a plan changes only while it is a draft
/// (`PlanStatus`'s `edit`), and the executor reads plans that are past approval.
public struct PlanTreeReader {
    public let connection: Connection

    public init(_ connection: Connection) { self.connection = connection }

    /// The plan `planID` as PlanCore's model, not yet validated; nil when there is no such plan.
    ///
    /// Throws `PlanProblems` when the stored tech stack does not read as one (at `tech_stack`), and a
    /// decoding `PostgresError` for a kind, complexity or priority word PlanCore does not know (the
    /// tables' CHECK constraints allow none).
    public func plan(id planID: UUID) throws -> MasterPlan? {
        guard let row = try connection.query(
            "SELECT coalesce(project_name, ''), coalesce(summary, ''), tech_stack FROM masterplans WHERE id = $1",
            [planID]).first else { return nil }
        let techStack = try TechStack(json: try row.decode(JSONValue.self, 2))

        var subtasks: [UUID: [Subtask]] = [:]
        for row in try connection.query(
            """
            SELECT s.task_id, s.number, s.name, s.description FROM subtasks s JOIN tasks t ON t.id = s.task_id
            WHERE t.plan_id = $1 ORDER BY s.task_id, s.number
            """, [planID]).rows {
            subtasks[try row.decode(UUID.self, 0), default: []].append(
                Subtask(number: try row.decode(Int.self, 1), name: try row.decode(String.self, 2),
                        description: try row.decode(String.self, 3)))
        }

        var criteria: [UUID: [AcceptanceCriterion]] = [:]
        for row in try connection.query(
            "SELECT task_id, priority, criterion FROM acceptance_criteria WHERE plan_id = $1 ORDER BY task_id, position",
            [planID]).rows {
            criteria[try row.decode(UUID.self, 0), default: []].append(
                AcceptanceCriterion(priority: try Self.word(row, 1), text: try row.decode(String.self, 2)))
        }

        // Dependencies as text[] of task numbers, in ascending order, as the plan's JSON form lists them.
        var tasks: [UUID: [PlanTask]] = [:]
        for row in try connection.query(
            """
            SELECT t.milestone_id, t.id, t.number, t.name, t.description, t.complexity, t.files,
                   ARRAY(SELECT d.number::text FROM task_dependencies td JOIN tasks d ON d.id = td.depends_on_task_id
                         WHERE td.task_id = t.id ORDER BY d.number)
            FROM tasks t WHERE t.plan_id = $1 ORDER BY t.milestone_id, t.number
            """, [planID]).rows {
            let id = try row.decode(UUID.self, 1)
            let dependsOn = try row.decode([String].self, 7).map { word in
                guard let number = Int(word) else {
                    throw PostgresError(kind: .decoding, message: "a dependency of a task is not a task number: \(word)")
                }
                return number
            }
            tasks[try row.decode(UUID.self, 0), default: []].append(
                PlanTask(number: try row.decode(Int.self, 2), name: try row.decode(String.self, 3),
                         description: try row.decode(String.self, 4), complexity: try Self.word(row, 5), dependsOn: dependsOn,
                         files: try row.decode([String].self, 6), subtasks: subtasks[id] ?? [], acceptance: criteria[id] ?? []))
        }

        var milestones: [UUID: [Milestone]] = [:]
        for row in try connection.query(
            "SELECT phase_id, id, number, name, description FROM milestones WHERE plan_id = $1 ORDER BY phase_id, number",
            [planID]).rows {
            milestones[try row.decode(UUID.self, 0), default: []].append(
                Milestone(number: try row.decode(Int.self, 2), name: try row.decode(String.self, 3),
                          description: try row.decode(String.self, 4), tasks: tasks[try row.decode(UUID.self, 1)] ?? []))
        }

        let phases = try connection.query(
            "SELECT id, number, kind, name, description FROM phases WHERE plan_id = $1 ORDER BY number", [planID]).rows.map { row in
            Phase(number: try row.decode(Int.self, 1), kind: try Self.word(row, 2), name: try row.decode(String.self, 3),
                  description: try row.decode(String.self, 4), milestones: milestones[try row.decode(UUID.self, 0)] ?? [])
        }
        return MasterPlan(projectName: try row.decode(String.self, 0), summary: try row.decode(String.self, 1),
                          techStack: techStack, phases: phases)
    }

    /// A column's word as one of PlanCore's closed sets of words; a word the set does not have is a
    /// decoding error.
    static func word<Word: JSONEnumeration>(_ row: Row, _ column: Int) throws -> Word {
        let word = try row.decode(String.self, column)
        guard let value = Word(rawValue: word) else {
            throw PostgresError(kind: .decoding, message: "a stored \(Word.self) is the unknown word \(word); the allowed words are "
                                + Word.allowedWords.joined(separator: ", "))
        }
        return value
    }
}
