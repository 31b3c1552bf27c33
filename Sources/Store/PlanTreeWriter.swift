import Foundation
import JSON
import PlanCore
import Postgres

/// Writes a plan's tree (phases → milestones → tasks with files, dependencies, subtasks and
/// criteria) for a plan row that has none yet, and fills the plan's name, summary, tech stack and
/// counters. One statement per table (arrays unnested), so a 1,000-task plan is six round trips.
///
/// Used by the API's tests and benchmark to create plans; the generator can use it to store what
/// the LLM returned. Run it inside the caller's transaction.
public struct PlanTreeWriter {
    public let connection: Connection

    public init(_ connection: Connection) { self.connection = connection }

    /// Inserts `plan`'s tree under `planID` (which must have no phases yet).
    public func write(_ plan: MasterPlan, planID: UUID) throws {
        try connection.execute(
            """
            UPDATE masterplans SET project_name = $2, summary = $3, tech_stack = $4, total_phases = $5,
                   total_milestones = $6, total_tasks = $7
            WHERE id = $1
            """,
            [planID, plan.projectName, plan.summary, plan.techStack.jsonValue, plan.phases.count,
             plan.phases.reduce(0) { $0 + $1.milestones.count }, plan.tasks.count])

        try connection.execute(
            """
            INSERT INTO phases (plan_id, number, kind, name, description)
            SELECT $1, n::int, k, nm, d FROM unnest($2::text[], $3::text[], $4::text[], $5::text[]) AS u(n, k, nm, d)
            """,
            [planID, plan.phases.map { String($0.number) }, plan.phases.map(\.kind.rawValue), plan.phases.map(\.name),
             plan.phases.map(\.description)])

        var milestonePhase: [String] = [], milestoneNumber: [String] = [], milestoneName: [String] = [], milestoneText: [String] = []
        var taskPhase: [String] = [], taskMilestone: [String] = [], taskNumber: [String] = [], taskName: [String] = []
        var taskText: [String] = [], taskComplexity: [String] = [], taskFiles: [String] = []
        var subtaskTask: [String] = [], subtaskNumber: [String] = [], subtaskName: [String] = [], subtaskText: [String] = []
        var dependencyTask: [String] = [], dependencyOn: [String] = []
        var criterionTask: [String] = [], criterionPosition: [String] = [], criterionPriority: [String] = [], criterionText: [String] = []
        for phase in plan.phases {
            for milestone in phase.milestones {
                milestonePhase.append(String(phase.number))
                milestoneNumber.append(String(milestone.number))
                milestoneName.append(milestone.name)
                milestoneText.append(milestone.description)
                for task in milestone.tasks {
                    taskPhase.append(String(phase.number))
                    taskMilestone.append(String(milestone.number))
                    taskNumber.append(String(task.number))
                    taskName.append(task.name)
                    taskText.append(task.description)
                    taskComplexity.append(task.complexity.rawValue)
                    taskFiles.append(JSONValue(task.files).jsonText)
                    for subtask in task.subtasks {
                        subtaskTask.append(String(task.number))
                        subtaskNumber.append(String(subtask.number))
                        subtaskName.append(subtask.name)
                        subtaskText.append(subtask.description)
                    }
                    for dependency in task.dependsOn {
                        dependencyTask.append(String(task.number))
                        dependencyOn.append(String(dependency))
                    }
                    for (index, criterion) in task.acceptance.enumerated() {
                        criterionTask.append(String(task.number))
                        criterionPosition.append(String(index + 1))
                        criterionPriority.append(criterion.priority.rawValue)
                        criterionText.append(criterion.text)
                    }
                }
            }
        }

        try connection.execute(
            """
            INSERT INTO milestones (plan_id, phase_id, number, name, description)
            SELECT $1, ph.id, u.n::int, u.nm, u.d
            FROM unnest($2::text[], $3::text[], $4::text[], $5::text[]) AS u(p, n, nm, d)
            JOIN phases ph ON ph.plan_id = $1 AND ph.number = u.p::int
            """,
            [planID, milestonePhase, milestoneNumber, milestoneName, milestoneText])

        try connection.execute(
            """
            INSERT INTO tasks (plan_id, milestone_id, number, name, description, complexity, files)
            SELECT $1, m.id, u.n::int, u.nm, u.d, u.c, ARRAY(SELECT jsonb_array_elements_text(u.f::jsonb))
            FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[])
                 AS u(p, m, n, nm, d, c, f)
            JOIN phases ph ON ph.plan_id = $1 AND ph.number = u.p::int
            JOIN milestones m ON m.phase_id = ph.id AND m.number = u.m::int
            """,
            [planID, taskPhase, taskMilestone, taskNumber, taskName, taskText, taskComplexity, taskFiles])

        try connection.execute(
            """
            INSERT INTO subtasks (task_id, number, name, description)
            SELECT t.id, u.n::int, u.nm, u.d FROM unnest($2::text[], $3::text[], $4::text[], $5::text[]) AS u(t, n, nm, d)
            JOIN tasks t ON t.plan_id = $1 AND t.number = u.t::int
            """,
            [planID, subtaskTask, subtaskNumber, subtaskName, subtaskText])

        try connection.execute(
            """
            INSERT INTO task_dependencies (plan_id, task_id, depends_on_task_id)
            SELECT $1, t.id, d.id FROM unnest($2::text[], $3::text[]) AS u(t, d)
            JOIN tasks t ON t.plan_id = $1 AND t.number = u.t::int
            JOIN tasks d ON d.plan_id = $1 AND d.number = u.d::int
            """,
            [planID, dependencyTask, dependencyOn])

        try connection.execute(
            """
            INSERT INTO acceptance_criteria (plan_id, task_id, position, priority, criterion)
            SELECT $1, t.id, u.pos::int, u.pr, u.c FROM unnest($2::text[], $3::text[], $4::text[], $5::text[]) AS u(t, pos, pr, c)
            JOIN tasks t ON t.plan_id = $1 AND t.number = u.t::int
            """,
            [planID, criterionTask, criterionPosition, criterionPriority, criterionText])
    }
}
