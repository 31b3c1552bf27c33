-- 0018_clarifying_questions.sql
--
-- Ask, don't assume. A discovery lists clarifying questions, each with the answer the model assumed.
-- A plan created by a person (the API's POST /masterplans and a chat's /masterplan, unless they set
-- ask_questions to false) now stops after a discovery that has questions, and waits for the person:
--   masterplans.status 'awaiting_answers'  generating -> awaiting_answers (the generator asked);
--                                          awaiting_answers -> generating (POST …/answer) or rejected
--   masterplans.ask_questions              whether generation stops for the discovery's questions;
--                                          false for rows that did not say (they were made to run
--                                          through, as every plan did before this migration)
--   discoveries.answers                    the answers the plan is built on, in question order:
--                                          [{question, answer, answered_by: person|assumption}];
--                                          NULL until the person answered (or chose the assumptions)

ALTER TABLE masterplans DROP CONSTRAINT masterplans_status_check;
ALTER TABLE masterplans DROP CONSTRAINT masterplans_generated_check;
ALTER TABLE masterplans
    ADD CONSTRAINT masterplans_status_check CHECK (status IN (
        'generating', 'awaiting_answers', 'draft', 'approved', 'rejected', 'generation_failed', 'queued',
        'executing', 'completed', 'failed', 'blocked', 'paused', 'cancelled')),
    -- A plan waiting for answers, or rejected while it waited, has no plan content yet.
    ADD CONSTRAINT masterplans_generated_check CHECK (status IN ('generating', 'awaiting_answers', 'generation_failed')
                                                      OR (status = 'rejected' AND generated_at IS NULL)
                                                      OR (project_name IS NOT NULL AND summary IS NOT NULL)),
    ADD COLUMN ask_questions boolean NOT NULL DEFAULT false;

COMMENT ON COLUMN masterplans.ask_questions IS
    'Generation stops after a discovery with clarifying questions (status awaiting_answers) until the person answers.';
COMMENT ON COLUMN masterplans.status IS
    'generating -> draft -> approved|rejected; generating -> awaiting_answers -> generating|rejected; draft -> generating '
    '(regenerate); approved -> queued -> executing -> completed|failed|blocked|paused|cancelled; blocked|paused|failed -> '
    'executing; generation_failed when generation gives up. PlanCore owns the transition rules; update with '
    'WHERE status = ANY(allowed sources).';

ALTER TABLE discoveries
    ADD COLUMN answers jsonb,
    ADD CONSTRAINT discoveries_answers_check CHECK (answers IS NULL OR jsonb_typeof(answers) = 'array');

COMMENT ON COLUMN discoveries.answers IS
    'The person''s answers to the clarifications, in order: [{question, answer, answered_by: person|assumption}]; '
    'NULL until answered. The planner''s prompt carries them.';
