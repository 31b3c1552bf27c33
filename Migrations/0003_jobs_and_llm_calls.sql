-- 0003_jobs_and_llm_calls.sql
--
-- Creates the executor's work queue and the cost ledger:
--   jobs                     generation/execution/regeneration/suggestions/chat work, claimed with
--                            FOR UPDATE SKIP LOCKED under a lease that a crashed executor loses
--   masterplan_notify_job()  NOTIFY masterplan_jobs <job id> whenever a job becomes queued, so idle
--                            executors wake at once instead of polling
--   llm_calls                every LLM exchange with tokens, cost and latency: the one place cost comes from
--   masterplan_add_llm_cost()  keeps masterplans.actual_cost_usd equal to the sum of its llm_calls
--
-- Claim (one statement, see STYLE.md):
--   WITH next AS (SELECT id FROM jobs
--                 WHERE state = 'queued' AND run_after <= now()
--                 ORDER BY run_after, created_at LIMIT 1 FOR UPDATE SKIP LOCKED)
--   UPDATE jobs j SET state = 'running', attempts = j.attempts + 1, lease_owner = $1,
--                     lease_expires_at = now() + $2::interval, started_at = now()
--   FROM next WHERE j.id = next.id RETURNING j.*;
-- Lease expiry: running jobs with lease_expires_at < now() are re-queued (attempts < max_attempts)
-- or failed; jobs_lease_idx serves that scan.

-- jobs ----------------------------------------------------------------------------------------

CREATE TABLE jobs (
    id               uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    kind             text        NOT NULL,
    plan_id          uuid        REFERENCES masterplans (id) ON DELETE CASCADE,
    conversation_id  uuid        REFERENCES conversations (id) ON DELETE CASCADE,
    payload          jsonb       NOT NULL DEFAULT '{}',
    state            text        NOT NULL DEFAULT 'queued',
    attempts         integer     NOT NULL DEFAULT 0,
    max_attempts     integer     NOT NULL DEFAULT 3,
    run_after        timestamptz NOT NULL DEFAULT now(),
    unique_key       text,
    lease_owner      text,
    lease_expires_at timestamptz,
    last_error       text,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    started_at       timestamptz,
    finished_at      timestamptz,
    CONSTRAINT jobs_kind_check         CHECK (kind IN ('generation', 'execution', 'regeneration',
                                                       'suggestions', 'chat')),
    CONSTRAINT jobs_state_check        CHECK (state IN ('queued', 'running', 'done', 'failed', 'cancelled')),
    CONSTRAINT jobs_payload_check      CHECK (jsonb_typeof(payload) = 'object'),
    CONSTRAINT jobs_attempts_check     CHECK (attempts >= 0 AND max_attempts >= 1 AND attempts <= max_attempts),
    CONSTRAINT jobs_plan_check         CHECK (kind NOT IN ('generation', 'execution', 'regeneration', 'suggestions')
                                              OR plan_id IS NOT NULL),
    CONSTRAINT jobs_conversation_check CHECK (kind <> 'chat' OR conversation_id IS NOT NULL),
    CONSTRAINT jobs_lease_check        CHECK (state <> 'running'
                                              OR (lease_owner IS NOT NULL AND lease_expires_at IS NOT NULL)),
    CONSTRAINT jobs_finished_check     CHECK (state NOT IN ('done', 'failed', 'cancelled') OR finished_at IS NOT NULL),
    CONSTRAINT jobs_unique_key_check   CHECK (unique_key IS NULL OR length(unique_key) > 0)
);

-- Claim: the next queued job in run_after order.
CREATE INDEX jobs_claim_idx ON jobs (run_after, created_at) WHERE state = 'queued';
-- Lease expiry: running jobs whose executor stopped renewing.
CREATE INDEX jobs_lease_idx ON jobs (lease_expires_at) WHERE state = 'running';
CREATE INDEX jobs_plan_idx ON jobs (plan_id, created_at) WHERE plan_id IS NOT NULL;
CREATE INDEX jobs_conversation_idx ON jobs (conversation_id) WHERE conversation_id IS NOT NULL;
-- At most one live execution and one live (re)generation per plan: a double click or two
-- executors racing cannot run a plan twice.
CREATE UNIQUE INDEX jobs_one_live_execution_key ON jobs (plan_id)
    WHERE kind = 'execution' AND state IN ('queued', 'running');
CREATE UNIQUE INDEX jobs_one_live_generation_key ON jobs (plan_id)
    WHERE kind IN ('generation', 'regeneration') AND state IN ('queued', 'running');
-- Optional idempotency key (e.g. 'suggestions:<review id>') for other kinds.
CREATE UNIQUE INDEX jobs_live_unique_key ON jobs (unique_key)
    WHERE unique_key IS NOT NULL AND state IN ('queued', 'running');

CREATE TRIGGER jobs_set_updated_at BEFORE UPDATE ON jobs
    FOR EACH ROW EXECUTE FUNCTION masterplan_set_updated_at();

COMMENT ON COLUMN jobs.attempts IS 'Claims so far (incremented by the claim); provider retries inside one claim do not count.';
COMMENT ON COLUMN jobs.run_after IS 'Not claimable before this time (backoff after a failed attempt).';
COMMENT ON COLUMN jobs.unique_key IS 'While queued or running, no other job may carry the same key.';
COMMENT ON COLUMN jobs.lease_owner IS 'Executor identity (host:pid:uuid) holding the job while running.';
COMMENT ON COLUMN jobs.lease_expires_at IS 'The executor renews this while working; past it, another executor may take the job over.';

CREATE FUNCTION masterplan_notify_job() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    -- Delivered at commit, and only if the transaction commits. The payload is only the id;
    -- executors claim through the table, never from the notification.
    PERFORM pg_notify('masterplan_jobs', NEW.id::text);
    RETURN NULL;
END;
$$;

COMMENT ON FUNCTION masterplan_notify_job() IS
    'AFTER trigger on jobs: NOTIFY masterplan_jobs with the job id when a job is inserted queued or becomes queued again.';

CREATE TRIGGER jobs_notify_insert AFTER INSERT ON jobs
    FOR EACH ROW WHEN (NEW.state = 'queued') EXECUTE FUNCTION masterplan_notify_job();

CREATE TRIGGER jobs_notify_requeue AFTER UPDATE OF state ON jobs
    FOR EACH ROW WHEN (NEW.state = 'queued' AND OLD.state IS DISTINCT FROM NEW.state)
    EXECUTE FUNCTION masterplan_notify_job();

-- llm_calls -----------------------------------------------------------------------------------

CREATE TABLE llm_calls (
    id                  uuid          PRIMARY KEY DEFAULT gen_random_uuid(),
    owner_id            uuid          REFERENCES users (id) ON DELETE RESTRICT,
    plan_id             uuid          REFERENCES masterplans (id) ON DELETE SET NULL,
    job_id              uuid          REFERENCES jobs (id) ON DELETE SET NULL,
    conversation_id     uuid          REFERENCES conversations (id) ON DELETE SET NULL,
    purpose             text          NOT NULL,
    provider            text          NOT NULL,
    model               text          NOT NULL,
    input_tokens        integer       NOT NULL DEFAULT 0,
    output_tokens       integer       NOT NULL DEFAULT 0,
    cached_tokens       integer       NOT NULL DEFAULT 0,
    cost_usd            numeric(14,6) NOT NULL DEFAULT 0,
    latency_ms          integer       NOT NULL,
    status              text          NOT NULL,
    error               text,
    provider_request_id text,
    created_at          timestamptz   NOT NULL DEFAULT now(),
    CONSTRAINT llm_calls_purpose_check  CHECK (purpose IN (
        'discovery',           -- domain discovery before the plan
        'masterplan',          -- plan generation (incl. regeneration with feedback)
        'plan_repair',         -- plan JSON sent back with validation errors
        'acceptance_tests',    -- test generation, when done as its own call
        'atom',                -- one atom attempt
        'gate_repair',         -- atom regenerated with failing test output
        'review_suggestions',  -- AI suggestions for a review
        'chat',                -- a chat reply
        'estimate'             -- cost/duration estimate before approval
    )),
    CONSTRAINT llm_calls_provider_check CHECK (provider IN ('anthropic', 'openai', 'openai-compatible')),
    CONSTRAINT llm_calls_model_check    CHECK (length(model) > 0),
    CONSTRAINT llm_calls_status_check   CHECK (status IN ('ok', 'error', 'timeout', 'cancelled')),
    CONSTRAINT llm_calls_error_check    CHECK ((status <> 'ok' OR error IS NULL)
                                               AND (status <> 'error' OR error IS NOT NULL)),
    CONSTRAINT llm_calls_tokens_check   CHECK (input_tokens >= 0 AND output_tokens >= 0 AND cached_tokens >= 0),
    CONSTRAINT llm_calls_cost_check     CHECK (cost_usd >= 0),
    CONSTRAINT llm_calls_latency_check  CHECK (latency_ms >= 0)
);

CREATE INDEX llm_calls_plan_idx    ON llm_calls (plan_id, created_at) WHERE plan_id IS NOT NULL;
CREATE INDEX llm_calls_purpose_idx ON llm_calls (purpose, created_at);
CREATE INDEX llm_calls_owner_idx   ON llm_calls (owner_id, created_at) WHERE owner_id IS NOT NULL;
CREATE INDEX llm_calls_job_idx     ON llm_calls (job_id) WHERE job_id IS NOT NULL;
CREATE INDEX llm_calls_conversation_idx ON llm_calls (conversation_id) WHERE conversation_id IS NOT NULL;
CREATE INDEX llm_calls_created_idx ON llm_calls (created_at);

COMMENT ON TABLE llm_calls IS
    'Append-only cost ledger: one row per LLM exchange (including failed ones), written in its own short transaction. '
    'Deleting a plan keeps its rows (plan_id becomes NULL) so spending stays accounted to owner_id.';
COMMENT ON COLUMN llm_calls.owner_id IS 'User the spending is attributed to (GET /usage); NULL only for operator tools.';
COMMENT ON COLUMN llm_calls.cached_tokens IS 'Prompt tokens served from the provider cache, as the provider reports them.';

CREATE FUNCTION masterplan_add_llm_cost() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE masterplans SET actual_cost_usd = actual_cost_usd + NEW.cost_usd WHERE id = NEW.plan_id;
    RETURN NULL;
END;
$$;

COMMENT ON FUNCTION masterplan_add_llm_cost() IS
    'AFTER INSERT trigger on llm_calls: adds the call''s cost to masterplans.actual_cost_usd in the same transaction.';

CREATE TRIGGER llm_calls_add_cost AFTER INSERT ON llm_calls
    FOR EACH ROW WHEN (NEW.plan_id IS NOT NULL AND NEW.cost_usd > 0)
    EXECUTE FUNCTION masterplan_add_llm_cost();
