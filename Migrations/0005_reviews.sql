-- 0005_reviews.sql
--
-- Creates the human-in-the-loop queue (DESIGN.md §6 "Confidence", "Reviews", "Gate failure"):
--   reviews   kind atom: a low-confidence atom (< 0.70) with AI suggestions, resolved by
--                        approve | edit | regenerate | reject;
--             kind gate: a task whose acceptance tests still fail after the repair rounds (plan
--                        blocked), resolved by edit (human fix) | regenerate | reject | waive,
--                        a waiver always carrying its reason.
-- At most one pending review per atom and per (wave, task), so an executor resuming after a crash
-- cannot queue the same review twice. A reviewer who resolved a review cannot be deleted.

CREATE TABLE reviews (
    id             uuid             PRIMARY KEY DEFAULT gen_random_uuid(),
    plan_id        uuid             NOT NULL REFERENCES masterplans (id) ON DELETE CASCADE,
    kind           text             NOT NULL DEFAULT 'atom',
    atom_id        uuid,
    task_id        uuid,
    wave_id        uuid,
    confidence     double precision,
    reason         text             NOT NULL,
    priority       text             NOT NULL,
    ai_suggestions jsonb,
    status         text             NOT NULL DEFAULT 'pending',
    reviewer_id    uuid             REFERENCES users (id) ON DELETE RESTRICT,
    feedback       text,
    edited_content text,
    waiver_reason  text,
    created_at     timestamptz      NOT NULL DEFAULT now(),
    updated_at     timestamptz      NOT NULL DEFAULT now(),
    resolved_at    timestamptz,
    CONSTRAINT reviews_atom_fkey        FOREIGN KEY (plan_id, atom_id)
                                        REFERENCES atoms (plan_id, id) ON DELETE RESTRICT,
    CONSTRAINT reviews_task_fkey        FOREIGN KEY (plan_id, task_id)
                                        REFERENCES tasks (plan_id, id) ON DELETE RESTRICT,
    CONSTRAINT reviews_wave_fkey        FOREIGN KEY (plan_id, wave_id)
                                        REFERENCES waves (plan_id, id) ON DELETE RESTRICT,
    CONSTRAINT reviews_kind_check       CHECK (kind IN ('atom', 'gate')),
    CONSTRAINT reviews_subject_check    CHECK ((kind = 'atom' AND atom_id IS NOT NULL AND task_id IS NULL
                                                AND confidence IS NOT NULL)
                                            OR (kind = 'gate' AND atom_id IS NULL AND task_id IS NOT NULL
                                                AND wave_id IS NOT NULL)),
    CONSTRAINT reviews_confidence_check CHECK (confidence IS NULL OR confidence BETWEEN 0 AND 1),
    CONSTRAINT reviews_reason_check     CHECK (length(btrim(reason)) > 0),
    CONSTRAINT reviews_priority_check   CHECK (priority IN ('high', 'medium')),
    CONSTRAINT reviews_ai_suggestions_check CHECK (ai_suggestions IS NULL
                                                   OR jsonb_typeof(ai_suggestions) IN ('object', 'array')),
    CONSTRAINT reviews_status_check     CHECK (status IN ('pending', 'approved', 'rejected', 'edited',
                                                          'regenerated', 'waived')),
    CONSTRAINT reviews_resolved_check   CHECK ((status = 'pending') = (resolved_at IS NULL)),
    CONSTRAINT reviews_reviewer_check   CHECK (status = 'pending' OR reviewer_id IS NOT NULL),
    CONSTRAINT reviews_edited_check     CHECK (status <> 'edited' OR edited_content IS NOT NULL),
    -- A waiver only lifts a gate, and never without a written reason.
    CONSTRAINT reviews_waiver_check     CHECK ((status = 'waived') = (waiver_reason IS NOT NULL)
                                               AND (status <> 'waived'
                                                    OR (kind = 'gate' AND length(btrim(waiver_reason)) > 0)))
);

CREATE UNIQUE INDEX reviews_one_pending_atom_key ON reviews (atom_id)
    WHERE status = 'pending' AND kind = 'atom';
CREATE UNIQUE INDEX reviews_one_pending_gate_key ON reviews (wave_id, task_id)
    WHERE status = 'pending' AND kind = 'gate';
CREATE INDEX reviews_status_idx      ON reviews (status, priority, created_at);
CREATE INDEX reviews_plan_status_idx ON reviews (plan_id, status);
CREATE INDEX reviews_atom_idx        ON reviews (atom_id) WHERE atom_id IS NOT NULL;
CREATE INDEX reviews_task_idx        ON reviews (task_id) WHERE task_id IS NOT NULL;
CREATE INDEX reviews_wave_idx        ON reviews (wave_id) WHERE wave_id IS NOT NULL;
CREATE INDEX reviews_reviewer_idx    ON reviews (reviewer_id) WHERE reviewer_id IS NOT NULL;

CREATE TRIGGER reviews_set_updated_at BEFORE UPDATE ON reviews
    FOR EACH ROW EXECUTE FUNCTION masterplan_set_updated_at();

COMMENT ON COLUMN reviews.kind IS 'atom: low-confidence atom; gate: task blocked by failing acceptance tests after repairs.';
COMMENT ON COLUMN reviews.confidence IS 'The atom''s confidence when the review was created (required for kind atom).';
COMMENT ON COLUMN reviews.priority IS 'high below confidence 0.50 (and for gate reviews), else medium.';
COMMENT ON COLUMN reviews.ai_suggestions IS 'Filled by a suggestions job; NULL until it has run.';
COMMENT ON COLUMN reviews.feedback IS 'Reviewer''s text: rejection reason or instructions for a regeneration.';
COMMENT ON COLUMN reviews.edited_content IS 'Human replacement content of the file (status edited).';
COMMENT ON COLUMN reviews.waiver_reason IS 'Why a failing gate was accepted anyway; set exactly when status = waived.';
