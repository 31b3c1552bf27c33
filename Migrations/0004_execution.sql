-- 0004_execution.sql
--
-- Creates the state of a plan's execution (DESIGN.md §6):
--   waves              topological levels of the atom graph, each gated by Gate S
--   atoms              one per (task, file): the unit the LLM writes, validated and scored
--   atom_dependencies  edge "atom depends on depends_on_atom" (from task dependencies, or implicit
--                      between two writers of one file, ordered by task number)
--   atom_attempts      every attempt: temperature, prompt digest, output, validation, cost; at most
--                      one accepted attempt per atom ("no atom accepted twice")
--   gate_results       Gate S per wave and repair round
--   test_runs          each run of a frozen acceptance test, with the hash of what was run
--
-- Everything carries plan_id and references its parent through (plan_id, id), so nothing here can
-- point into another plan; deleting a plan cascades through all of it. Direct deletes of evidence
-- (a task with atoms, an atom with attempts, a test with runs, a wave with runs or gate results)
-- are refused (RESTRICT).

-- waves ---------------------------------------------------------------------------------------

CREATE TABLE waves (
    id              uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    plan_id         uuid        NOT NULL REFERENCES masterplans (id) ON DELETE CASCADE,
    number          integer     NOT NULL,
    atom_count      integer     NOT NULL DEFAULT 0,
    status          text        NOT NULL DEFAULT 'pending',
    repair_rounds   integer     NOT NULL DEFAULT 0,
    commit_sha      text,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    started_at      timestamptz,
    gate_started_at timestamptz,
    finished_at     timestamptz,
    CONSTRAINT waves_plan_number_key    UNIQUE (plan_id, number),
    CONSTRAINT waves_plan_id_key        UNIQUE (plan_id, id),
    CONSTRAINT waves_number_check       CHECK (number >= 1),
    CONSTRAINT waves_atom_count_check   CHECK (atom_count >= 0),
    CONSTRAINT waves_status_check       CHECK (status IN ('pending', 'running', 'gating', 'passed', 'failed')),
    CONSTRAINT waves_repair_rounds_check CHECK (repair_rounds >= 0),
    CONSTRAINT waves_commit_sha_check   CHECK (commit_sha IS NULL OR commit_sha ~ '^([0-9a-f]{40}|[0-9a-f]{64})$'),
    CONSTRAINT waves_started_check      CHECK (status NOT IN ('running', 'gating', 'passed', 'failed')
                                               OR started_at IS NOT NULL),
    CONSTRAINT waves_gate_started_check CHECK (status <> 'gating' OR gate_started_at IS NOT NULL),
    CONSTRAINT waves_finished_check     CHECK (status NOT IN ('passed', 'failed') OR finished_at IS NOT NULL)
);

CREATE INDEX waves_plan_status_idx ON waves (plan_id, status);

CREATE TRIGGER waves_set_updated_at BEFORE UPDATE ON waves
    FOR EACH ROW EXECUTE FUNCTION masterplan_set_updated_at();

COMMENT ON COLUMN waves.commit_sha IS 'Workspace git commit holding this wave''s accepted atoms.';
COMMENT ON COLUMN waves.repair_rounds IS 'Gate repair rounds run for this wave so far.';

-- atoms ---------------------------------------------------------------------------------------

CREATE TABLE atoms (
    id                   uuid             PRIMARY KEY DEFAULT gen_random_uuid(),
    plan_id              uuid             NOT NULL REFERENCES masterplans (id) ON DELETE CASCADE,
    task_id              uuid             NOT NULL,
    file_path            text             NOT NULL,
    wave                 integer,
    status               text             NOT NULL DEFAULT 'pending',
    attempts             integer          NOT NULL DEFAULT 0,
    confidence           double precision,
    final_content_sha256 text,
    created_at           timestamptz      NOT NULL DEFAULT now(),
    updated_at           timestamptz      NOT NULL DEFAULT now(),
    started_at           timestamptz,
    finished_at          timestamptz,
    CONSTRAINT atoms_task_fkey            FOREIGN KEY (plan_id, task_id)
                                          REFERENCES tasks (plan_id, id) ON DELETE RESTRICT,
    -- PostgreSQL 15 column list: deleting a wave un-assigns its atoms but keeps plan_id.
    CONSTRAINT atoms_wave_fkey            FOREIGN KEY (plan_id, wave)
                                          REFERENCES waves (plan_id, number) ON DELETE SET NULL (wave),
    CONSTRAINT atoms_plan_task_file_key   UNIQUE (plan_id, task_id, file_path),
    -- No wave ever holds two writers of one file (DESIGN.md §6).
    CONSTRAINT atoms_plan_wave_file_key   UNIQUE (plan_id, wave, file_path),
    CONSTRAINT atoms_plan_id_key          UNIQUE (plan_id, id),
    CONSTRAINT atoms_file_path_check      CHECK (masterplan_are_workspace_paths(ARRAY[file_path])),
    CONSTRAINT atoms_wave_check           CHECK (wave IS NULL OR wave >= 1),
    CONSTRAINT atoms_status_check         CHECK (status IN ('pending', 'running', 'succeeded', 'failed',
                                                            'needs_review', 'approved', 'rejected')),
    CONSTRAINT atoms_attempts_check       CHECK (attempts >= 0),
    CONSTRAINT atoms_confidence_check     CHECK (confidence IS NULL OR confidence BETWEEN 0 AND 1),
    CONSTRAINT atoms_final_sha_check      CHECK (final_content_sha256 IS NULL
                                                 OR final_content_sha256 ~ '^[0-9a-f]{64}$'),
    CONSTRAINT atoms_accepted_check       CHECK (status NOT IN ('succeeded', 'approved')
                                                 OR final_content_sha256 IS NOT NULL),
    CONSTRAINT atoms_needs_review_check   CHECK (status <> 'needs_review' OR confidence IS NOT NULL),
    CONSTRAINT atoms_started_check        CHECK (status <> 'running' OR started_at IS NOT NULL)
);

-- Atoms by (plan_id, wave) use atoms_plan_wave_file_key; by (plan_id, task_id) atoms_plan_task_file_key.
CREATE INDEX atoms_plan_status_idx ON atoms (plan_id, status);

CREATE TRIGGER atoms_set_updated_at BEFORE UPDATE ON atoms
    FOR EACH ROW EXECUTE FUNCTION masterplan_set_updated_at();

COMMENT ON COLUMN atoms.wave IS 'Number of the wave (waves.number) the atom runs in; NULL until waves are planned.';
COMMENT ON COLUMN atoms.attempts IS 'Attempts made so far (provider errors are retried separately and do not count).';
COMMENT ON COLUMN atoms.confidence IS '0.40*V + 0.30*R + 0.20*C + 0.10*I, computed by PlanCore after the final attempt.';
COMMENT ON COLUMN atoms.final_content_sha256 IS 'Lowercase hex SHA-256 of the accepted content committed to the workspace.';

CREATE TABLE atom_dependencies (
    plan_id            uuid        NOT NULL REFERENCES masterplans (id) ON DELETE CASCADE,
    atom_id            uuid        NOT NULL,
    depends_on_atom_id uuid        NOT NULL,
    kind               text        NOT NULL,
    created_at         timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (atom_id, depends_on_atom_id),
    CONSTRAINT atom_dependencies_atom_fkey       FOREIGN KEY (plan_id, atom_id)
                                                 REFERENCES atoms (plan_id, id) ON DELETE CASCADE,
    CONSTRAINT atom_dependencies_depends_on_fkey FOREIGN KEY (plan_id, depends_on_atom_id)
                                                 REFERENCES atoms (plan_id, id) ON DELETE CASCADE,
    CONSTRAINT atom_dependencies_not_self_check  CHECK (atom_id <> depends_on_atom_id),
    CONSTRAINT atom_dependencies_kind_check      CHECK (kind IN ('task', 'same_file'))
);

CREATE INDEX atom_dependencies_depends_on_idx ON atom_dependencies (depends_on_atom_id);
CREATE INDEX atom_dependencies_plan_idx ON atom_dependencies (plan_id);

COMMENT ON COLUMN atom_dependencies.kind IS
    'task: from a task dependency; same_file: implicit edge between two writers of one file, by task number.';

-- atom_attempts -------------------------------------------------------------------------------

CREATE TABLE atom_attempts (
    id             uuid          PRIMARY KEY DEFAULT gen_random_uuid(),
    plan_id        uuid          NOT NULL REFERENCES masterplans (id) ON DELETE CASCADE,
    atom_id        uuid          NOT NULL,
    attempt        integer       NOT NULL,
    origin         text          NOT NULL DEFAULT 'generate',
    temperature    numeric(3,2),
    prompt_digest  text,
    llm_call_id    uuid          REFERENCES llm_calls (id) ON DELETE SET NULL,
    output         text,
    validation     jsonb         NOT NULL DEFAULT '[]',
    error_feedback text,
    input_tokens   integer       NOT NULL DEFAULT 0,
    output_tokens  integer       NOT NULL DEFAULT 0,
    cost_usd       numeric(14,6) NOT NULL DEFAULT 0,
    accepted       boolean       NOT NULL DEFAULT false,
    created_at     timestamptz   NOT NULL DEFAULT now(),
    finished_at    timestamptz,
    CONSTRAINT atom_attempts_atom_fkey          FOREIGN KEY (plan_id, atom_id)
                                                REFERENCES atoms (plan_id, id) ON DELETE RESTRICT,
    CONSTRAINT atom_attempts_atom_attempt_key   UNIQUE (atom_id, attempt),
    CONSTRAINT atom_attempts_attempt_check      CHECK (attempt >= 1),
    CONSTRAINT atom_attempts_origin_check       CHECK (origin IN ('generate', 'retry', 'gate_repair',
                                                                  'review_regenerate', 'review_edit')),
    CONSTRAINT atom_attempts_llm_check          CHECK (origin = 'review_edit'
                                                       OR (temperature IS NOT NULL AND prompt_digest IS NOT NULL)),
    CONSTRAINT atom_attempts_temperature_check  CHECK (temperature IS NULL OR temperature BETWEEN 0 AND 2),
    CONSTRAINT atom_attempts_prompt_digest_check CHECK (prompt_digest IS NULL OR prompt_digest ~ '^[0-9a-f]{64}$'),
    CONSTRAINT atom_attempts_validation_check   CHECK (jsonb_typeof(validation) = 'array'),
    CONSTRAINT atom_attempts_tokens_check       CHECK (input_tokens >= 0 AND output_tokens >= 0),
    CONSTRAINT atom_attempts_cost_check         CHECK (cost_usd >= 0),
    CONSTRAINT atom_attempts_accepted_check     CHECK (NOT accepted OR output IS NOT NULL)
);

-- "No atom accepted twice": at most one accepted attempt per atom, even across executor restarts.
CREATE UNIQUE INDEX atom_attempts_one_accepted_key ON atom_attempts (atom_id) WHERE accepted;
CREATE INDEX atom_attempts_plan_idx ON atom_attempts (plan_id);
CREATE INDEX atom_attempts_llm_call_idx ON atom_attempts (llm_call_id) WHERE llm_call_id IS NOT NULL;

COMMENT ON COLUMN atom_attempts.attempt IS
    'Attempt number within the atom, from 1; review regenerations and gate repairs continue the sequence.';
COMMENT ON COLUMN atom_attempts.origin IS
    'Why the attempt exists: generate (first), retry (after failed validation), gate_repair, review_regenerate, '
    'or review_edit (human content; no LLM, so no temperature or prompt).';
COMMENT ON COLUMN atom_attempts.prompt_digest IS 'Lowercase hex SHA-256 of the exact prompt sent.';
COMMENT ON COLUMN atom_attempts.output IS 'Full new content of the atom''s file as returned (NULL if no usable output).';
COMMENT ON COLUMN atom_attempts.validation IS
    'Validator results of this attempt: [{"validator": "py_compile", "passed": true, "message": "..."}, ...].';
COMMENT ON COLUMN atom_attempts.error_feedback IS 'Errors carried into the next attempt''s prompt.';
COMMENT ON COLUMN atom_attempts.accepted IS 'True for the one attempt whose output became the file''s content.';

-- gate_results --------------------------------------------------------------------------------

CREATE TABLE gate_results (
    id            uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    plan_id       uuid        NOT NULL REFERENCES masterplans (id) ON DELETE CASCADE,
    wave_id       uuid        NOT NULL,
    repair_round  integer     NOT NULL DEFAULT 0,
    must_total    integer     NOT NULL,
    must_passed   integer     NOT NULL,
    should_total  integer     NOT NULL,
    should_passed integer     NOT NULL,
    passed        boolean     NOT NULL,
    failing_tests jsonb       NOT NULL DEFAULT '[]',
    created_at    timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT gate_results_wave_fkey         FOREIGN KEY (plan_id, wave_id)
                                              REFERENCES waves (plan_id, id) ON DELETE RESTRICT,
    CONSTRAINT gate_results_wave_round_key    UNIQUE (wave_id, repair_round),
    CONSTRAINT gate_results_repair_round_check CHECK (repair_round >= 0),
    CONSTRAINT gate_results_counts_check      CHECK (must_passed BETWEEN 0 AND must_total
                                                     AND should_passed BETWEEN 0 AND should_total),
    -- Gate S: every due MUST test passes and at least 95 % of due SHOULD tests pass.
    CONSTRAINT gate_results_gate_s_check      CHECK (NOT passed
                                                     OR (must_passed = must_total
                                                         AND should_passed * 100 >= should_total * 95)),
    CONSTRAINT gate_results_failing_tests_check CHECK (jsonb_typeof(failing_tests) = 'array')
);

CREATE INDEX gate_results_plan_idx ON gate_results (plan_id, created_at);

COMMENT ON COLUMN gate_results.repair_round IS '0 for the gate right after the wave, then 1..R for each repair round.';
COMMENT ON COLUMN gate_results.failing_tests IS
    'Tests that failed: [{"test_id": "...", "name": "...", "priority": "must", "status": "fail"}, ...].';

-- test_runs -----------------------------------------------------------------------------------

CREATE TABLE test_runs (
    id           uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    plan_id      uuid        NOT NULL REFERENCES masterplans (id) ON DELETE CASCADE,
    test_id      uuid        NOT NULL,
    test_sha256  text        NOT NULL,
    wave_id      uuid        NOT NULL,
    repair_round integer     NOT NULL DEFAULT 0,
    status       text        NOT NULL,
    exit_code    integer,
    duration_ms  integer     NOT NULL,
    output_tail  text        NOT NULL DEFAULT '',
    created_at   timestamptz NOT NULL DEFAULT now(),
    -- Only the frozen (approved) version of a test can be run: the hash must match acceptance_tests.sha256.
    CONSTRAINT test_runs_test_fkey          FOREIGN KEY (plan_id, test_id, test_sha256)
                                            REFERENCES acceptance_tests (plan_id, id, sha256) ON DELETE RESTRICT,
    CONSTRAINT test_runs_wave_fkey          FOREIGN KEY (plan_id, wave_id)
                                            REFERENCES waves (plan_id, id) ON DELETE RESTRICT,
    CONSTRAINT test_runs_repair_round_check CHECK (repair_round >= 0),
    CONSTRAINT test_runs_status_check       CHECK (status IN ('pass', 'fail', 'error', 'timeout')),
    CONSTRAINT test_runs_duration_check     CHECK (duration_ms >= 0),
    CONSTRAINT test_runs_output_tail_check  CHECK (octet_length(output_tail) <= 65536)
);

CREATE INDEX test_runs_test_idx ON test_runs (test_id, created_at DESC);
CREATE INDEX test_runs_wave_idx ON test_runs (wave_id, repair_round);
CREATE INDEX test_runs_plan_idx ON test_runs (plan_id, created_at);

COMMENT ON COLUMN test_runs.test_sha256 IS 'Hash of the test code that ran; must equal the frozen acceptance_tests.sha256.';
COMMENT ON COLUMN test_runs.output_tail IS 'Last part of the combined output (at most 64 KiB), for the UI and repair prompts.';
