-- 0011_waivable_gate_reviews.sql
--
-- The executor sends the atoms of a task whose acceptance tests still fail after the repair rounds
-- to blocking reviews of kind 'atom' (one per atom, so each can be edited or regenerated), never to
-- reviews of kind 'gate'. A reviewer may also accept such a wave as it is, waiving its failing tests
-- with a written reason (POST /reviews/{id}/waive): allow 'waived' for a blocking atom review too.
-- Still never without a reason, and never for a low-confidence review (blocking false), which holds
-- no gate.

ALTER TABLE reviews DROP CONSTRAINT reviews_waiver_check;
ALTER TABLE reviews ADD CONSTRAINT reviews_waiver_check
    CHECK ((status = 'waived') = (waiver_reason IS NOT NULL)
           AND (status <> 'waived'
                OR ((kind = 'gate' OR (kind = 'atom' AND blocking AND wave_id IS NOT NULL))
                    AND length(btrim(waiver_reason)) > 0)));

COMMENT ON COLUMN reviews.waiver_reason IS
    'Why a failing gate was accepted anyway; set exactly when status = waived (a gate review, or a blocking atom review).';
