-- 0008_review_application.sql
--
-- What the executor needs to apply reviews exactly once and to tell blocking reviews apart.
--
-- reviews.blocking   true for a review that stops its wave (an atom that never validated, or the
--                    atoms of a task whose acceptance tests still failed after the repair rounds);
--                    false for a low-confidence atom, which the plan runs past but cannot complete
--                    without.
-- reviews.applied_at set by the executor in the transaction that carries out a resolution
--                    (accepting, committing edited content, a new attempt, failing the task), so a
--                    restarted executor never applies a resolution twice.

ALTER TABLE reviews
    ADD COLUMN blocking   boolean     NOT NULL DEFAULT false,
    ADD COLUMN applied_at timestamptz,
    ADD CONSTRAINT reviews_applied_check CHECK (applied_at IS NULL OR status <> 'pending');

CREATE INDEX reviews_unapplied_idx ON reviews (plan_id) WHERE status <> 'pending' AND applied_at IS NULL;

COMMENT ON COLUMN reviews.blocking IS
    'True when the review stops its wave (an atom that never validated, or a Gate S failure after the repair rounds).';
COMMENT ON COLUMN reviews.applied_at IS
    'When the executor carried out the resolution; NULL while pending or resolved but not yet applied.';
