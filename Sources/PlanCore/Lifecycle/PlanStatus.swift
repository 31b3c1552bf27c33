/// Where a plan is in its life, from generation through review to execution.
public enum PlanStatus: String, LifecycleStatus {
    case generating
    /// Discovery asked questions only the person can answer; generation goes on once they have
    /// answered them (or said to use the assumed answers).
    case awaitingAnswers = "awaiting_answers"
    case draft
    case approved
    case rejected
    case generationFailed = "generation_failed"
    case queued
    case executing
    case completed
    case failed
    case blocked
    case paused
    case cancelled

    /// The legal transitions of a plan's life, including: generation may stop after discovery to ask
    /// the person its questions, and the person's answers (or a rejection) move it on; a failed
    /// generation may be regenerated; an
    /// approved, queued, blocked or paused plan may be cancelled as well as an executing one (nothing
    /// else could stop a plan that waits); and a queued plan fails when its execution job ran out of
    /// attempts before it started.
    public static let lifecycle = StateMachine<PlanStatus, PlanEvent>(subject: "plan", transitions: [
        .init(.generating, .generationSucceeded, .draft),
        .init(.generating, .generationFailed, .generationFailed),
        .init(.generating, .askQuestions, .awaitingAnswers),
        .init(.awaitingAnswers, .answer, .generating),
        .init(.awaitingAnswers, .reject, .rejected),
        .init(.draft, .approve, .approved),
        .init(.draft, .reject, .rejected),
        .init(.draft, .regenerate, .generating),
        .init(.draft, .edit, .draft),
        .init(.generationFailed, .regenerate, .generating),
        .init(.approved, .execute, .queued),
        .init(.approved, .cancel, .cancelled),
        .init(.queued, .start, .executing),
        .init(.queued, .cancel, .cancelled),
        .init(.queued, .fail, .failed),
        .init(.executing, .complete, .completed),
        .init(.executing, .fail, .failed),
        .init(.executing, .block, .blocked),
        .init(.executing, .pause, .paused),
        .init(.executing, .cancel, .cancelled),
        .init(.blocked, .resume, .executing),
        .init(.blocked, .cancel, .cancelled),
        .init(.paused, .resume, .executing),
        .init(.paused, .cancel, .cancelled),
        .init(.failed, .resume, .executing),
    ])

    /// The actions a user may take now, for `GET …/status` and the buttons in the review UI.
    public var allowedActions: [PlanEvent] { allowedEvents.filter(\.isUserAction) }
}
