import JSON
import PlanCore
import Store

extension OpenAPIDocument {
    static let planStatuses = PlanStatus.allCases.map(\.rawValue)
    static let userActions = PlanEvent.allCases.filter(\.isUserAction).map(\.rawValue)
    /// The SSE `event:` names, from the feed's catalogue.
    static let eventTypes = ProgressEvent.Kind.allCases.map(\.rawValue)

    static let planSummaryProperties: KeyValuePairs<String, JSONValue> = [
        "id": uuid, "status": enumeration(planStatuses), "status_reason": nullable(string), "version": integer,
        "request": string, "ask_questions": described(boolean, "Generation stops for the discovery's questions (awaiting_answers)."),
        "project_name": nullable(string), "summary": nullable(string),
        "conversation_id": nullable(uuid), "discovery_id": nullable(uuid), "budget_usd": number,
        "estimated_cost_usd": nullable(number), "actual_cost_usd": number, "actual_cost_estimated": actualCostEstimated,
        "estimated_duration_seconds": nullable(integer), "actual_duration_seconds": nullable(integer),
        "total_phases": integer, "total_milestones": integer, "total_tasks": integer, "completed_tasks": integer,
        "failed_tasks": integer, "total_atoms": integer, "completed_atoms": integer, "total_waves": integer,
        "current_wave": nullable(integer), "created_at": time, "updated_at": time, "generated_at": nullable(time),
        "approved_at": nullable(time), "rejected_at": nullable(time), "started_at": nullable(time),
        "completed_at": nullable(time), "verification": verification, "waivers": array(ref("TestWaiver")),
    ]

    /// Beside a plan's `actual_cost_usd`: whether it includes calls whose usage was estimated.
    static let actualCostEstimated = described(boolean, "True when actual_cost_usd includes calls whose tokens were estimated from the text because the provider reported none.")

    /// How a completed plan was proven; null until it completes.
    static let verification: JSONValue = .object([
        "type": ["string", "null"], "enum": ["verified", "accepted_with_waivers", .null],
        "description": "verified: every acceptance test passed on the archived commit; accepted_with_waivers: some failing tests were accepted with a written reason (listed in waivers).",
    ])

    /// Text of at most `maxLength` characters; unless `blank`, with a character that is not white
    /// space (`TextRules`, which the handlers apply). `nullable`: null means "not given".
    /// `ask_questions` of a request that starts a plan.
    static let askQuestions = described(nullable(boolean), "Stop after the discovery to ask its questions (default true); false plans with the model's assumptions.")

    static func text(_ maxLength: Int, blank: Bool = false, nullable: Bool = false) -> JSONValue {
        var schema: JSONObject = ["type": nullable ? ["string", "null"] : "string", "maxLength": .int(Int64(maxLength))]
        if !blank { schema["pattern"] = .string(TextRules.nonBlankPattern) }
        return .object(schema)
    }

    /// The figures of `GET /usage`, in its totals and in each row (`UsageQueries`): a sum is null when
    /// none of its calls knows the value, never a 0 that reads as "free".
    static let usageFigures: [(String, JSONValue)] = [
        ("calls", integer),
        ("input_tokens", described(nullable(integer), "Input tokens, cached ones included; null when no call reported any.")),
        ("output_tokens", described(nullable(integer), "Output tokens; null when no call reported any.")),
        ("cached_input_tokens", described(nullable(integer), "Input tokens read from the provider's prompt cache; null when no call reported any.")),
        ("cached_input_share", described(nullable(.object(["type": "number", "minimum": 0, "maximum": 1])),
                                         "Cached input tokens / input tokens, over the calls whose provider reported both (not estimated ones); null when there are none.")),
        ("cost_usd", described(nullable(number), "US dollars; null when no call has a known cost.")),
        ("estimated_calls", described(integer, "Calls whose tokens (and cost) were estimated from the text because the provider reported none.")),
        ("usage_estimated", described(boolean, "True when the figures include an estimated call (shown with ≈).")),
        ("calls_without_usage", described(integer, "Calls with an unknown token count (in no token sum).")),
        ("calls_without_cost", described(integer, "Calls with an unknown cost, e.g. a model missing from the price table (in no cost sum).")),
    ]

    /// A closed object of `usageFigures` after `members`, every member required (the server always sends them).
    static func usage(_ members: [(String, JSONValue)]) -> JSONValue {
        let all = members + usageFigures
        return .object(["type": "object", "properties": .object(JSONObject(all)), "required": JSONValue(all.map { $0.0 }),
                        "additionalProperties": false])
    }

    static func described(_ schema: JSONValue, _ description: String) -> JSONValue {
        guard case .object(var object) = schema else { return schema }
        object["description"] = .string(description)
        return .object(object)
    }

    /// A plan's budget in US dollars (`BodyLimits.budgetUSD`); null means the server's default.
    static let budget: JSONValue = .object([
        "type": ["number", "null"], "minimum": .double(BodyLimits.budgetUSD.lowerBound), "maximum": .double(BodyLimits.budgetUSD.upperBound),
        "description": "US dollars; without it, MASTERPLAN_BUDGET_USD.",
    ])

    static let taskNumber: JSONValue = .object(["type": "integer", "minimum": .int(Int64(BodyLimits.number.lowerBound)),
                                                "maximum": .int(Int64(BodyLimits.number.upperBound))])

    static func bounded(_ items: JSONValue, maxItems: Int, nullable: Bool = true) -> JSONValue {
        .object(["type": nullable ? ["array", "null"] : "array", "items": items, "maxItems": .int(Int64(maxItems))])
    }

    /// `PATCH …/tasks/{number}`: the fields given replace the task's (null: unchanged); at least one
    /// of them besides the note.
    static var taskEdit: JSONValue {
        let changes: KeyValuePairs<String, JSONValue> = [
            "name": text(BodyLimits.taskText, nullable: true),
            "description": text(BodyLimits.taskText, blank: true, nullable: true),
            "complexity": nullable(enumeration(Complexity.allowedWords)),
            "files": bounded(text(BodyLimits.filePath), maxItems: BodyLimits.filesPerTask),
            "depends_on": bounded(taskNumber, maxItems: BodyLimits.dependenciesPerTask),
            "subtasks": bounded(ref("SubtaskEdit"), maxItems: BodyLimits.subtasksPerTask),
            "acceptance": bounded(ref("CriterionEdit"), maxItems: BodyLimits.criteriaPerTask),
        ]
        var properties = JSONObject(changes.map { ($0.key, $0.value) })
        properties["note"] = text(BodyLimits.editNote, nullable: true)
        let atLeastOne = changes.map { name, _ -> JSONValue in
            .object(["required": [.string(name)], "properties": .object([name: ["not": ["type": "null"]]])])
        }
        return .object(["type": "object", "properties": .object(properties), "additionalProperties": false, "anyOf": .array(atLeastOne)])
    }

    static var schemas: JSONObject {
        var s = JSONObject()
        s["Problem"] = object([
            "type": .object(["type": "string", "format": "uri", "description": .string("Stable: \(Problem.typeBase)<name>.")]),
            "title": string, "status": integer, "detail": string,
            "allowed_actions": .object(["type": "array", "items": string, "description": "409: what is allowed now."]),
            "current_status": string,
            "errors": .object(["type": "array", "description": "422: one entry per invalid field.",
                               "items": object(["field": string, "message": string])]),
            "line": integer, "column": integer, "position": integer,
        ], required: ["type", "title", "status"])
        s["LoginRequest"] = object(["email": text(BodyLimits.email), "password": text(BodyLimits.password, blank: true)],
                                   required: ["email", "password"], open: false)
        s["User"] = object(["id": uuid, "email": string, "role": enumeration(["admin", "member"]),
                            "display_name": nullable(string), "disabled": boolean, "created_at": time],
                           required: ["id", "email", "role"])
        s["Me"] = object(["id": uuid, "email": string, "role": enumeration(["admin", "member"]),
                          "display_name": nullable(string), "disabled": boolean, "created_at": time,
                          "demo_model": .object(["type": "boolean", "description": "True when a scripted demo model answers, not a real LLM."]),
                          "model": .object(["type": "string", "description": "The model named by MASTERPLAN_LLM, when the API knows it."])],
                         required: ["id", "email", "role", "demo_model"])
        s["Token"] = object(["access_token": string, "token_type": enumeration(["Bearer"]), "expires_in": integer,
                             "expires_at": time, "user": ref("User")],
                            required: ["access_token", "token_type", "expires_in", "expires_at", "user"])

        s["ConversationCreate"] = object(["title": text(BodyLimits.conversationTitle, blank: true, nullable: true)], open: false)
        s["Conversation"] = object(["id": uuid, "title": string, "created_at": time, "updated_at": time, "message_count": integer],
                                   required: ["id", "title"])
        s["ConversationPage"] = page(of: "Conversation")
        s["Message"] = object(["id": uuid, "conversation_id": uuid, "role": enumeration(["user", "assistant", "system"]),
                               "content": string, "created_at": time, "plan_id": nullable(uuid)],
                              required: ["id", "role", "content"])
        s["ConversationDetail"] = object(["id": uuid, "title": string, "created_at": time, "updated_at": time,
                                          "messages": array(ref("Message"))], required: ["id", "messages"])
        s["MessageCreate"] = object(["content": described(text(BodyLimits.messageContent), "'/masterplan <request>' starts a plan."),
                                     "budget_usd": budget, "ask_questions": askQuestions], required: ["content"], open: false)
        s["MessageAccepted"] = object(["message": ref("Message"), "job_id": uuid, "plan_id": nullable(uuid),
                                       "kind": enumeration(["plan", "chat"])], required: ["message", "job_id", "kind"])

        s["PlanCreate"] = object(["request": text(BodyLimits.request), "budget_usd": budget, "conversation_id": nullable(uuid),
                                  "ask_questions": askQuestions],
                                 required: ["request"], open: false)
        s["Answers"] = object(["answers": described(
            .object(["type": "array", "maxItems": JSONValue(BodyLimits.clarificationAnswers),
                     "items": nullable(text(ClarificationAnswers.maxAnswerLength, blank: true))]),
            "One entry per question of the discovery, in order; null or blank keeps the assumed answer. No answers at all: use the assumptions.")],
            open: false)
        s["JobAccepted"] = object(["plan_id": uuid, "job_id": uuid, "status": enumeration(planStatuses),
                                   "status_url": string, "events_url": string], required: ["plan_id", "job_id", "status"])
        s["PlanActionAccepted"] = ref("JobAccepted")
        s["PlanActionResult"] = object(["plan_id": uuid, "previous_status": enumeration(planStatuses),
                                        "status": enumeration(planStatuses), "allowed_actions": array(enumeration(userActions))],
                                       required: ["plan_id", "previous_status", "status", "allowed_actions"])
        s["PlanSummary"] = object(planSummaryProperties, required: ["id", "status", "request"])
        s["TestWaiver"] = object(["test_id": uuid, "name": string, "priority": enumeration(["must", "should"]), "wave": integer,
                                  "reason": string, "waived_by": nullable(uuid), "waived_at": time],
                                 required: ["test_id", "name", "reason", "waived_at"])
        s["PlanPage"] = page(of: "PlanSummary")
        var tree = planSummaryProperties.map { ($0.key, $0.value) }
        tree.append(("tech_stack", anyObject))
        tree.append(("stack", described(nullable(enumeration(StackKind.allCases.map(\.rawValue))),
                                        "The stack that runs the plan's test command; null when none does.")))
        tree.append(("phases", array(ref("Phase"))))
        s["PlanTree"] = .object(["type": "object", "properties": .object(JSONObject(tree)),
                                 "required": ["id", "status", "tech_stack", "phases"]])
        s["Phase"] = object(["id": uuid, "number": integer, "kind": enumeration(["setup", "core", "polish"]), "name": string,
                             "description": string, "milestones": array(ref("Milestone"))])
        s["Milestone"] = object(["id": uuid, "number": integer, "name": string, "description": string,
                                 "tasks": array(ref("Task"))])
        s["Task"] = object(["id": uuid, "number": integer, "name": string, "description": string,
                            "complexity": enumeration(Complexity.allowedWords), "status": string, "completed_at": nullable(time),
                            "depends_on": array(integer), "files": array(string), "subtasks": array(ref("Subtask")),
                            "acceptance": array(ref("Criterion"))])
        s["Subtask"] = object(["number": integer, "name": string, "description": string], required: ["name"])
        s["Criterion"] = object(["id": uuid, "priority": enumeration(["must", "should"]), "criterion": string],
                                required: ["priority", "criterion"])
        s["TaskEdit"] = taskEdit
        s["SubtaskEdit"] = object(["number": nullable(taskNumber), "name": text(BodyLimits.taskText),
                                   "description": text(BodyLimits.taskText, blank: true, nullable: true)],
                                  required: ["name"], open: false)
        s["CriterionEdit"] = object(["priority": enumeration(CriterionPriority.allowedWords), "criterion": text(BodyLimits.taskText)],
                                    required: ["priority", "criterion"], open: false)
        s["Discovery"] = object(["id": uuid, "request": string, "domain": string, "bounded_contexts": array(anyObject),
                                 "aggregates": .object(["type": "array"]), "value_objects": .object(["type": "array"]),
                                 "domain_events": .object(["type": "array"]), "services": .object(["type": "array"]),
                                 "assumptions": .object(["type": "array"]), "clarifications": .object(["type": "array"]),
                                 "answers": described(nullable(array(object(["question": string, "answer": string,
                                                                            "answered_by": enumeration(["person", "assumption"])]))),
                                                      "The answers the plan is built on; null until the person answered."),
                                 "risks": .object(["type": "array"]), "model": string, "input_tokens": integer,
                                 "output_tokens": integer, "cost_usd": number, "created_at": time, "updated_at": time])
        s["PlanStatus"] = object(["plan_id": uuid, "status": enumeration(planStatuses), "status_reason": nullable(string),
                                  "version": integer, "allowed_actions": array(enumeration(userActions)), "is_terminal": boolean,
                                  "total_tasks": integer, "completed_tasks": integer, "failed_tasks": integer,
                                  "total_atoms": integer, "completed_atoms": integer, "total_waves": integer,
                                  "current_wave": nullable(integer), "budget_usd": number, "estimated_cost_usd": nullable(number),
                                  "actual_cost_usd": number, "actual_cost_estimated": actualCostEstimated, "pending_reviews": integer,
                                  "verification": verification, "waivers": array(ref("TestWaiver")),
                                  "live_jobs": array(object(["id": uuid, "kind": string, "state": string])), "updated_at": time],
                                 required: ["plan_id", "status", "allowed_actions"])
        s["Version"] = object(["number": integer, "change_note": string, "author": enumeration(["user", "system", "llm"]),
                               "author_id": nullable(uuid), "created_at": time, "snapshot": anyObject])
        s["VersionPage"] = page(of: "Version")
        s["HistoryEntry"] = object(["id": integer, "actor": enumeration(["user", "system", "llm"]), "actor_id": nullable(uuid),
                                    "event": string, "data": anyObject, "created_at": time])
        s["HistoryPage"] = page(of: "HistoryEntry")
        s["NoFields"] = described(object([:], open: false), "This action takes no fields: send no body or {}.")
        s["Reason"] = object(["reason": text(BodyLimits.planReason, nullable: true)], open: false)
        s["Feedback"] = object(["feedback": text(BodyLimits.feedback, nullable: true)], open: false)
        s["RequiredFeedback"] = object(["feedback": described(text(BodyLimits.feedback), "Say what is wrong.")],
                                       required: ["feedback"], open: false)
        s["ConfirmationReason"] = object(["reason": text(BodyLimits.confirmationReason)], required: ["reason"], open: false)
        s["WaiverReason"] = object(["reason": text(BodyLimits.waiverReason)], required: ["reason"], open: false)

        s["GateResult"] = object(["wave": integer, "repair_round": integer, "must_total": integer, "must_passed": integer,
                                  "should_total": integer, "should_passed": integer, "passed": boolean,
                                  "failing_tests": .object(["type": "array"]), "created_at": time])
        s["GateResultList"] = list(of: "GateResult")
        s["Wave"] = object(["id": uuid, "number": integer, "atom_count": integer,
                            "status": enumeration(WaveStatus.allowedWords), "repair_rounds": integer, "commit_sha": nullable(string),
                            "started_at": nullable(time), "gate_started_at": nullable(time), "finished_at": nullable(time),
                            "gate": nullable(ref("GateResult"))])
        s["WaveList"] = list(of: "Wave")
        s["Atom"] = object(["id": uuid, "task_number": integer, "file_path": string, "wave": nullable(integer),
                            "status": enumeration(AtomStatus.allowedWords), "attempts": integer, "confidence": nullable(number),
                            "final_content_sha256": nullable(string), "started_at": nullable(time), "finished_at": nullable(time)])
        s["AtomPage"] = page(of: "Atom")
        s["AtomAttempt"] = object(["attempt": integer, "origin": string, "temperature": nullable(number),
                                   "validation": .object(["type": "array"]), "error_feedback": nullable(string),
                                   "input_tokens": integer, "output_tokens": integer, "cost_usd": number, "accepted": boolean,
                                   "output": nullable(string), "created_at": time, "finished_at": nullable(time)])
        s["AtomDetail"] = object(["id": uuid, "plan_id": uuid, "task_number": integer, "task_name": string, "file_path": string,
                                  "wave": nullable(integer), "status": enumeration(AtomStatus.allowedWords), "attempts": integer,
                                  "confidence": nullable(number), "final_content_sha256": nullable(string),
                                  "pending_review_id": nullable(uuid), "attempt_history": array(ref("AtomAttempt"))])
        s["AcceptanceTest"] = object(["id": uuid, "name": string, "priority": enumeration(["must", "should"]),
                                      "file_path": string, "code": string, "sha256": nullable(string), "frozen_at": nullable(time),
                                      "criteria": array(object(["id": uuid, "task_number": integer, "priority": string,
                                                                "criterion": string])),
                                      "cannot_fail": boolean, "cannot_fail_output": nullable(string),
                                      "cannot_fail_confirmation": nullable(object(["reason": string, "by": nullable(uuid), "at": time])),
                                      "last_run": nullable(object(["status": string, "duration_ms": integer, "created_at": time,
                                                                   "reason": nullable(string), "cases": array(anyObject)])),
                                      "last_mutation_run": nullable(object(["status": string, "duration_ms": integer,
                                                                            "created_at": time, "reason": nullable(string)]))])
        s["AcceptanceTestList"] = list(of: "AcceptanceTest")
        s["TestRunEvidence"] = object(["kind": enumeration(["gate", "mutation"]), "wave": integer, "repair_round": integer,
                                       "status": enumeration(["pass", "fail", "error", "timeout"]), "reason": nullable(string),
                                       "cases": array(object(["id": string, "outcome": string, "duration_ms": integer])),
                                       "duration_ms": integer, "created_at": time, "output_tail": string])
        s["TaskEvidence"] = object([
            "number": integer, "name": string, "status": string,
            "files": array(object(["path": string, "atom_id": uuid, "status": string, "wave": nullable(integer), "attempts": integer,
                                   "confidence": nullable(number), "content_sha256": nullable(string), "wave_commit": nullable(string),
                                   "accepted_attempt": nullable(object(["attempt": integer, "origin": string, "validation": array(anyObject),
                                                                         "created_at": time]))])),
            "tests": array(object(["test_id": uuid, "name": string, "priority": string, "file": string, "sha256": nullable(string),
                                   "cannot_fail": boolean, "cannot_fail_confirmation": nullable(string),
                                   "runs": array(ref("TestRunEvidence"))])),
            "reviews": array(anyObject),
        ])
        s["Evidence"] = object(["plan_id": uuid, "project_name": nullable(string), "status": enumeration(planStatuses),
                                "status_reason": nullable(string), "verification": verification, "waivers": array(ref("TestWaiver")),
                                "final_gate": nullable(anyObject), "tasks": array(ref("TaskEvidence"))],
                               required: ["plan_id", "status", "tasks"])

        s["PlanSummaryReport"] = object([
            "plan_id": uuid, "project_name": nullable(string), "status": enumeration(planStatuses), "verification": verification,
            "test_command": nullable(string),
            "built": described(nullable(object(["head": string, "commits": integer, "files": integer, "lines": integer,
                                                "history": array(object(["commit": string, "subject": string]))],
                                               required: ["head", "commits", "files", "lines", "history"])),
                               "The workspace's last commit: files, lines added since the empty tree, commits; null when the workspace is not on this server or has no commit."),
            "verified": object(["tests": integer, "must_tests": integer, "should_tests": integer, "test_runs": integer,
                                "gate_evaluations": integer, "repair_rounds": integer, "waves": integer,
                                "reviews": described(anyObject, "Reviews by status."), "waivers": integer,
                                "final_commit": nullable(string)]),
            "time": object(["created_at": time, "approved_at": nullable(time), "started_at": nullable(time),
                            "completed_at": nullable(time), "duration_seconds": nullable(integer),
                            "estimated_duration_seconds": nullable(integer)]),
            "usage": object(["calls": integer, "input_tokens": integer, "output_tokens": integer, "cached_tokens": integer,
                             "calls_without_usage": integer, "usage_estimated": boolean, "cost_usd": number, "budget_usd": number,
                             "estimated_cost_usd": nullable(number), "models": array(nullable(string))]),
            "next_steps": object(["archive_name": string, "download_path": nullable(string),
                                  "steps": array(object(["title": string, "command": nullable(string)], required: ["title"]))]),
        ], required: ["plan_id", "status", "built", "verified", "time", "usage", "next_steps"])

        s["Review"] = object(["id": uuid, "plan_id": uuid, "kind": enumeration(["atom", "gate"]), "atom_id": nullable(uuid),
                              "task_number": nullable(integer), "file_path": nullable(string), "wave": nullable(integer),
                              "confidence": nullable(number), "reason": string, "priority": enumeration(["high", "medium"]),
                              "ai_suggestions": nullable(anyObject),
                              "status": enumeration(ReviewStatus.allowedWords), "reviewer_id": nullable(uuid),
                              "feedback": nullable(string), "edited_content": nullable(string), "waiver_reason": nullable(string),
                              "blocking": boolean, "gate_failed": boolean, "created_at": time,
                              "resolved_at": nullable(time)], required: ["id", "plan_id", "status"])
        s["ReviewPage"] = page(of: "Review")
        s["ReviewEdit"] = object(["content": text(BodyLimits.reviewContent, blank: true),
                                  "feedback": text(BodyLimits.feedback, nullable: true)], required: ["content"], open: false)
        s["ReviewAccepted"] = object(["review": ref("Review"), "job_id": uuid, "plan_id": uuid],
                                     required: ["review", "job_id", "plan_id"])

        s["Usage"] = usage([
            ("since", described(nullable(time), "The since parameter; null for all time.")),
            ("cached_tokens", described(nullable(integer), "The same as cached_input_tokens (its older name).")),
            ("by_purpose", array(ref("UsageByPurpose"))), ("by_model", array(ref("UsageByModel"))),
            ("by_plan", array(ref("UsageByPlan"))),
        ])
        s["UsageByPurpose"] = usage([("purpose", string)])
        s["UsageByModel"] = usage([("provider", string), ("model", string)])
        s["UsageByPlan"] = usage([("plan_id", uuid), ("project_name", described(nullable(string), "Null until the plan has a name."))])
        s["Health"] = object(["status": enumeration(["ok", "ready", "degraded", "not_ready"]), "pid": integer,
                              "checks": anyObject,
                              "demo_model": .object(["type": "boolean", "description": "Readiness only: true when a scripted demo model answers."]),
                              "model": .object(["type": "string", "description": "Readiness in demo mode only: the demo model's name."])],
                             required: ["status"])
        s["Event"] = object(["id": integer, "plan_id": nullable(uuid), "type": enumeration(eventTypes), "created_at": time,
                             "data": anyObject],
                            required: ["id", "type", "created_at", "data"])
        for (name, schema) in accountSchemas { s[name] = schema }
        return s
    }
}
