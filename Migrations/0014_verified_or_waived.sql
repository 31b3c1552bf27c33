-- 0014_verified_or_waived.sql
--
-- "Completed" says how it was proven.
--
-- A wave whose Gate S failed and that a reviewer accepted anyway used to become 'passed', and the
-- plan then completed as if every test had passed. Now:
--   waves.status 'waived'     the gate failed and reviewers waived its failing tests with reasons;
--                             never shown as passed
--   test_waivers              each waived test: the wave, the review, the reason, who and when
--   gate_results.commit_sha   the workspace commit the gate's tests ran on, and
--   gate_results.final        whether it evaluated every acceptance test of the plan (the last wave,
--                             or the final gate after content was accepted later): a plan completes
--                             only when its final gate ran on the commit that is archived
--   masterplans.verification  set when the plan completes: 'verified' (every test passed on the
--                             final tree) or 'accepted_with_waivers' (some failing tests were waived)
--   acceptance_tests.cannot_fail  the test passed when it was tried against a workspace holding only
--                             the tests, before any code existed: it cannot fail, and the plan cannot
--                             be approved until it is regenerated or a person confirms it with a
--                             reason (cannot_fail_confirmation, by whom and when)

ALTER TABLE waves DROP CONSTRAINT waves_status_check;
ALTER TABLE waves DROP CONSTRAINT waves_started_check;
ALTER TABLE waves DROP CONSTRAINT waves_finished_check;
ALTER TABLE waves
    ADD CONSTRAINT waves_status_check   CHECK (status IN ('pending', 'running', 'gating', 'passed', 'failed', 'waived')),
    ADD CONSTRAINT waves_started_check  CHECK (status NOT IN ('running', 'gating', 'passed', 'failed', 'waived')
                                               OR started_at IS NOT NULL),
    ADD CONSTRAINT waves_finished_check CHECK (status NOT IN ('passed', 'failed', 'waived') OR finished_at IS NOT NULL);

ALTER TABLE gate_results
    ADD COLUMN commit_sha text,
    ADD COLUMN final      boolean NOT NULL DEFAULT false,
    ADD CONSTRAINT gate_results_commit_sha_check CHECK (commit_sha IS NULL OR commit_sha ~ '^([0-9a-f]{40}|[0-9a-f]{64})$');

COMMENT ON COLUMN gate_results.commit_sha IS 'Workspace commit whose tree the gate''s tests ran on.';
COMMENT ON COLUMN gate_results.final IS 'The gate evaluated every acceptance test of the plan.';

ALTER TABLE masterplans
    ADD COLUMN verification text,
    ADD CONSTRAINT masterplans_verification_check
        CHECK (verification IS NULL OR (status = 'completed' AND verification IN ('verified', 'accepted_with_waivers')));

COMMENT ON COLUMN masterplans.verification IS
    'How a completed plan was proven: verified (every acceptance test passed on the archived tree) or accepted_with_waivers.';

CREATE TABLE test_waivers (
    id         uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    plan_id    uuid        NOT NULL REFERENCES masterplans (id) ON DELETE CASCADE,
    test_id    uuid        NOT NULL,
    wave_id    uuid        NOT NULL,
    review_id  uuid,
    reason     text        NOT NULL,
    waived_by  uuid        REFERENCES users (id) ON DELETE SET NULL,
    waived_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT test_waivers_test_fkey   FOREIGN KEY (plan_id, test_id) REFERENCES acceptance_tests (plan_id, id) ON DELETE RESTRICT,
    CONSTRAINT test_waivers_wave_fkey   FOREIGN KEY (plan_id, wave_id) REFERENCES waves (plan_id, id) ON DELETE RESTRICT,
    CONSTRAINT test_waivers_review_fkey FOREIGN KEY (review_id) REFERENCES reviews (id) ON DELETE SET NULL,
    CONSTRAINT test_waivers_test_wave_key UNIQUE (test_id, wave_id),
    CONSTRAINT test_waivers_reason_check CHECK (length(btrim(reason)) > 0 AND octet_length(reason) <= 8192)
);

CREATE INDEX test_waivers_plan_idx ON test_waivers (plan_id, waived_at);

COMMENT ON TABLE test_waivers IS
    'Failing acceptance tests a reviewer accepted anyway, each with its written reason: a plan with any is accepted_with_waivers, never verified.';

ALTER TABLE acceptance_tests
    ADD COLUMN cannot_fail              boolean NOT NULL DEFAULT false,
    ADD COLUMN cannot_fail_output       text,
    ADD COLUMN cannot_fail_confirmation text,
    ADD COLUMN cannot_fail_confirmed_by uuid REFERENCES users (id) ON DELETE SET NULL,
    ADD COLUMN cannot_fail_confirmed_at timestamptz,
    ADD CONSTRAINT acceptance_tests_cannot_fail_output_check
        CHECK (cannot_fail_output IS NULL OR octet_length(cannot_fail_output) <= 65536),
    ADD CONSTRAINT acceptance_tests_confirmation_check
        CHECK ((cannot_fail_confirmation IS NULL) = (cannot_fail_confirmed_at IS NULL)
               AND (cannot_fail_confirmation IS NULL OR (cannot_fail AND length(btrim(cannot_fail_confirmation)) > 0
                                                        AND octet_length(cannot_fail_confirmation) <= 4096)));

COMMENT ON COLUMN acceptance_tests.cannot_fail IS
    'The test passed against a workspace holding only the tests, before any code existed: it proves nothing until confirmed.';
COMMENT ON COLUMN acceptance_tests.cannot_fail_confirmation IS
    'Why a person keeps a test that cannot fail (required before the plan can be approved).';
