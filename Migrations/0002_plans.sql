-- 0002_plans.sql
--
-- Creates the plan and everything a human reviews before approving it (DESIGN.md §4, §5):
--   masterplan_are_workspace_paths(text[])  path rule shared by tasks, atoms and tests
--   discoveries            the domain analysis that precedes a plan
--   masterplans            the plan itself: status machine, budget, counters, full-text search
--   phases, milestones, tasks, task_dependencies, subtasks
--   acceptance_criteria    what each task must (MUST) or should (SHOULD) achieve
--   acceptance_tests       generated with the plan, frozen (SHA-256) at approval
--   acceptance_test_criteria  which criteria each test covers (decides when a test is due)
--   plan_versions, plan_history  snapshots and the audit trail of every edit/approval/regeneration
--
-- Same-plan integrity is enforced by the database, not only by PlanCore: child rows carry plan_id
-- and reference their parent through composite keys (plan_id, id), so a task dependency, a
-- milestone's phase or a test's criterion can never point into another plan.

-- Path rule -----------------------------------------------------------------------------------

-- Relative, normalised, inside the workspace: no absolute path, no "." or ".." segment, no empty
-- segment, no trailing slash, no backslash or control character, nothing inside .git/.hg/.svn,
-- and no path listed twice. PlanCore validates the same rule with JSON paths in its errors; this
-- is the backstop. Self-contained (built-ins only) so it works under any search_path.
CREATE FUNCTION masterplan_are_workspace_paths(paths text[]) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT coalesce(bool_and(
               p IS NOT NULL
               AND length(p) BETWEEN 1 AND 1024
               AND p !~ '^/'
               AND p !~ '(^|/)\.\.?(/|$)'
               AND p !~ '//'
               AND p !~ '/$'
               AND p !~ '\\'
               AND p !~ '[[:cntrl:]]'
               AND p !~* '(^|/)\.(git|hg|svn)(/|$)'), true)
       AND coalesce(cardinality(paths), 0) = count(DISTINCT p)
    FROM unnest(paths) AS p
$$;

COMMENT ON FUNCTION masterplan_are_workspace_paths(text[]) IS
    'True when every element is a distinct, relative, normalised workspace path (no .., no absolute path, no VCS internals).';

-- discoveries ---------------------------------------------------------------------------------

CREATE TABLE discoveries (
    id               uuid          PRIMARY KEY DEFAULT gen_random_uuid(),
    owner_id         uuid          NOT NULL REFERENCES users (id) ON DELETE RESTRICT,
    conversation_id  uuid          REFERENCES conversations (id) ON DELETE SET NULL,
    request          text          NOT NULL,
    domain           text          NOT NULL,
    bounded_contexts jsonb         NOT NULL DEFAULT '[]',
    aggregates       jsonb         NOT NULL DEFAULT '[]',
    value_objects    jsonb         NOT NULL DEFAULT '[]',
    domain_events    jsonb         NOT NULL DEFAULT '[]',
    services         jsonb         NOT NULL DEFAULT '[]',
    assumptions      jsonb         NOT NULL DEFAULT '[]',
    clarifications   jsonb         NOT NULL DEFAULT '[]',
    risks            jsonb         NOT NULL DEFAULT '[]',
    model            text          NOT NULL,
    input_tokens     integer       NOT NULL DEFAULT 0,
    output_tokens    integer       NOT NULL DEFAULT 0,
    cost_usd         numeric(14,6) NOT NULL DEFAULT 0,
    created_at       timestamptz   NOT NULL DEFAULT now(),
    updated_at       timestamptz   NOT NULL DEFAULT now(),
    CONSTRAINT discoveries_request_check CHECK (length(btrim(request)) > 0),
    CONSTRAINT discoveries_model_check   CHECK (length(model) > 0),
    CONSTRAINT discoveries_jsonb_check   CHECK (jsonb_typeof(bounded_contexts) = 'array'
                                                AND jsonb_typeof(aggregates) = 'array'
                                                AND jsonb_typeof(value_objects) = 'array'
                                                AND jsonb_typeof(domain_events) = 'array'
                                                AND jsonb_typeof(services) = 'array'
                                                AND jsonb_typeof(assumptions) = 'array'
                                                AND jsonb_typeof(clarifications) = 'array'
                                                AND jsonb_typeof(risks) = 'array'),
    CONSTRAINT discoveries_tokens_check  CHECK (input_tokens >= 0 AND output_tokens >= 0),
    CONSTRAINT discoveries_cost_check    CHECK (cost_usd >= 0)
);

CREATE INDEX discoveries_owner_idx ON discoveries (owner_id, created_at DESC);
CREATE INDEX discoveries_conversation_idx ON discoveries (conversation_id) WHERE conversation_id IS NOT NULL;

CREATE TRIGGER discoveries_set_updated_at BEFORE UPDATE ON discoveries
    FOR EACH ROW EXECUTE FUNCTION masterplan_set_updated_at();

COMMENT ON COLUMN discoveries.model IS
    'Model that produced the discovery; tokens and cost here are copies for display, llm_calls is the ledger.';

-- masterplans ---------------------------------------------------------------------------------

CREATE TABLE masterplans (
    id                         uuid          PRIMARY KEY DEFAULT gen_random_uuid(),
    owner_id                   uuid          NOT NULL REFERENCES users (id) ON DELETE RESTRICT,
    conversation_id            uuid          REFERENCES conversations (id) ON DELETE SET NULL,
    source_message_id          uuid          REFERENCES messages (id) ON DELETE SET NULL,
    discovery_id               uuid          REFERENCES discoveries (id) ON DELETE RESTRICT,
    request                    text          NOT NULL,
    project_name               text,
    summary                    text,
    tech_stack                 jsonb         NOT NULL DEFAULT '{}',
    status                     text          NOT NULL DEFAULT 'generating',
    status_reason              text,
    version                    integer       NOT NULL DEFAULT 1,
    workspace_path             text,
    budget_usd                 numeric(14,6) NOT NULL,
    estimated_cost_usd         numeric(14,6),
    actual_cost_usd            numeric(14,6) NOT NULL DEFAULT 0,
    estimated_duration_seconds integer,
    actual_duration_seconds    integer,
    total_phases               integer       NOT NULL DEFAULT 0,
    total_milestones           integer       NOT NULL DEFAULT 0,
    total_tasks                integer       NOT NULL DEFAULT 0,
    completed_tasks            integer       NOT NULL DEFAULT 0,
    failed_tasks               integer       NOT NULL DEFAULT 0,
    total_atoms                integer       NOT NULL DEFAULT 0,
    completed_atoms            integer       NOT NULL DEFAULT 0,
    total_waves                integer       NOT NULL DEFAULT 0,
    current_wave               integer,
    created_at                 timestamptz   NOT NULL DEFAULT now(),
    updated_at                 timestamptz   NOT NULL DEFAULT now(),
    generated_at               timestamptz,
    approved_at                timestamptz,
    rejected_at                timestamptz,
    started_at                 timestamptz,
    completed_at               timestamptz,
    search                     tsvector      GENERATED ALWAYS AS (
                                   setweight(to_tsvector('english', coalesce(project_name, '')), 'A')
                                || setweight(to_tsvector('english', coalesce(summary, '')), 'B')
                                || setweight(to_tsvector('english', request), 'C')
                               ) STORED,
    CONSTRAINT masterplans_status_check CHECK (status IN (
        'generating', 'draft', 'approved', 'rejected', 'generation_failed', 'queued',
        'executing', 'completed', 'failed', 'blocked', 'paused', 'cancelled')),
    CONSTRAINT masterplans_request_check        CHECK (length(btrim(request)) > 0),
    CONSTRAINT masterplans_generated_check      CHECK (status IN ('generating', 'generation_failed')
                                                       OR (project_name IS NOT NULL AND summary IS NOT NULL)),
    CONSTRAINT masterplans_project_name_check   CHECK (project_name IS NULL OR length(btrim(project_name)) > 0),
    CONSTRAINT masterplans_tech_stack_check     CHECK (jsonb_typeof(tech_stack) = 'object'),
    CONSTRAINT masterplans_version_check        CHECK (version >= 1),
    CONSTRAINT masterplans_workspace_path_check CHECK (workspace_path IS NULL OR length(workspace_path) > 0),
    CONSTRAINT masterplans_budget_check         CHECK (budget_usd > 0),
    CONSTRAINT masterplans_cost_check           CHECK ((estimated_cost_usd IS NULL OR estimated_cost_usd >= 0)
                                                       AND actual_cost_usd >= 0),
    CONSTRAINT masterplans_duration_check       CHECK ((estimated_duration_seconds IS NULL OR estimated_duration_seconds >= 0)
                                                       AND (actual_duration_seconds IS NULL OR actual_duration_seconds >= 0)),
    CONSTRAINT masterplans_counters_check       CHECK (total_phases >= 0 AND total_milestones >= 0
                                                       AND total_tasks >= 0 AND total_atoms >= 0 AND total_waves >= 0
                                                       AND completed_tasks BETWEEN 0 AND total_tasks
                                                       AND failed_tasks BETWEEN 0 AND total_tasks
                                                       AND completed_tasks + failed_tasks <= total_tasks
                                                       AND completed_atoms BETWEEN 0 AND total_atoms
                                                       AND (current_wave IS NULL OR current_wave BETWEEN 1 AND total_waves)),
    -- Execution needs an approval: a plan cannot be queued/executing/... without approved_at.
    CONSTRAINT masterplans_approved_at_check    CHECK (status NOT IN ('approved', 'queued', 'executing', 'completed',
                                                                      'failed', 'blocked', 'paused')
                                                       OR approved_at IS NOT NULL),
    CONSTRAINT masterplans_started_at_check     CHECK (status <> 'executing' OR started_at IS NOT NULL),
    CONSTRAINT masterplans_completed_at_check   CHECK (status <> 'completed' OR completed_at IS NOT NULL),
    CONSTRAINT masterplans_workspace_path_key   UNIQUE (workspace_path)
);

CREATE INDEX masterplans_owner_created_idx ON masterplans (owner_id, created_at DESC);
CREATE INDEX masterplans_owner_status_idx  ON masterplans (owner_id, status);
CREATE INDEX masterplans_status_idx        ON masterplans (status, updated_at);
CREATE INDEX masterplans_search_idx        ON masterplans USING gin (search);
CREATE INDEX masterplans_discovery_idx     ON masterplans (discovery_id) WHERE discovery_id IS NOT NULL;
CREATE INDEX masterplans_conversation_idx  ON masterplans (conversation_id) WHERE conversation_id IS NOT NULL;
CREATE INDEX masterplans_source_message_idx ON masterplans (source_message_id) WHERE source_message_id IS NOT NULL;

CREATE TRIGGER masterplans_set_updated_at BEFORE UPDATE ON masterplans
    FOR EACH ROW EXECUTE FUNCTION masterplan_set_updated_at();

COMMENT ON COLUMN masterplans.request IS 'The plain-language request the plan was made from, verbatim.';
COMMENT ON COLUMN masterplans.status IS
    'generating -> draft -> approved|rejected; draft -> generating (regenerate); approved -> queued -> executing -> '
    'completed|failed|blocked|paused|cancelled; blocked|paused|failed -> executing; generation_failed when generation '
    'gives up. PlanCore owns the transition rules; update with WHERE status = ANY(allowed sources).';
COMMENT ON COLUMN masterplans.status_reason IS 'Why the plan is blocked/paused/failed/generation_failed, for the UI.';
COMMENT ON COLUMN masterplans.version IS 'Current version number; plan_versions holds a snapshot per number.';
COMMENT ON COLUMN masterplans.budget_usd IS 'Cost ceiling: 80 % emits cost_warning, 100 % pauses the plan.';
COMMENT ON COLUMN masterplans.actual_cost_usd IS
    'Sum of llm_calls.cost_usd for this plan, maintained by the llm_calls_add_cost trigger (0003). Do not write it.';
COMMENT ON COLUMN masterplans.current_wave IS 'Number of the wave running or last run; NULL before execution.';
COMMENT ON COLUMN masterplans.search IS
    'Full-text vector of project_name (A), summary (B) and request (C) for "similar plans" retrieval, e.g. '
    'WHERE search @@ to_tsquery(''english'', ''fastapi | jwt | auth'') ORDER BY ts_rank(search, q) DESC LIMIT 5.';

-- phases, milestones, tasks ---------------------------------------------------------------------

CREATE TABLE phases (
    id          uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    plan_id     uuid        NOT NULL REFERENCES masterplans (id) ON DELETE CASCADE,
    number      integer     NOT NULL,
    kind        text        NOT NULL,
    name        text        NOT NULL,
    description text        NOT NULL DEFAULT '',
    created_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT phases_plan_number_key UNIQUE (plan_id, number),
    CONSTRAINT phases_plan_id_key     UNIQUE (plan_id, id),
    CONSTRAINT phases_number_check    CHECK (number >= 1),
    CONSTRAINT phases_kind_check      CHECK (kind IN ('setup', 'core', 'polish')),
    CONSTRAINT phases_name_check      CHECK (length(btrim(name)) > 0)
);

CREATE TABLE milestones (
    id          uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    plan_id     uuid        NOT NULL REFERENCES masterplans (id) ON DELETE CASCADE,
    phase_id    uuid        NOT NULL,
    number      integer     NOT NULL,
    name        text        NOT NULL,
    description text        NOT NULL DEFAULT '',
    created_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT milestones_phase_fkey        FOREIGN KEY (plan_id, phase_id)
                                            REFERENCES phases (plan_id, id) ON DELETE CASCADE,
    CONSTRAINT milestones_phase_number_key  UNIQUE (phase_id, number),
    CONSTRAINT milestones_plan_id_key       UNIQUE (plan_id, id),
    CONSTRAINT milestones_number_check      CHECK (number >= 1),
    CONSTRAINT milestones_name_check        CHECK (length(btrim(name)) > 0)
);

CREATE TABLE tasks (
    id           uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    plan_id      uuid        NOT NULL REFERENCES masterplans (id) ON DELETE CASCADE,
    milestone_id uuid        NOT NULL,
    number       integer     NOT NULL,
    name         text        NOT NULL,
    description  text        NOT NULL DEFAULT '',
    complexity   text        NOT NULL,
    files        text[]      NOT NULL DEFAULT '{}',
    status       text        NOT NULL DEFAULT 'pending',
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    completed_at timestamptz,
    CONSTRAINT tasks_milestone_fkey     FOREIGN KEY (plan_id, milestone_id)
                                        REFERENCES milestones (plan_id, id) ON DELETE CASCADE,
    CONSTRAINT tasks_plan_number_key    UNIQUE (plan_id, number),
    CONSTRAINT tasks_plan_id_key        UNIQUE (plan_id, id),
    CONSTRAINT tasks_number_check       CHECK (number >= 1),
    CONSTRAINT tasks_name_check         CHECK (length(btrim(name)) > 0),
    CONSTRAINT tasks_complexity_check   CHECK (complexity IN ('low', 'medium', 'high', 'critical')),
    CONSTRAINT tasks_status_check       CHECK (status IN ('pending', 'running', 'needs_review', 'completed',
                                                          'failed', 'blocked', 'cancelled')),
    CONSTRAINT tasks_files_check        CHECK (masterplan_are_workspace_paths(files))
);

CREATE INDEX tasks_milestone_idx ON tasks (milestone_id);
CREATE INDEX tasks_plan_status_idx ON tasks (plan_id, status);

CREATE TRIGGER tasks_set_updated_at BEFORE UPDATE ON tasks
    FOR EACH ROW EXECUTE FUNCTION masterplan_set_updated_at();

COMMENT ON COLUMN tasks.number IS 'The LLM''s task number, unique in the plan; the API addresses tasks by it.';
COMMENT ON COLUMN tasks.files IS 'Relative workspace paths the task writes; one atom per (task, file).';
COMMENT ON COLUMN tasks.status IS
    'completed only with evidence: every atom accepted, due tests passing, reviews resolved.';

CREATE TABLE task_dependencies (
    plan_id            uuid        NOT NULL REFERENCES masterplans (id) ON DELETE CASCADE,
    task_id            uuid        NOT NULL,
    depends_on_task_id uuid        NOT NULL,
    created_at         timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (task_id, depends_on_task_id),
    CONSTRAINT task_dependencies_task_fkey       FOREIGN KEY (plan_id, task_id)
                                                 REFERENCES tasks (plan_id, id) ON DELETE CASCADE,
    CONSTRAINT task_dependencies_depends_on_fkey FOREIGN KEY (plan_id, depends_on_task_id)
                                                 REFERENCES tasks (plan_id, id) ON DELETE CASCADE,
    CONSTRAINT task_dependencies_not_self_check  CHECK (task_id <> depends_on_task_id)
);

CREATE INDEX task_dependencies_depends_on_idx ON task_dependencies (depends_on_task_id);
CREATE INDEX task_dependencies_plan_idx ON task_dependencies (plan_id);

COMMENT ON TABLE task_dependencies IS
    'task_id depends on depends_on_task_id (depends_on runs first). Both in plan_id, enforced by the composite '
    'foreign keys. Cycles are rejected by PlanCore before insert.';

CREATE TABLE subtasks (
    id          uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    task_id     uuid        NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
    number      integer     NOT NULL,
    name        text        NOT NULL,
    description text        NOT NULL DEFAULT '',
    created_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT subtasks_task_number_key UNIQUE (task_id, number),
    CONSTRAINT subtasks_number_check    CHECK (number >= 1),
    CONSTRAINT subtasks_name_check      CHECK (length(btrim(name)) > 0)
);

-- acceptance criteria and tests -----------------------------------------------------------------

CREATE TABLE acceptance_criteria (
    id         uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    plan_id    uuid        NOT NULL REFERENCES masterplans (id) ON DELETE CASCADE,
    task_id    uuid        NOT NULL,
    position   integer     NOT NULL,
    priority   text        NOT NULL,
    criterion  text        NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT acceptance_criteria_task_fkey         FOREIGN KEY (plan_id, task_id)
                                                     REFERENCES tasks (plan_id, id) ON DELETE CASCADE,
    CONSTRAINT acceptance_criteria_task_position_key UNIQUE (task_id, position),
    CONSTRAINT acceptance_criteria_plan_id_key       UNIQUE (plan_id, id),
    CONSTRAINT acceptance_criteria_position_check    CHECK (position >= 1),
    CONSTRAINT acceptance_criteria_priority_check    CHECK (priority IN ('must', 'should')),
    CONSTRAINT acceptance_criteria_criterion_check   CHECK (length(btrim(criterion)) > 0)
);

CREATE INDEX acceptance_criteria_plan_priority_idx ON acceptance_criteria (plan_id, priority);

CREATE TABLE acceptance_tests (
    id         uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    plan_id    uuid        NOT NULL REFERENCES masterplans (id) ON DELETE CASCADE,
    name       text        NOT NULL,
    priority   text        NOT NULL,
    file_path  text        NOT NULL,
    code       text        NOT NULL,
    sha256     text,
    frozen_at  timestamptz,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT acceptance_tests_plan_file_name_key UNIQUE (plan_id, file_path, name),
    CONSTRAINT acceptance_tests_plan_id_key        UNIQUE (plan_id, id),
    -- Target of test_runs' foreign key: a run can only name the frozen hash of its test.
    CONSTRAINT acceptance_tests_plan_id_sha256_key UNIQUE (plan_id, id, sha256),
    CONSTRAINT acceptance_tests_name_check         CHECK (length(btrim(name)) > 0),
    CONSTRAINT acceptance_tests_priority_check     CHECK (priority IN ('must', 'should')),
    CONSTRAINT acceptance_tests_file_path_check    CHECK (masterplan_are_workspace_paths(ARRAY[file_path])),
    CONSTRAINT acceptance_tests_frozen_check       CHECK ((frozen_at IS NULL) = (sha256 IS NULL)),
    CONSTRAINT acceptance_tests_sha256_check       CHECK (sha256 IS NULL
                                                          OR sha256 = encode(sha256(convert_to(code, 'UTF8')), 'hex'))
);

CREATE TRIGGER acceptance_tests_set_updated_at BEFORE UPDATE ON acceptance_tests
    FOR EACH ROW EXECUTE FUNCTION masterplan_set_updated_at();

COMMENT ON COLUMN acceptance_tests.name IS 'Test identifier inside its file (e.g. the pytest function name).';
COMMENT ON COLUMN acceptance_tests.priority IS
    'must when the test covers any MUST criterion, else should; Gate S counts tests by this column.';
COMMENT ON COLUMN acceptance_tests.sha256 IS
    'Lowercase hex SHA-256 of the UTF-8 bytes of code, set together with frozen_at at approval. The CHECK recomputes '
    'it; test_runs reference (plan_id, id, sha256), so only the approved version of a test can have runs.';

-- A frozen test is the contract the executor runs: its content can no longer change.
CREATE FUNCTION masterplan_guard_frozen_test() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF (NEW.plan_id, NEW.name, NEW.priority, NEW.file_path, NEW.code, NEW.sha256, NEW.frozen_at)
       IS DISTINCT FROM
       (OLD.plan_id, OLD.name, OLD.priority, OLD.file_path, OLD.code, OLD.sha256, OLD.frozen_at) THEN
        RAISE EXCEPTION 'acceptance test % is frozen and cannot be changed', OLD.id
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  HINT = 'Tests are frozen at approval; regenerate the plan to change them.';
    END IF;
    RETURN NEW;
END;
$$;

CREATE TRIGGER acceptance_tests_guard_frozen BEFORE UPDATE ON acceptance_tests
    FOR EACH ROW WHEN (OLD.frozen_at IS NOT NULL) EXECUTE FUNCTION masterplan_guard_frozen_test();

CREATE TABLE acceptance_test_criteria (
    plan_id      uuid NOT NULL REFERENCES masterplans (id) ON DELETE CASCADE,
    test_id      uuid NOT NULL,
    criterion_id uuid NOT NULL,
    PRIMARY KEY (test_id, criterion_id),
    CONSTRAINT acceptance_test_criteria_test_fkey      FOREIGN KEY (plan_id, test_id)
                                                       REFERENCES acceptance_tests (plan_id, id) ON DELETE CASCADE,
    CONSTRAINT acceptance_test_criteria_criterion_fkey FOREIGN KEY (plan_id, criterion_id)
                                                       REFERENCES acceptance_criteria (plan_id, id) ON DELETE CASCADE
);

CREATE INDEX acceptance_test_criteria_criterion_idx ON acceptance_test_criteria (criterion_id);

COMMENT ON TABLE acceptance_test_criteria IS
    'Criteria a test covers. A test is due once every task owning one of its criteria is done.';

-- versions and history ------------------------------------------------------------------------

CREATE TABLE plan_versions (
    id          uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    plan_id     uuid        NOT NULL REFERENCES masterplans (id) ON DELETE CASCADE,
    number      integer     NOT NULL,
    snapshot    jsonb       NOT NULL,
    change_note text        NOT NULL DEFAULT '',
    author      text        NOT NULL,
    author_id   uuid        REFERENCES users (id) ON DELETE RESTRICT,
    created_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT plan_versions_plan_number_key UNIQUE (plan_id, number),
    CONSTRAINT plan_versions_number_check    CHECK (number >= 1),
    CONSTRAINT plan_versions_snapshot_check  CHECK (jsonb_typeof(snapshot) = 'object'),
    CONSTRAINT plan_versions_author_check    CHECK (author IN ('user', 'system', 'llm')),
    CONSTRAINT plan_versions_author_id_check CHECK (author <> 'user' OR author_id IS NOT NULL)
);

COMMENT ON COLUMN plan_versions.snapshot IS 'The whole plan tree at this version, in the §5 JSON shape.';
COMMENT ON COLUMN plan_versions.author_id IS 'The user behind the change; required when author = user.';

CREATE TABLE plan_history (
    id         bigint      PRIMARY KEY GENERATED ALWAYS AS IDENTITY,
    plan_id    uuid        NOT NULL REFERENCES masterplans (id) ON DELETE CASCADE,
    actor      text        NOT NULL,
    actor_id   uuid        REFERENCES users (id) ON DELETE RESTRICT,
    event      text        NOT NULL,
    data       jsonb       NOT NULL DEFAULT '{}',
    created_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT plan_history_actor_check    CHECK (actor IN ('user', 'system', 'llm')),
    CONSTRAINT plan_history_actor_id_check CHECK (actor <> 'user' OR actor_id IS NOT NULL),
    CONSTRAINT plan_history_event_check    CHECK (event ~ '^[a-z][a-z0-9_]{0,63}$'),
    CONSTRAINT plan_history_data_check     CHECK (jsonb_typeof(data) = 'object')
);

CREATE INDEX plan_history_plan_idx ON plan_history (plan_id, id);

COMMENT ON TABLE plan_history IS
    'Append-only audit trail (edit, approve, reject, regenerate, execute, pause, waive, ...); ordered by id.';
COMMENT ON COLUMN plan_history.event IS 'snake_case verb, e.g. task_edited, approved, regenerated, gate_waived.';
