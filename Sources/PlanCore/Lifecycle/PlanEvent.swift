/// Something that changes a plan's status: a user's action through the API, or the system's report.
public enum PlanEvent: String, JSONEnumeration {
    // User actions (`POST /masterplans/{id}/<action>`, `PATCH …/tasks/{n}`).
    case approve
    /// Answers to the discovery's questions (`POST …/answer`), or "use the assumed answers".
    case answer
    case reject
    case regenerate
    case edit
    case execute
    case pause
    case resume
    case cancel
    // System events, raised by the generator and the executor.
    case generationSucceeded = "generation_succeeded"
    case generationFailed = "generation_failed"
    /// Discovery has questions for the person: generation waits for the answers.
    case askQuestions = "ask_questions"
    case start
    case complete
    case fail
    case block

    /// True for what a user may ask for; false for what only the system reports. (The executor also
    /// pauses a plan whose budget ran out, with the same `pause` event.)
    public var isUserAction: Bool {
        switch self {
        case .approve, .answer, .reject, .regenerate, .edit, .execute, .pause, .resume, .cancel: return true
        case .generationSucceeded, .generationFailed, .askQuestions, .start, .complete, .fail, .block: return false
        }
    }
}
