extension PlanValidator {
    /// Validates a plan read back from storage so that it can be executed: every rule that keeps
    /// execution safe — task numbers unique, every dependency exists, no cycle, every file path safe,
    /// names present, at least one MUST criterion — with this validator's text and path bounds.
    ///
    /// The count bounds (tasks, phases, milestones, subtasks, files, atoms, dependencies, criteria, list
    /// entries) are not applied again: the plan was held to them when it was generated or edited, and a
    /// bound configured tighter since then must not stop a plan that was already approved.
    public func validateStored(_ plan: MasterPlan) throws(PlanProblems) -> ValidatedPlan {
        var uncounted = limits
        uncounted.minTasks = 1
        uncounted.maxTasks = .max
        uncounted.maxPhases = .max
        uncounted.maxMilestonesPerPhase = .max
        uncounted.maxTasksPerMilestone = .max
        uncounted.maxSubtasksPerTask = .max
        uncounted.maxSubtasks = .max
        uncounted.maxFilesPerTask = .max
        uncounted.maxAtoms = .max
        uncounted.maxDependenciesPerTask = .max
        uncounted.maxCriteriaPerTask = .max
        uncounted.maxListItems = .max
        return try PlanValidator(limits: uncounted).validate(plan)
    }
}
